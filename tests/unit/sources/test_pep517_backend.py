"""read_build_system: PEP 517/518 rules, pip's defaults, and clear errors for broken tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

from envspec.sources.pep517 import (
    DEFAULT_BUILD_SYSTEM,
    LEGACY_BACKEND,
    BuildSystem,
    InvalidBuildSystem,
    read_build_system,
)
from envspec.errors import EXIT_OUTSIDE


def tree(tmp_path: Path, pyproject: str | None) -> Path:
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return tmp_path


def test_no_pyproject_is_setuptools_legacy(tmp_path: Path) -> None:
    system = read_build_system(tree(tmp_path, None))
    assert system == DEFAULT_BUILD_SYSTEM
    assert system.backend == "setuptools.build_meta:__legacy__"
    assert [str(r) for r in system.requires] == ["setuptools>=40.8.0"]


def test_pyproject_without_build_system_is_the_default(tmp_path: Path) -> None:
    assert read_build_system(tree(tmp_path, '[project]\nname = "x"\n')) == DEFAULT_BUILD_SYSTEM


def test_requires_without_backend_keeps_requires_and_uses_legacy(tmp_path: Path) -> None:
    system = read_build_system(
        tree(tmp_path, '[build-system]\nrequires = ["setuptools>=61", "cython<3"]\n')
    )
    assert system.backend == LEGACY_BACKEND
    assert [str(r) for r in system.requires] == ["setuptools>=61", "cython<3"]


def test_full_table(tmp_path: Path) -> None:
    system = read_build_system(
        tree(
            tmp_path,
            "[build-system]\n"
            'requires = ["flit_core >=3.4,<4", "tomli; python_version < \'3.11\'"]\n'
            'build-backend = "flit_core.buildapi"\n'
            'backend-path = ["_build", "tools/../backend"]\n',
        )
    )
    assert system == BuildSystem(
        requires=(Requirement("flit_core>=3.4,<4"), Requirement("tomli; python_version < '3.11'")),
        backend="flit_core.buildapi",
        backend_path=("_build", "tools/../backend"),
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[build-system\n", "not valid TOML"),
        ('build-system = "setuptools"\n', "must be a table, not a string"),
        ('[build-system]\nbuild-backend = "x"\n', "no 'requires' key"),
        ('[build-system]\nrequires = "setuptools"\n', "requires must be a list of strings"),
        ("[build-system]\nrequires = [1]\n", "requires must be a list of strings"),
        ('[build-system]\nrequires = ["ok", "not a req!!"]\n', "requires[1] 'not a req!!'"),
        ("[build-system]\nrequires = []\nbuild-backend = 3\n", "must be a string, not a int"),
        ('[build-system]\nrequires = []\nbuild-backend = "a b"\n', "'a b' is not of the form"),
        (
            '[build-system]\nrequires = []\nbuild-backend = "b"\nbackend-path = ["../out"]\n',
            "'../out' must be a path inside the tree",
        ),
        (
            '[build-system]\nrequires = []\nbuild-backend = "b"\nbackend-path = ["/abs"]\n',
            "'/abs' must be a path inside the tree",
        ),
    ],
)
def test_invalid_tables_name_the_file_and_the_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(InvalidBuildSystem) as caught:
        read_build_system(tree(tmp_path, text))
    message = str(caught.value)
    assert str(tmp_path / "pyproject.toml") in message
    assert problem in message
    assert caught.value.exit_code == EXIT_OUTSIDE


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[build-system]\nrequires = ['\xff']\n")
    with pytest.raises(InvalidBuildSystem, match="not UTF-8"):
        read_build_system(tmp_path)
