"""The spec's shape, checked against ``schemas/envspec.schema.json`` and nothing else.

The JSON Schema file is the single authority for what an ``envspec.toml`` may contain (STYLE.md
rule 5): editors read it for completion and help, and this module interprets it for the loader. To
keep it that way, this is a small interpreter of exactly the keywords the schema uses, not a second
copy of the rules; a keyword it does not know makes it fail loudly instead of silently skipping a
rule. ``tests/unit/test_schema.py`` proves that it agrees with the reference validator
(``jsonschema``, a test dependency only) on every spec in ``fixtures/specs/``.

Checks JSON Schema cannot express (is this a valid PEP 508 requirement?) are declared in the schema
as ``format`` names; :data:`FORMAT_CHECKERS` maps each name to a checker built on ``packaging`` that
returns the reason a value is wrong: the matching ``parse_*`` function of :mod:`envspec.spec.parse`,
which turns an accepted value into its typed form, so checking and converting can never disagree.

Messages are written for someone editing a TOML file: "expected a string, got an integer (42)",
"unknown key 'requirments' — did you mean 'requirements'?", never schema jargon.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeAlias

from envspec.spec.parse import (
    parse_constraint,
    parse_date_time_or_date,
    parse_direct_url,
    parse_environment_marker,
    parse_index_url,
    parse_python_specifier,
    parse_requirement,
)

__all__ = [
    "FORMAT_CHECKERS",
    "KeyPath",
    "SchemaProblem",
    "format_key_path",
    "json_compatible",
    "load_schema",
    "schema_path",
    "validate",
]

KeyPath: TypeAlias = tuple[str | int, ...]
"""A location in the document: table keys and array indexes, outermost first."""

SCHEMA_FILENAME = "envspec.schema.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaProblem:
    """One way the document does not fit the schema."""

    path: KeyPath
    """Where the problem is reported: the value that is wrong, or the table missing/having a key."""
    message: str
    keyword: str
    """The schema keyword that failed (``type``, ``format``, ``additionalProperties``, ...)."""
    at: KeyPath | None = None
    """The exact key or element concerned, when more precise than ``path`` (for line numbers)."""


# ── where the schema lives ────────────────────────────────────────────────────────────────────


def schema_path(package_dir: Path | None = None) -> Path:
    """The schema file: shipped inside installed wheels as ``envspec/_schemas``, else the repo's."""
    if package_dir is None:
        import envspec

        package_dir = Path(envspec.__file__).parent
    installed = package_dir / "_schemas" / SCHEMA_FILENAME
    if installed.is_file():
        return installed
    return package_dir.parent / "schemas" / SCHEMA_FILENAME


@functools.cache
def load_schema() -> Mapping[str, Any]:
    """The parsed schema, read once per process and only when a spec is first validated."""
    loaded: Mapping[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    return loaded


# ── the TOML data model as JSON sees it ──────────────────────────────────────────────────────


def json_compatible(value: Any) -> Any:
    """TOML data as JSON data: date and time literals become their RFC 3339 text.

    TOML's date-time literals *are* RFC 3339, so ``exclude-newer = 2026-11-01T00:00:00Z`` and
    ``exclude-newer = "2026-11-01T00:00:00Z"`` validate and load the same way, and the schema only
    ever sees JSON types (as editors and the reference validator do).
    """
    if isinstance(value, dict):
        return {key: json_compatible(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_compatible(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def format_key_path(path: KeyPath) -> str:
    """``("index", 1, "url")`` → ``index[1].url``; keys that are not bare TOML keys are quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        key = (
            part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part, ensure_ascii=False)
        )
        text += f".{key}" if text else key
    return text


# ── format checkers: the semantic string checks the schema declares ──────────────────────────


def _checker(parse: Callable[[str], object]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        try:
            parse(value)
        except ValueError as error:
            return str(error)
        return None

    check.__doc__ = f"The reason {parse.__name__} rejects a value, or None when it accepts it."
    return check


FORMAT_CHECKERS: Mapping[str, Callable[[str], str | None]] = {
    "pep508-requirement": _checker(parse_requirement),
    "pep508-constraint": _checker(parse_constraint),
    "pep440-specifier-or-version": _checker(parse_python_specifier),
    "pep508-environment-marker": _checker(parse_environment_marker),
    "date-time-or-date": _checker(parse_date_time_or_date),
    "index-url": _checker(parse_index_url),
    "direct-url": _checker(parse_direct_url),
}
"""Each ``format`` the schema uses → a function returning why a string is wrong (None if fine)."""


# ── the interpreter ──────────────────────────────────────────────────────────────────────────

# Keywords that only annotate (help text for editors); they never make a document invalid.
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "default",
        "examples",
        "patternErrorMessage",
    }
)
_ASSERTIONS = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "minLength",
        "pattern",
        "format",
        "minItems",
        "uniqueItems",
        "items",
        "required",
        "properties",
        "additionalProperties",
        "propertyNames",
    }
)

_JSON_TYPES: Mapping[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "array": lambda value: isinstance(value, list),
    "object": lambda value: isinstance(value, dict),
    "null": lambda value: value is None,
}
_EXPECTED_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "array": "an array",
    "object": "a table",
    "null": "nothing",
}


def _describe(value: Any) -> str:
    """A value as a TOML user knows it: "an integer (42)", "a table"."""
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a float ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "an array" if value else "an empty array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    if not close:
        close = [choice for choice in choices if choice.lower() == word.lower()][:1]
    return f" — did you mean {close[0]!r}?" if close else ""


class _Validator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"schema $ref {ref!r}: only local references are supported")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        resolved: Mapping[str, Any] = node
        return resolved

    def check(
        self, value: Any, schema: Mapping[str, Any], path: KeyPath
    ) -> Iterator[SchemaProblem]:
        unknown = set(schema) - _ANNOTATIONS - _ASSERTIONS
        if unknown:
            raise ValueError(
                f"schema keyword(s) {sorted(unknown)} at {format_key_path(path)!r} "
                "are not interpreted by envspec.spec.schema; teach it before using them"
            )
        if "$ref" in schema:
            yield from self.check(value, self.resolve(schema["$ref"]), path)
        if "type" in schema:
            expected = schema["type"]
            names = [expected] if isinstance(expected, str) else list(expected)
            if not any(_JSON_TYPES[name](value) for name in names):
                yield self.type_problem(value, schema, names, path)
                return
        yield from self.check_string(value, schema, path)
        if isinstance(value, list):
            yield from self.check_array(value, schema, path)
        if isinstance(value, dict):
            yield from self.check_table(value, schema, path)
        if "enum" in schema and value not in schema["enum"]:
            choices = ", ".join(repr(choice) for choice in schema["enum"])
            strings = [choice for choice in schema["enum"] if isinstance(choice, str)]
            hint = _did_you_mean(value, strings) if isinstance(value, str) else ""
            got = repr(value) if isinstance(value, str) else _describe(value)
            yield SchemaProblem(
                path=path,
                keyword="enum",
                message=f"expected one of {choices}, got {got}{hint}",
            )

    def type_problem(
        self, value: Any, schema: Mapping[str, Any], names: list[str], path: KeyPath
    ) -> SchemaProblem:
        words = []
        for name in names:
            word = _EXPECTED_WORDS[name]
            items = schema.get("items")
            if name == "array" and isinstance(items, Mapping):
                if "$ref" in items:
                    items = self.resolve(items["$ref"])
                if items.get("type") == "object":
                    word = "an array of tables"
            words.append(word)
        message = f"expected {' or '.join(words)}, got {_describe(value)}"
        if "string" in names and isinstance(value, int | float) and not isinstance(value, bool):
            message += f'; put it in quotes: "{value}"'
        return SchemaProblem(path=path, keyword="type", message=message)

    def check_string(
        self, value: Any, schema: Mapping[str, Any], path: KeyPath
    ) -> Iterator[SchemaProblem]:
        if not isinstance(value, str):
            return
        minimum = schema.get("minLength")
        if minimum is not None and len(value) < minimum:
            message = (
                "must not be empty" if minimum == 1 else f"must be at least {minimum} characters"
            )
            yield SchemaProblem(path=path, keyword="minLength", message=message)
            return
        pattern = schema.get("pattern")
        if pattern is not None and not re.search(pattern, value):
            wanted = schema.get("patternErrorMessage", f"text matching {pattern!r}")
            yield SchemaProblem(
                path=path, keyword="pattern", message=f"expected {wanted}, got {value!r}"
            )
            return
        name = schema.get("format")
        if name is not None:
            checker = FORMAT_CHECKERS.get(name)
            if checker is None:
                raise ValueError(f"schema format {name!r} has no checker in envspec.spec.schema")
            reason = checker(value)
            if reason is not None:
                yield SchemaProblem(path=path, keyword="format", message=reason)

    def check_array(
        self, value: list[Any], schema: Mapping[str, Any], path: KeyPath
    ) -> Iterator[SchemaProblem]:
        minimum = schema.get("minItems")
        if minimum is not None and len(value) < minimum:
            yield SchemaProblem(
                path=path,
                keyword="minItems",
                message=f"expected at least {minimum} item{'s' if minimum > 1 else ''}, "
                f"got {len(value)}",
            )
        if schema.get("uniqueItems"):
            seen: list[Any] = []
            for position, item in enumerate(value):
                if item in seen:
                    first = seen.index(item)
                    yield SchemaProblem(
                        path=path,
                        keyword="uniqueItems",
                        at=(*path, position),
                        message=f"{item!r} is listed twice ([{first}] and [{position}])",
                    )
                seen.append(item)
        items = schema.get("items")
        if items is not None:
            for position, item in enumerate(value):
                yield from self.check(item, items, (*path, position))

    def check_table(
        self, value: dict[str, Any], schema: Mapping[str, Any], path: KeyPath
    ) -> Iterator[SchemaProblem]:
        for key in schema.get("required", ()):
            if key not in value:
                yield SchemaProblem(
                    path=path, keyword="required", message=f"missing required key {key!r}"
                )
        properties: Mapping[str, Any] = schema.get("properties", {})
        names = schema.get("propertyNames")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if names is not None:
                for problem in self.check(key, names, path):
                    yield SchemaProblem(
                        path=path, keyword=problem.keyword, at=(*path, key), message=problem.message
                    )
            if key in properties:
                yield from self.check(item, properties[key], (*path, key))
            elif extra is False:
                yield SchemaProblem(
                    path=path,
                    keyword="additionalProperties",
                    at=(*path, key),
                    message=f"unknown key {key!r}{_did_you_mean(key, list(properties))}",
                )
            elif isinstance(extra, Mapping):
                yield from self.check(item, extra, (*path, key))


def validate(document: Any, schema: Mapping[str, Any] | None = None) -> list[SchemaProblem]:
    """Every way ``document`` (JSON data, see :func:`json_compatible`) does not fit the schema.

    Problems come in document order within each table. ``schema`` defaults to envspec's own.
    """
    root = load_schema() if schema is None else schema
    return list(_Validator(root).check(document, root, ()))
