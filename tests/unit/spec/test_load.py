"""envspec.toml → Spec: every fixture spec, the values a user relies on, and the error wording."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from envspec.errors import EXIT_USER, SpecError, UserError
from envspec.spec.load import load_spec, parse_spec
from envspec.spec.model import DEFAULT_INDEX_URL, Spec
from envspec.spec.tomltext import LineLocator

SPECS = Path(__file__).resolve().parents[3] / "fixtures" / "specs"
VALID = sorted((SPECS / "valid").glob("*.toml"))
INVALID = sorted((SPECS / "invalid").glob("*.toml"))


def _load_valid(name: str, monkeypatch: pytest.MonkeyPatch) -> Spec:
    monkeypatch.chdir(SPECS / "valid")
    return load_spec(Path(f"{name}.toml"))


def test_there_are_enough_fixtures_and_each_invalid_one_has_its_message() -> None:
    assert len(VALID) >= 10 and len(INVALID) >= 20
    expected = sorted(p.stem for p in (SPECS / "invalid").glob("*.expected"))
    assert sorted(p.stem for p in INVALID) == expected


@pytest.mark.parametrize("spec_file", INVALID, ids=lambda p: p.stem)
def test_invalid_spec_reports_exactly_the_expected_paragraph(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = spec_file.with_suffix(".expected").read_text(encoding="utf-8").rstrip("\n")
    monkeypatch.chdir(spec_file.parent)
    with pytest.raises(SpecError) as caught:
        load_spec(Path(spec_file.name))
    assert str(caught.value) == expected
    assert caught.value.exit_code == EXIT_USER
    assert all(problem.path == Path(spec_file.name) for problem in caught.value.problems)
    # the pure parser says the same as the file loader
    with pytest.raises(SpecError) as parsed:
        parse_spec(spec_file.read_text(encoding="utf-8"), path=Path(spec_file.name))
    assert str(parsed.value) == expected


@pytest.mark.parametrize("spec_file", VALID, ids=lambda p: p.stem)
def test_valid_spec_loads_with_an_absolute_path(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(spec_file.parent)
    spec = load_spec(Path(spec_file.name))
    assert spec.path == spec_file
    assert spec.path.is_absolute()
    assert spec.project_dir == spec_file.parent


def test_minimal_spec_gets_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _load_valid("minimal", monkeypatch)
    assert spec.python == SpecifierSet("==3.12.*")
    assert "3.12.7" in spec.python and "3.13.0" not in spec.python
    assert spec.requirements == ()
    assert dict(spec.groups) == {}
    assert [(i.name, i.url, i.packages) for i in spec.indexes] == [
        ("pypi", DEFAULT_INDEX_URL, None)
    ]
    assert spec.resolution.prereleases == "if-necessary"
    assert spec.resolution.exclude_newer is None
    assert spec.venv_dir == SPECS / "valid" / ".venv"


@pytest.mark.parametrize(
    ("written", "meaning", "inside", "outside"),
    [
        ("3", "==3.*", "3.13.1", "4.0"),
        ("3.12", "==3.12.*", "3.12.9", "3.13.0"),
        ("3.12.1", "==3.12.1", "3.12.1", "3.12.2"),
        (">=3.11,<3.13", ">=3.11,<3.13", "3.12.0", "3.13.0"),
        ("~=3.11", "~=3.11", "3.13.0", "3.10.9"),
    ],
)
def test_python_bare_version_means_that_series(
    written: str, meaning: str, inside: str, outside: str
) -> None:
    spec = parse_spec(f'python = "{written}"\n', path=Path("envspec.toml"))
    assert spec.python == SpecifierSet(meaning)
    assert inside in spec.python and outside not in spec.python


def test_full_spec_keeps_every_value(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _load_valid("full", monkeypatch)
    assert [str(r) for r in spec.requirements] == [
        "requests>=2.31",
        "rich",
        'numpy>=2; python_version >= "3.11"',
    ]
    assert {name: [str(r) for r in reqs] for name, reqs in spec.groups.items()} == {
        "dev": ["pytest>=8", "ruff"]
    }
    assert spec.resolution.exclude_newer == datetime(2026, 11, 1, tzinfo=UTC)
    assert [str(c) for c in spec.resolution.constraints] == ["urllib3<3"]
    assert spec.resolution.requires_binary("anything")  # type: ignore[arg-type]


def test_toml_datetime_literal_is_converted_to_the_same_instant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = _load_valid("exclude-newer-toml-datetime", monkeypatch)
    assert spec.resolution.exclude_newer == datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
    assert spec.resolution.prereleases == "allow"


def test_a_date_means_midnight_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _load_valid("exclude-newer-date", monkeypatch)
    assert spec.resolution.exclude_newer == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def test_string_and_literal_exclude_newer_agree() -> None:
    as_string = parse_spec(
        'python = "3.12"\nresolution.exclude-newer = "2026-11-01T02:00:00+02:00"\n',
        path=Path("a.toml"),
    )
    as_literal = parse_spec(
        'python = "3.12"\nresolution.exclude-newer = 2026-11-01T00:00:00Z\n', path=Path("b.toml")
    )
    assert as_string.resolution.exclude_newer == as_literal.resolution.exclude_newer


def test_group_names_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _load_valid("groups-normalised", monkeypatch)
    assert list(spec.groups) == ["dev-tools", "docs-site"]
    assert [str(r) for r in spec.groups["dev-tools"]] == ["pytest>=8", "pytest-socket"]  # type: ignore[index]


def test_index_packages_and_only_binary_are_canonical(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _load_valid("private-index", monkeypatch)
    pytorch, local = spec.indexes
    assert sorted(pytorch.packages or ()) == ["torch", "torch-vision"]
    assert pytorch.url == "https://user:s3cret@download.example.org/whl/cpu"
    assert local.packages is None and local.url.startswith("file:")
    assert spec.resolution.only_binary == {"torch", "numpy"}
    assert not spec.resolution.requires_binary("requests")  # type: ignore[arg-type]


def test_dotted_keys_and_inline_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _load_valid("dotted-and-inline", monkeypatch)
    assert spec.venv_path == Path("envs/dev")
    assert spec.venv_dir == SPECS / "valid" / "envs" / "dev"
    assert spec.resolution.prereleases == "disallow"
    assert [i.name for i in spec.indexes] == ["mirror"]


def test_url_requirements_and_marker_split_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    urls = _load_valid("url-requirement", monkeypatch)
    assert [r.url for r in urls.requirements] == [
        "https://example.org/pkg-1.0-py3-none-any.whl",
        "https://example.org/other-2.0.tar.gz",
    ]
    split = _load_valid("marker-split", monkeypatch)
    assert [r.name for r in split.requirements] == ["numpy", "numpy"]


def test_missing_file_is_a_user_error_pointing_at_init(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        load_spec(tmp_path / "envspec.toml")
    assert not isinstance(caught.value, SpecError)
    assert str(tmp_path / "envspec.toml") in str(caught.value)
    assert caught.value.hint is not None and "envspec init" in caught.value.hint
    assert caught.value.exit_code == EXIT_USER


def test_a_directory_is_not_a_spec(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is a directory"):
        load_spec(tmp_path)


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "envspec.toml"
    path.write_bytes(b'python = "3.12"\nrequirements = ["caf\xe9"]\n')
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    (problem,) = caught.value.problems
    assert problem.line == 2 and "UTF-8" in problem.message


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "envspec.toml"
    path.write_bytes('\ufeffpython = "3.12"\n'.encode())
    assert load_spec(path).python == SpecifierSet("==3.12.*")


def test_parse_spec_never_reads_the_file() -> None:
    spec = parse_spec('python = "3.12"\n', path=Path("/nowhere/at/all/envspec.toml"))
    assert spec.path == Path("/nowhere/at/all/envspec.toml")


def test_syntax_error_at_end_of_document_still_has_a_line() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec('python = "3.12"\nrequirements = ', path=Path("envspec.toml"))
    (problem,) = caught.value.problems
    assert problem.line == 2 and problem.key_path == ""
    assert str(problem).startswith("envspec.toml:2: invalid TOML: ")


def test_problems_are_listed_in_file_order() -> None:
    text = "[resolution]\nprereleases = 1\n\n[venv]\npath = 2\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(text, path=Path("envspec.toml"))
    assert [(p.line, p.key_path) for p in caught.value.problems] == [
        (None, ""),
        (2, "resolution.prereleases"),
        (5, "venv.path"),
    ]


def test_line_locator_follows_toml_structure() -> None:
    text = "\n".join(  # noqa: FLY002 - one line per row, numbered
        [
            'python = "3.12"  # [not a table]',  # 1
            "requirements = [",  # 2
            '  "a",  # "quoted], comma"',  # 3
            "  '''b",  # 4
            "  ]''',",  # 5
            '  "c",',  # 6
            "]",  # 7
            "[[index]]",  # 8
            'name = "x"',  # 9
            "[[index]]",  # 10
            'inline = { url = "u", packages = [',  # 11
            '  "p"] }',  # 12
            "[resolution]",  # 13
            "a.b.c = 1",  # 14
            '"quoted key" = [1, [2, 3]]',  # 15
        ]
    )
    locator = LineLocator(text)
    assert locator.line_of(("requirements", 0)) == 3
    assert locator.line_of(("requirements", 1)) == 4
    assert locator.line_of(("requirements", 2)) == 6
    assert locator.line_of(("index", 0, "name")) == 9
    assert locator.line_of(("index", 1)) == 10
    assert locator.line_of(("index", 1, "inline", "packages", 0)) == 12
    assert locator.line_of(("resolution", "a", "b", "c")) == 14
    assert locator.line_of(("resolution", "quoted key", 1, 0)) == 15
    # unknown paths fall back to the nearest parent, then to nothing
    assert locator.line_of(("index", 0, "missing")) == 8
    assert locator.line_of(("nothing",)) is None


def _leaf_paths(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict):
        return [
            p
            for key, item in value.items()
            for p in [(*path, key), *_leaf_paths(item, (*path, key))]
        ]
    if isinstance(value, list):
        return [
            p for n, item in enumerate(value) for p in [(*path, n), *_leaf_paths(item, (*path, n))]
        ]
    return []


@pytest.mark.parametrize(
    "spec_file",
    [p for p in VALID + INVALID if not p.stem.startswith("toml-")],
    ids=lambda p: p.stem,
)
def test_line_locator_finds_every_key_and_element_of_every_fixture(spec_file: Path) -> None:
    text = spec_file.read_text(encoding="utf-8")
    locator = LineLocator(text)
    missing = [p for p in _leaf_paths(tomllib.loads(text)) if p not in locator.lines]
    assert missing == []
