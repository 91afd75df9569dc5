"""pyproject.toml as the spec: the same Spec as envspec.toml, errors located where the user wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from envspec.errors import EXIT_USER, SpecError, UserError
from envspec.spec.pyproject import load_pyproject_spec, parse_pyproject_spec
from envspec.spec.load import parse_spec
from envspec.spec.model import DEFAULT_INDEX_URL

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "pyproject"
VALID = sorted((FIXTURES / "valid").glob("*.toml"))
INVALID = sorted((FIXTURES / "invalid").glob("*.toml"))


def _names(requirements: tuple[object, ...]) -> list[str]:
    return [str(requirement) for requirement in requirements]


def test_fixtures_exist_and_each_invalid_one_has_its_message() -> None:
    assert len(VALID) >= 3 and len(INVALID) >= 8
    expected = sorted(p.stem for p in (FIXTURES / "invalid").glob("*.expected"))
    assert sorted(p.stem for p in INVALID) == expected


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_pyproject_reports_exactly_the_expected_paragraph(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").rstrip("\n")
    monkeypatch.chdir(path.parent)
    with pytest.raises(SpecError) as caught:
        load_pyproject_spec(Path(path.name))
    assert str(caught.value) == expected
    assert caught.value.exit_code == EXIT_USER
    with pytest.raises(SpecError) as parsed:
        parse_pyproject_spec(path.read_text(encoding="utf-8"), path=Path(path.name))
    assert str(parsed.value) == expected


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_pyproject_loads_with_its_directory_as_the_project(path: Path) -> None:
    spec = load_pyproject_spec(path)
    assert spec.path == path and spec.project_dir == path.parent


def test_full_pyproject_gives_every_part_of_the_spec() -> None:
    spec = load_pyproject_spec(FIXTURES / "valid" / "full.toml")
    assert spec.python == SpecifierSet(">=3.11,<3.13")
    assert _names(spec.requirements) == [
        "requests>=2.31",
        "rich",
        'numpy>=2; python_version >= "3.11"',
    ]
    assert {name: _names(reqs) for name, reqs in spec.groups.items()} == {
        "test": ["pytest>=8", "coverage"],
        "lint": ["ruff"],
        "dev": ["pytest>=8", "coverage", "ruff", "ipython"],  # includes expanded in place
    }
    assert [(index.name, index.url) for index in spec.indexes] == [
        ("internal", "https://pypi.example.com/simple"),
        ("pypi", "https://pypi.org/simple"),
    ]
    assert spec.indexes[0].packages == frozenset({"demo-internal"})
    assert spec.resolution.prereleases == "disallow"
    assert spec.resolution.exclude_newer == datetime(2026, 1, 1, tzinfo=UTC)
    assert _names(spec.resolution.constraints) == ["urllib3<3"]
    assert spec.resolution.requires_binary("anything")  # type: ignore[arg-type]
    assert spec.venv_dir == spec.project_dir / ".venv-demo"


def test_the_same_content_gives_the_same_spec_as_envspec_toml() -> None:
    pyproject = """
[project]
name = "x"
version = "1"
requires-python = ">=3.10"
dependencies = ["requests>=2", "rich; sys_platform == 'linux'"]

[dependency-groups]
dev = ["pytest>=8"]

[tool.envspec.resolution]
prereleases = "allow"
"""
    envspec_toml = """
python = ">=3.10"
requirements = ["requests>=2", "rich; sys_platform == 'linux'"]
[groups]
dev = ["pytest>=8"]
[resolution]
prereleases = "allow"
"""
    from_pyproject = parse_pyproject_spec(pyproject, path=Path("/p/pyproject.toml"))
    from_spec = parse_spec(envspec_toml, path=Path("/p/envspec.toml"))
    assert from_pyproject.python == from_spec.python
    assert from_pyproject.requirements == from_spec.requirements
    assert dict(from_pyproject.groups) == dict(from_spec.groups)
    assert from_pyproject.indexes == from_spec.indexes
    assert from_pyproject.resolution == from_spec.resolution
    assert from_pyproject.venv_dir == from_spec.venv_dir


def test_without_tool_envspec_the_defaults_apply() -> None:
    spec = load_pyproject_spec(FIXTURES / "valid" / "minimal.toml")
    assert spec.python == SpecifierSet("==3.12.*")
    assert spec.requirements == () and dict(spec.groups) == {}
    assert [index.url for index in spec.indexes] == [DEFAULT_INDEX_URL]
    assert spec.venv_path == Path(".venv")


def test_requirements_reached_twice_through_includes_are_kept() -> None:
    spec = load_pyproject_spec(FIXTURES / "valid" / "include-chain.toml")
    assert _names(spec.groups["all"]) == ["pytest", "ruff", "pytest>=8.1"]  # type: ignore[index]
    assert _names(spec.groups["base"]) == ["pytest"]  # type: ignore[index]


def test_a_self_include_is_a_cycle() -> None:
    text = (
        '[project]\nrequires-python = ">=3.11"\n[dependency-groups]\na = [{include-group = "A"}]\n'
    )
    with pytest.raises(SpecError) as caught:
        parse_pyproject_spec(text, path=Path("pyproject.toml"))
    (problem,) = caught.value.problems
    assert problem.key_path == "dependency-groups.a[0].include-group"
    assert problem.line == 4
    assert "a → a" in problem.message


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = (
        "[project]\n"
        'dependencies = ["ok", "bad!!"]\n'
        "[dependency-groups]\n"
        'dev = [{include-group = "nope"}]\n'
        "[tool.envspec]\n"
        "requirments = []\n"
    )
    with pytest.raises(SpecError) as caught:
        parse_pyproject_spec(text, path=Path("pyproject.toml"))
    found = [(problem.line, problem.key_path) for problem in caught.value.problems]
    assert found == [
        (1, "project"),
        (2, "project.dependencies[1]"),
        (4, "dependency-groups.dev[0].include-group"),
        (6, "tool.envspec"),
    ]
    assert "unknown key 'requirments'" in caught.value.problems[-1].message


def test_a_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no pyproject.toml"):
        load_pyproject_spec(tmp_path / "pyproject.toml")


def test_a_file_that_is_not_utf8_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b'[project]\nrequires-python = ">=3.11"\nname = "\xff"\n')
    with pytest.raises(SpecError) as caught:
        load_pyproject_spec(path)
    assert caught.value.problems[0].line == 3
