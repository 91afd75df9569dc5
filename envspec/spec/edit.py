"""`envspec add` / `envspec remove`: edit the spec's text, keeping everything the user wrote.

A spec is a hand-written, committed file: its comments explain *why* a pin is there, its order and
layout are the team's. Re-serialising it (``tomli-w``) would drop all of that, so these functions do
text surgery instead: the structural scan of :mod:`envspec.spec.tomltext` finds the byte span of the one array that
changes (``requirements`` or ``[groups] NAME``) and of each element in it, and only that span is
edited. Every other byte of the file is returned unchanged.

``tomllib`` is the judge, never the writer: the input must parse, and the output is parsed again
and compared with the document the edit was *meant* to produce (same data everywhere, the one list
changed as intended). A layout the surgery does not understand therefore fails loudly with
:class:`UneditableSpec` instead of writing a subtly wrong spec.

Both functions are pure (text in, text out); the caller writes the file, and only after the new
spec has locked successfully, so a failed ``add`` leaves spec and lock byte-identical.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterable, Sequence
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from envspec.errors import UserError
from envspec.spec.parse import parse_requirement
from envspec.spec.tomltext import BARE_KEY, Array, Entry, Scanner

__all__ = [
    "InvalidRequirementArgument",
    "NotInSpec",
    "UneditableSpec",
    "add_requirements",
    "remove_requirements",
]


# ── errors ───────────────────────────────────────────────────────────────────────────────────


class InvalidRequirementArgument(UserError):
    """A requirement (or group name) given to ``add``/``remove`` is not valid."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason


class NotInSpec(UserError):
    """``remove NAME`` where the list it targets does not require NAME."""

    def __init__(
        self, name: NormalizedName, *, group: str | None = None, found_in: Sequence[str] = ()
    ) -> None:
        where = f"dependency group {group!r}" if group else "the spec's requirements"
        message = f"{name!r} is not in {where}"
        if found_in:
            message += f"; it is listed in {', '.join(found_in)}"
            hint = "Pass --group NAME to remove it from a group (no --group: the requirements)."
        else:
            message += "."
            hint = f"If it is installed, it comes from another requirement: `envspec why {name}`."
        super().__init__(message, hint=hint)
        self.name = name
        self.group = group
        self.found_in = tuple(found_in)


class UneditableSpec(UserError):
    """The spec's text is not valid TOML, or is laid out in a way the surgery does not handle."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"Cannot edit the spec automatically: {reason}",
            hint="Edit the requirement lists by hand, then run `envspec lock`.",
        )
        self.reason = reason


# ── public entry points ──────────────────────────────────────────────────────────────────────


def add_requirements(text: str, requirements: Sequence[str], *, group: str | None = None) -> str:
    """``text`` with each requirement added to ``requirements`` (or to dependency group ``group``).

    An entry for the same project (canonical name) is replaced in place rather than duplicated:
    every entry of that name whose marker could overlap the new one's (either has no marker, or
    both have the same marker) — the first is replaced, the others removed. Otherwise the new
    entry is appended after the last one, in the layout the array already has. A missing
    ``requirements`` key is inserted after ``python``; a missing group is created under the
    existing ``[groups]`` table, or in a new ``[groups]`` table at the end of the file.

    Raises :class:`InvalidRequirementArgument` for a bad requirement or group name (before any
    edit), :class:`UneditableSpec` when the text cannot be edited safely.
    """
    parsed = [_parse_argument(requirement) for requirement in requirements]
    if group is not None:
        _check_group_name(group)
    bom, text = _split_bom(text)
    for written, requirement in parsed:
        text = _add_one(text, written, requirement, group)
    return bom + text


def remove_requirements(text: str, names: Sequence[str], *, group: str | None = None) -> str:
    """``text`` without the entries for ``names`` in ``requirements`` (or in group ``group``).

    Every entry of a name is removed (including marker-split ones); in a multi-line array the
    entry's whole line goes, with its own trailing comment, while comments on other lines stay.

    Raises :class:`NotInSpec` (carrying the name) when the list does not have the name,
    :class:`InvalidRequirementArgument` for a string that is not a project name.
    """
    wanted: list[NormalizedName] = []
    for name in names:
        try:
            wanted.append(canonicalize_name(name.strip(), validate=True))
        except InvalidName:
            raise InvalidRequirementArgument(
                name, f"{name!r} is not a project name; `remove` takes names, like 'requests'"
            ) from None
    if group is not None:
        _check_group_name(group)
    bom, text = _split_bom(text)
    for name in wanted:
        text = _remove_one(text, name, group)
    return bom + text


def _split_bom(text: str) -> tuple[str, str]:
    """A byte-order mark is kept as it is (the loader accepts one; tomllib does not)."""
    if text.startswith("\ufeff"):
        return "\ufeff", text[1:]
    return "", text


def _parse_argument(text: str) -> tuple[str, Requirement]:
    written = text.strip()
    try:
        return written, parse_requirement(written)
    except ValueError as error:
        raise InvalidRequirementArgument(text, str(error)) from None


def _check_group_name(group: str) -> None:
    try:
        canonicalize_name(group, validate=True)
    except InvalidName:
        raise InvalidRequirementArgument(
            group,
            f"invalid group name {group!r}: use letters, digits, '.', '-' and '_', "
            "starting and ending with a letter or digit",
        ) from None


# ── the structural scan (envspec.spec.tomltext) ──────────────────────────────────────────────


def _scan(text: str) -> Scanner:
    try:
        return Scanner(text).scan()
    except (IndexError, ValueError) as error:
        raise UneditableSpec(f"its layout was not understood ({error})") from None


# ── reading the document ─────────────────────────────────────────────────────────────────────


def _load(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UneditableSpec(f"it is not valid TOML ({error})") from None


def _list_key(document: dict[str, Any], group: str | None) -> tuple[str, ...] | None:
    """The document path of the list to edit, or None when it does not exist yet."""
    if group is None:
        return ("requirements",) if "requirements" in document else None
    groups = document.get("groups")
    if groups is None:
        return None
    if not isinstance(groups, dict):
        raise UneditableSpec("'groups' is not a table")
    wanted = canonicalize_name(group)
    for key in groups:
        if canonicalize_name(key) == wanted:
            return ("groups", key)
    return None


def _list_at(document: dict[str, Any], key: tuple[str, ...]) -> list[Any]:
    value: Any = document
    for part in key:
        value = value[part]
    if not isinstance(value, list):
        raise UneditableSpec(f"{'.'.join(key)} is not an array")
    return value


def _entry(scanner: Scanner, key: tuple[str, ...]) -> Entry:
    for entry in scanner.entries:
        if entry.path == key:
            if scanner.text[entry.value_start] != "[":
                break
            return entry
    raise UneditableSpec(f"the array {'.'.join(key)} was not found in the text")


def _names(items: Iterable[Any]) -> list[tuple[NormalizedName, Requirement] | None]:
    found: list[tuple[NormalizedName, Requirement] | None] = []
    for item in items:
        try:
            requirement = Requirement(item) if isinstance(item, str) else None
        except ValueError:
            requirement = None
        found.append(
            None if requirement is None else (canonicalize_name(requirement.name), requirement)
        )
    return found


def _verify(
    before: dict[str, Any], after_text: str, key: tuple[str, ...], expected: list[Any]
) -> None:
    """The edited text must parse to ``before`` with only the list at ``key`` changed."""
    wanted = copy.deepcopy(before)
    node = wanted
    for part in key[:-1]:
        node = node.setdefault(part, {})
    node[key[-1]] = expected
    try:
        got = tomllib.loads(after_text)
    except tomllib.TOMLDecodeError as error:
        raise UneditableSpec(f"the edit would not be valid TOML ({error})") from None
    if got != wanted:
        raise UneditableSpec(f"the edit of {'.'.join(key)} did not give the intended list")


# ── add ──────────────────────────────────────────────────────────────────────────────────────


def _add_one(text: str, written: str, requirement: Requirement, group: str | None) -> str:
    document = _load(text)
    key = _list_key(document, group)
    if key is None:
        key = ("requirements",) if group is None else ("groups", group)
        after = _insert_list(text, _scan(text), key, written)
        _verify(document, after, key, [written])
        return after
    old = _list_at(document, key)
    name = canonicalize_name(requirement.name)
    matches = [
        position
        for position, found in enumerate(_names(old))
        if found is not None and found[0] == name and _overlap(found[1], requirement)
    ]
    after = text
    if matches:
        for position in reversed(matches[1:]):
            after = _delete_item(after, _array_of(after, key), position)
        array = _array_of(after, key)
        item = array.items[matches[0]]
        quote = _quote(written, after[item.start])
        after = after[: item.start] + quote + after[item.end :]
        expected = [
            written if position == matches[0] else value
            for position, value in enumerate(old)
            if position not in matches[1:]
        ]
    else:
        after = _append_item(after, _array_of(after, key), written)
        expected = [*old, written]
    _verify(document, after, key, expected)
    return after


def _overlap(old: Requirement, new: Requirement) -> bool:
    """Could both apply in one environment? Then the new one replaces the old."""
    return old.marker is None or new.marker is None or str(old.marker) == str(new.marker)


def _array_of(text: str, key: tuple[str, ...]) -> Array:
    scanner = _scan(text)
    return scanner.array(_entry(scanner, key).value_start)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _quote(value: str, style: str = '"') -> str:
    """``value`` as a TOML string, a literal ('...') one when ``style`` asks and it can be."""
    if style == "'" and "'" not in value and not any(ord(char) < 0x20 for char in value):
        return f"'{value}'"
    escaped = []
    for char in value:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _style(text: str, array: Array) -> str:
    """The quote the array's strings use (of its last string item); double by default."""
    for item in reversed(array.items):
        if text[item.start] in "\"'":
            return text[item.start]
    return '"'


def _line_start(text: str, position: int) -> int:
    return text.rfind("\n", 0, position) + 1


def _indent_of_line(text: str, position: int) -> str:
    start = _line_start(text, position)
    match = re.compile(r"[ \t]*").match(text, start)
    assert match is not None
    return match.group()


def _rest_of_line_is_blank(text: str, position: int) -> int | None:
    """After ``position``: only blanks and maybe a comment up to a newline? Where that line ends."""
    match = re.compile(r"[ \t]*(?:#[^\n]*)?\r?(?:\n|$)").match(text, position)
    return match.end() if match else None


def _append_item(text: str, array: Array, written: str) -> str:
    quoted = _quote(written, _style(text, array))
    nl = _newline(text)
    inner = text[array.open + 1 : array.close]
    multiline = "\n" in inner
    if not array.items:
        if not multiline:
            return text[: array.open + 1] + quoted + text[array.close :]
        close_line = _line_start(text, array.close)
        if text[close_line : array.close].strip(" \t") == "":
            inside = text[array.open + 1 : close_line].splitlines()
            comments = [line for line in inside if line.strip().startswith("#")]
            if comments:  # line up with the comment already in it
                indent = comments[-1][: len(comments[-1]) - len(comments[-1].lstrip(" \t"))]
            else:
                indent = _indent_of_line(text, array.close) + "    "
            return text[:close_line] + f"{indent}{quoted},{nl}" + text[close_line:]
        return text[: array.close] + quoted + text[array.close :]
    last = array.items[-1]
    after_last = last.end if last.comma is None else last.comma + 1
    line_end = _rest_of_line_is_blank(text, after_last)
    if multiline and line_end is not None and line_end <= array.close:
        # the last item ends its line: the new one goes on a line of its own below it
        line_start = _line_start(text, last.start)
        before = text[line_start : last.start]
        indent = (
            before if before.strip(" \t") == "" else _indent_of_line(text, array.close) + "    "
        )
        comma = "," if last.comma is not None else ""
        new_line = f"{indent}{quoted}{comma}{nl}"
        if not text[:line_end].endswith("\n"):  # the array's last line had no newline
            new_line = nl + new_line
        text = text[:line_end] + new_line + text[line_end:]
        if last.comma is None:
            text = text[: last.end] + "," + text[last.end :]
        return text
    if last.comma is not None:
        return text[: last.comma + 1] + f" {quoted}," + text[last.comma + 1 :]
    return text[: last.end] + f", {quoted}" + text[last.end :]


def _bare_or_quoted_key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else _quote(key)


def _insert_list(text: str, scanner: Scanner, key: tuple[str, ...], written: str) -> str:
    """Create the missing list ``key`` holding ``written``."""
    nl = _newline(text)
    value = f"[{_quote(written)}]"
    if key == ("requirements",):
        line = f"requirements = {value}{nl}"
        root = [entry for entry in scanner.entries if entry.table == ()]
        after_python = [entry for entry in root if entry.path == ("python",)]
        anchor = after_python or root[-1:]
        if anchor:
            return _insert_line(text, anchor[0].line_end, line)
        if scanner.headers:
            return _insert_line(text, scanner.headers[0].start, line)
        return _insert_line(text, len(text), line)
    name = _bare_or_quoted_key(key[1])
    header = [h for h in scanner.headers if h.path == ("groups",) and not h.array]
    if header:
        in_table = [entry for entry in scanner.entries if entry.table == ("groups",)]
        position = in_table[-1].line_end if in_table else header[0].line_end
        return _insert_line(text, position, f"{name} = {value}{nl}")
    dotted = [
        entry
        for entry in scanner.entries
        if entry.table == () and len(entry.path) > 1 and entry.path[0] == "groups"
    ]
    if dotted:
        return _insert_line(text, dotted[-1].line_end, f"groups.{name} = {value}{nl}")
    inline = [entry for entry in scanner.entries if entry.table == () and entry.path == ("groups",)]
    if inline:
        table = inline[0]
        inner = [
            entry
            for entry in scanner.entries
            if entry.table is None and entry.path[:1] == ("groups",)
        ]
        if inner:
            end = inner[-1].value_end
            return text[:end] + f", {name} = {value}" + text[end:]
        close = table.value_end - 1
        return text[: table.value_start + 1] + f" {name} = {value} " + text[close:]
    if any(entry.path[:1] == ("groups",) for entry in scanner.entries):
        raise UneditableSpec("the [groups] table is written in a form this edit does not handle")
    prefix = ""
    if text and not text.endswith("\n"):
        prefix = nl
    if text.strip():
        prefix += nl
    return text + f"{prefix}[groups]{nl}{name} = {value}{nl}"


def _insert_line(text: str, position: int, line: str) -> str:
    if position > 0 and not text[:position].endswith("\n"):
        line = _newline(text) + line.rstrip("\r\n")
    return text[:position] + line + text[position:]


# ── remove ───────────────────────────────────────────────────────────────────────────────────


def _remove_one(text: str, name: NormalizedName, group: str | None) -> str:
    document = _load(text)
    key = _list_key(document, group)
    old = _list_at(document, key) if key is not None else []
    matches = [
        position
        for position, found in enumerate(_names(old))
        if found is not None and found[0] == name
    ]
    if key is None or not matches:
        raise NotInSpec(name, group=group, found_in=_lists_naming(document, name))
    after = text
    for position in reversed(matches):
        after = _delete_item(after, _array_of(after, key), position)
    expected = [value for position, value in enumerate(old) if position not in matches]
    _verify(document, after, key, expected)
    return after


def _lists_naming(document: dict[str, Any], name: NormalizedName) -> list[str]:
    """Where else the spec lists ``name``: "requirements", "group 'dev'"."""
    lists: list[tuple[str, Any]] = [("requirements", document.get("requirements"))]
    groups = document.get("groups")
    if isinstance(groups, dict):
        lists.extend((f"group {key!r}", value) for key, value in groups.items())
    return [
        label
        for label, items in lists
        if isinstance(items, list)
        and any(found is not None and found[0] == name for found in _names(items))
    ]


def _delete_item(text: str, array: Array, position: int) -> str:
    items = array.items
    item = items[position]
    after_item = item.end if item.comma is None else item.comma + 1
    line_start = _line_start(text, item.start)
    line_end = _rest_of_line_is_blank(text, after_item)
    alone = (
        text[line_start : item.start].strip(" \t") == ""
        and line_end is not None
        and line_end <= array.close
    )
    last = position == len(items) - 1
    previous = items[position - 1] if position > 0 else None
    drop_previous_comma = last and item.comma is None and previous is not None
    if alone:
        assert line_end is not None
        text = text[:line_start] + text[line_end:]
        if drop_previous_comma and previous is not None and previous.comma is not None:
            text = text[: previous.comma] + text[previous.comma + 1 :]
        return text
    if not last:
        return text[: item.start] + text[items[position + 1].start :]
    if previous is None:
        return text[: item.start] + text[after_item:]
    if "\n" not in text[previous.end : item.start]:
        # on one line with the previous item: the separator goes with it; a trailing comma
        # stays (["a", "b",] → ["a",]), and without one the previous comma goes (["a"])
        return text[: previous.end] + text[item.end :]
    # the last item shares its line with the closing bracket, a comment or newline before it
    start = item.start
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    text = text[:start] + text[after_item:]
    if drop_previous_comma and previous.comma is not None:
        text = text[: previous.comma] + text[previous.comma + 1 :]
    return text
