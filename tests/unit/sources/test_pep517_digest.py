"""source_digest: stable across copies and runs, sensitive to inputs, blind to build leftovers."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from envspec.sources.pep517 import SourceUnreadable, source_digest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src" / "proj").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "1"\n')
    (root / "src" / "proj" / "__init__.py").write_text("X = 1\n")
    (root / "src" / "proj" / "build").mkdir()  # a subpackage named build is code
    (root / "src" / "proj" / "build" / "__init__.py").write_text("")
    (root / "run.sh").write_text("#!/bin/sh\n")
    return root


def both(root: Path) -> tuple[str, str]:
    return source_digest(root, editable=False), source_digest(root, editable=True)


def test_format_and_stability_across_copies_and_mtimes(project: Path, tmp_path: Path) -> None:
    first = both(project)
    assert all(d.startswith("sha256:") and len(d) == 7 + 64 for d in first)
    copy = Path(shutil.copytree(project, tmp_path / "elsewhere" / "other-name"))
    os.utime(copy / "pyproject.toml", (1, 1))
    assert both(copy) == first
    assert both(project) == first


def test_editable_and_tree_digests_differ(project: Path) -> None:
    tree, editable = both(project)
    assert tree != editable


def test_a_code_change_changes_the_tree_digest_but_not_the_editable_one(project: Path) -> None:
    tree, editable = both(project)
    (project / "src" / "proj" / "__init__.py").write_text("X = 2\n")
    assert source_digest(project, editable=False) != tree
    assert source_digest(project, editable=True) == editable


def test_a_nested_build_package_is_an_input(project: Path) -> None:
    tree = source_digest(project, editable=False)
    (project / "src" / "proj" / "build" / "__init__.py").write_text("Y = 1\n")
    assert source_digest(project, editable=False) != tree


@pytest.mark.parametrize("name", ["pyproject.toml", "setup.cfg", "setup.py"])
def test_metadata_files_change_both(project: Path, name: str) -> None:
    tree, editable = both(project)
    (project / name).write_text("# changed\n")
    new_tree, new_editable = both(project)
    assert new_tree != tree and new_editable != editable


def test_new_file_and_renamed_file_change_the_tree_digest(project: Path) -> None:
    tree = source_digest(project, editable=False)
    (project / "src" / "proj" / "extra.py").write_text("")
    added = source_digest(project, editable=False)
    assert added != tree
    (project / "src" / "proj" / "extra.py").rename(project / "src" / "proj" / "other.py")
    assert source_digest(project, editable=False) not in (tree, added)


def test_executable_bit_is_an_input(project: Path) -> None:
    tree = source_digest(project, editable=False)
    (project / "run.sh").chmod(0o755)
    assert source_digest(project, editable=False) != tree


def test_leftovers_of_builds_tools_and_venvs_are_skipped(project: Path) -> None:
    tree, editable = both(project)
    junk = [
        ".git/HEAD",
        ".venv/lib/site.py",
        "venv/x",
        "env-with-any-name/pyvenv.cfg",
        "env-with-any-name/lib/x.py",
        "src/proj/__pycache__/x.cpython-311.pyc",
        "src/proj/stale.pyc",
        "build/lib/proj/__init__.py",
        "dist/proj-1.tar.gz",
        "src/proj.egg-info/PKG-INFO",
        ".tox/py311/x",
        ".nox/x",
        ".mypy_cache/x",
        ".pytest_cache/x",
        ".ruff_cache/x",
        "node_modules/x/index.js",
    ]
    for relative in junk:
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("junk")
    assert both(project) == (tree, editable)


def test_symlinks_are_hashed_by_target_not_followed(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("one")
    (project / "link").symlink_to(outside)
    (project / "dirlink").symlink_to(tmp_path)  # would recurse forever if followed
    tree = source_digest(project, editable=False)
    outside.write_text("two")
    assert source_digest(project, editable=False) == tree
    (project / "link").unlink()
    (project / "link").symlink_to(tmp_path / "other.txt")
    assert source_digest(project, editable=False) != tree


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceUnreadable, match="not a directory"):
        source_digest(tmp_path / "nope", editable=False)
