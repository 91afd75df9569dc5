"""The schema file is the authority: envspec.spec.schema agrees with the reference validator on it."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from envspec.spec import schema as schema_module
from envspec.spec.parse import parse_date_time_or_date
from envspec.spec.schema import (
    FORMAT_CHECKERS,
    format_key_path,
    json_compatible,
    load_schema,
    schema_path,
    validate,
)

SPECS = Path(__file__).resolve().parents[3] / "fixtures" / "specs"
PARSEABLE = [
    path
    for path in sorted(SPECS.glob("*/*.toml"))
    if not path.stem.startswith("toml-")  # syntax-error fixtures never reach the schema
]


def _document(path: Path) -> Any:
    return json_compatible(tomllib.loads(path.read_text(encoding="utf-8")))


def _reference(*, formats: bool) -> jsonschema.Draft202012Validator:
    checker = None
    if formats:
        checker = jsonschema.FormatChecker(formats=())
        for name, check in FORMAT_CHECKERS.items():
            checker.checks(name)(
                lambda value, check=check: not isinstance(value, str) or check(value) is None
            )
    return jsonschema.Draft202012Validator(dict(load_schema()), format_checker=checker)


def _nodes(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def test_schema_is_a_valid_draft_2020_12_schema_with_help_text() -> None:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(dict(schema))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    for name, prop in schema["properties"].items():
        assert prop.get("description") and prop.get("title"), name


@pytest.mark.parametrize("spec_file", PARSEABLE, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_schema_module_agrees_with_jsonschema_on_shape(spec_file: Path) -> None:
    document = _document(spec_file)
    reference = {
        tuple(error.absolute_path) for error in _reference(formats=False).iter_errors(document)
    }
    ours = {problem.path for problem in validate(document) if problem.keyword != "format"}
    assert ours == reference


@pytest.mark.parametrize("spec_file", PARSEABLE, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_schema_module_agrees_with_jsonschema_including_formats(spec_file: Path) -> None:
    document = _document(spec_file)
    reference = {
        tuple(error.absolute_path) for error in _reference(formats=True).iter_errors(document)
    }
    assert {problem.path for problem in validate(document)} == reference


def test_every_valid_fixture_fits_the_schema_and_most_invalid_ones_do_not() -> None:
    for path in PARSEABLE:
        problems = validate(_document(path))
        if path.parent.name == "valid":
            assert problems == [], path
    invalid = [path for path in PARSEABLE if path.parent.name == "invalid"]
    assert sum(bool(validate(_document(path))) for path in invalid) >= 15


def test_every_format_the_schema_names_has_a_checker_and_no_checker_is_unused() -> None:
    used = {node["format"] for node in _nodes(load_schema()) if isinstance(node.get("format"), str)}
    assert used == set(FORMAT_CHECKERS)


def test_a_keyword_the_interpreter_does_not_know_fails_loudly() -> None:
    with pytest.raises(ValueError, match="maxLength"):
        validate("abc", {"type": "string", "maxLength": 2})


def test_schema_file_prefers_the_copy_shipped_in_the_wheel(tmp_path: Path) -> None:
    package = tmp_path / "site-packages" / "envspec"
    (package / "_schemas").mkdir(parents=True)
    assert schema_path(package) == tmp_path / "site-packages" / "schemas" / "envspec.schema.json"
    (package / "_schemas" / "envspec.schema.json").write_text("{}")
    assert schema_path(package) == package / "_schemas" / "envspec.schema.json"


def test_schema_is_read_once() -> None:
    assert load_schema() is load_schema()
    assert schema_path().name == "envspec.schema.json" and schema_path().is_file()


@pytest.mark.parametrize(
    ("value", "schema", "message"),
    [
        (42, {"type": "string"}, 'expected a string, got an integer (42); put it in quotes: "42"'),
        (True, {"type": "array"}, "expected an array, got a boolean (true)"),
        (
            {},
            {"type": "array", "items": {"type": "object"}},
            "expected an array of tables, got a table",
        ),
        ("x", {"type": "object"}, "expected a table, got a string ('x')"),
        (
            "alow",
            {"enum": ["allow", "disallow"]},
            "expected one of 'allow', 'disallow', got 'alow' — did you mean 'allow'?",
        ),
        ("zzz", {"enum": ["allow", "disallow"]}, "expected one of 'allow', 'disallow', got 'zzz'"),
        ("", {"type": "string", "minLength": 1}, "must not be empty"),
        (
            "a b",
            {"type": "string", "pattern": "^[a-z]+$"},
            "expected text matching '^[a-z]+$', got 'a b'",
        ),
    ],
)
def test_messages_use_toml_words(value: Any, schema: dict[str, Any], message: str) -> None:
    (problem,) = validate(value, schema)
    assert problem.message == message


def test_unknown_keys_get_a_suggestion_only_when_one_is_close() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"python": {}, "venv": {}},
    }
    problems = validate({"Python": "3", "colour": 1}, schema)
    assert [(p.path, p.at, p.message) for p in problems] == [
        ((), ("Python",), "unknown key 'Python' — did you mean 'python'?"),
        ((), ("colour",), "unknown key 'colour'"),
    ]


def test_key_paths_read_like_toml() -> None:
    assert format_key_path(("index", 1, "url")) == "index[1].url"
    assert format_key_path(("groups", "dev", 0)) == "groups.dev[0]"
    assert format_key_path(("groups", "my group")) == 'groups."my group"'
    assert format_key_path(()) == ""


def test_toml_dates_become_rfc3339_strings() -> None:
    document = json_compatible(
        {
            "a": [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)],
            "b": {"c": date(2026, 1, 2)},
            "d": time(1, 2),
        }
    )
    assert document == {
        "a": ["2026-01-02T03:04:05+00:00"],
        "b": {"c": "2026-01-02"},
        "d": "01:02:00",
    }


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-11-01T00:00:00Z", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01t01:30:00.5+01:30", datetime(2026, 11, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("2026-11-01 00:00:00-01:00", datetime(2026, 11, 1, 1, tzinfo=UTC)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
    ],
)
def test_exclude_newer_instants(text: str, instant: datetime) -> None:
    assert parse_date_time_or_date(text) == instant


@pytest.mark.parametrize("text", ["2026-11-01T00:00:00", "20261101T000000Z", "2026-13-01", "soon"])
def test_exclude_newer_rejects(text: str) -> None:
    reason = FORMAT_CHECKERS["date-time-or-date"](text)
    assert reason is not None and repr(text) in reason


def test_index_url_messages_never_show_the_password() -> None:
    reason = FORMAT_CHECKERS["index-url"]("ftp://user:hunter2@example.org/simple")
    assert reason is not None and "hunter2" not in reason and "***@example.org" in reason
    assert FORMAT_CHECKERS["index-url"]("https://user:hunter2@example.org/simple") is None
    assert FORMAT_CHECKERS["index-url"]("http://127.0.0.1:8080/simple") is None
    assert FORMAT_CHECKERS["index-url"]("https://example.org:99999/simple") is not None


def test_module_exports_what_it_declares() -> None:
    assert all(hasattr(schema_module, name) for name in schema_module.__all__)
