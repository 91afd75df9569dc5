"""`envspec sync` against hostile packages on a real (loopback) index, and venvs sharing the
unpacked-wheel cache: what a user sees, end to end."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from envspec.errors import EXIT_DRIFT, EXIT_OUTSIDE
from tests.support.cli import Project
from tests.support.fixtures import IndexServerFactory
from tests.support.hostile_wheels import hostile_universe, member_wheel, script_wheel
from tests.support.wheels import Artifact

pytestmark = pytest.mark.slow


def _serve(index_server: IndexServerFactory, artifact: Artifact) -> str:
    universe, built = hostile_universe(artifact)
    return index_server(universe, built=built).url


def _python_works(project: Project) -> None:
    python = project.root / ".venv" / "bin" / "python"
    done = subprocess.run([str(python), "-c", "print('ok')"], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize("attack", ["script out of the venv", "script named python", "data bin/python"])
def test_sync_refuses_a_hostile_wheel_and_writes_nothing_outside(
    tmp_path: Path, index_server: IndexServerFactory, attack: str
) -> None:
    project_root = tmp_path / "proj"
    outside = tmp_path / "outside"
    outside.mkdir()
    if attack == "script out of the venv":
        path = os.path.relpath(outside / "out-script", project_root / ".venv" / "bin")
        artifact = script_wheel(path)
    elif attack == "script named python":
        path = "python"
        artifact = script_wheel(path)
    else:
        path = "evil-1.0.data/data/bin/python"
        artifact = member_wheel({path: b"#!/bin/sh\necho owned\n"})
    project = Project(project_root, _serve(index_server, artifact))
    project.write_spec('python = "3.12"\nrequirements = ["evil"]\n')

    done = project.envspec("sync")
    assert done.returncode == EXIT_OUTSIDE, done.stderr
    assert "Traceback" not in done.stderr
    assert "evil" in done.stderr and repr(path) in done.stderr
    assert list(outside.iterdir()) == []
    site = next((project_root / ".venv" / "lib").glob("python3.*/site-packages"))
    assert not list(site.glob("evil*"))  # nothing of it installed
    _python_works(project)


def test_an_edit_in_one_venv_never_reaches_a_venv_synced_later(
    tmp_path: Path, index_server: IndexServerFactory
) -> None:
    url = index_server("basic").url
    first = Project(tmp_path / "a", url)
    second = Project(tmp_path / "b", url)
    for project in (first, second):
        project.write_spec('python = "3.12"\nrequirements = ["lib-b"]\n')
    assert first.envspec("sync").returncode == 0

    module = next((first.root / ".venv").glob("lib/python3.*/site-packages/lib_b/__init__.py"))
    original = module.read_bytes()
    with module.open("r+b") as handle:  # in place: the inode (shared with the cache) is kept
        handle.write(b"#")

    done = second.envspec("sync")
    assert done.returncode == 0, done.stderr
    copy = next((second.root / ".venv").glob("lib/python3.*/site-packages/lib_b/__init__.py"))
    assert copy.read_bytes() == original
    assert second.envspec("check").returncode == 0
    assert first.envspec("check").returncode == EXIT_DRIFT


def test_link_mode_copy_from_the_spec_or_the_command_line(
    tmp_path: Path, index_server: IndexServerFactory
) -> None:
    url = index_server("basic").url
    by_spec = Project(tmp_path / "spec", url)
    by_spec.write_spec('python = "3.12"\nrequirements = ["lib-b"]\n\n[venv]\nlink-mode = "copy"\n')
    by_flag = Project(tmp_path / "flag", url)
    by_flag.write_spec('python = "3.12"\nrequirements = ["lib-b"]\n')
    assert by_spec.envspec("sync").returncode == 0
    assert by_flag.envspec("sync", "--link-mode", "copy").returncode == 0
    for project in (by_spec, by_flag):
        module = next((project.root / ".venv").glob("lib/python3.*/site-packages/lib_b/__init__.py"))
        assert module.stat().st_nlink == 1  # a copy: nothing shared with the cache
        assert project.envspec("check").returncode == 0
    bad = by_flag.envspec("sync", "--link-mode", "symlink")
    assert bad.returncode == 2 and "symlink" in bad.stderr
