"""Reading TOML *text* (not values): one structural scanner for the two tools that need positions.

``tomllib`` gives values but no positions, so two places scan the text of a file it has already
accepted: the spec loader, to give each problem its line (:class:`LineLocator`), and the spec
editor (:mod:`envspec.spec.edit`), to change one array in place and keep everything else byte for
byte. Both use the one :class:`Scanner`, so a TOML corner case (a multi-line string ending in
quotes, an escaped quote, a dotted key, an array of tables) is handled once.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "BARE_KEY",
    "Array",
    "Entry",
    "Header",
    "Item",
    "LineLocator",
    "Scanner",
    "escaped",
    "read_key",
    "skip",
    "string_end",
]

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

KeyPath: TypeAlias = tuple[str | int, ...]
"""A path into the document as tomllib reads it: ``("index", 1, "url")`` (as in
:data:`envspec.spec.schema.KeyPath`)."""


def skip(text: str, i: int, *, newlines: bool) -> int:
    """Past blanks (and, with ``newlines``, line breaks and comments) from offset ``i``."""
    while i < len(text):
        char = text[i]
        if char in " \t" or (newlines and char in "\r\n"):
            i += 1
        elif newlines and char == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        else:
            break
    return i


def escaped(text: str, position: int) -> bool:
    """Whether the character at ``position`` is escaped by an odd run of backslashes."""
    backslashes = 0
    while position - backslashes - 1 >= 0 and text[position - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def string_end(text: str, i: int) -> int:
    """The offset just past the string literal (basic, literal, or multi-line) starting at ``i``."""
    quote = text[i]
    if text.startswith(quote * 3, i):
        end = text.find(quote * 3, i + 3)
        while quote == '"' and end > 0 and escaped(text, end):
            end = text.find(quote * 3, end + 1)
        if end < 0:
            raise ValueError("unterminated string")
        end += 3
        for _ in range(2):  # up to two quotes just before the closing three belong inside
            if text.startswith(quote, end):
                end += 1
        return end
    i += 1
    while text[i] != quote:
        i += 2 if quote == '"' and text[i] == "\\" else 1
    return i + 1


def read_key(text: str, i: int) -> tuple[list[str], int]:
    """A (dotted) key starting at ``i``: its parts, unquoted, and the offset after it."""
    parts: list[str] = []
    while True:
        i = skip(text, i, newlines=False)
        if text[i] in "\"'":
            end = string_end(text, i)
            parts.append(tomllib.loads(f"k = {text[i:end]}")["k"])
            i = end
        else:
            match = BARE_KEY.match(text, i)
            if match is None:
                raise ValueError(f"expected a key at offset {i}")
            parts.append(match.group())
            i = match.end()
        i = skip(text, i, newlines=False)
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return parts, i


# ── the structure ────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One ``key = value`` pair, at any depth (a table's body or inside an inline table)."""

    path: tuple[str, ...]
    """The full key path as written: the enclosing table's header plus the (dotted) key."""
    table: tuple[str, ...] | None
    """The ``[header]`` it sits under (``()`` for the root); None inside an inline table."""
    start: int
    value_start: int
    value_end: int
    line_end: int
    """After the newline that ends the entry's last line (for an inline entry: ``value_end``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    path: tuple[str, ...]
    array: bool
    start: int
    line_end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One element of an array: ``text[start:end]``, then its comma at ``comma`` if it has one."""

    start: int
    end: int
    comma: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Array:
    open: int
    close: int
    items: tuple[Item, ...]


_SCALAR = re.compile(r"[^,\]}\n#]*")


class Scanner:
    """One structural scan of text ``tomllib`` has accepted, recording where things are.

    It follows tables, arrays of tables, dotted keys, inline tables and (multi-line) arrays, and
    skips over strings and scalars without interpreting them. :meth:`scan` fills

    - ``entries`` and ``headers``: every ``key = value`` (outside arrays) and ``[header]`` with
      its spans, keyed as written (what the editor needs);
    - ``starts``: the offset where each document path (``index[1].url``, ``groups.dev[0]``,
      array elements and arrays of tables counted) first appears (what the locator needs).

    :meth:`scan` raises ``ValueError`` or ``IndexError`` on a layout it does not follow; what it
    recorded up to there stays.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.entries: list[Entry] = []
        self.headers: list[Header] = []
        self.starts: dict[KeyPath, int] = {}

    def scan(self) -> Scanner:
        text = self.text
        table: tuple[str, ...] = ()
        located: KeyPath = ()
        arrays_of_tables: dict[KeyPath, int] = {}
        i = 0
        while True:
            i = skip(text, i, newlines=True)
            if i >= len(text):
                return self
            start = i
            if text[i] == "[":
                array = text.startswith("[[", i)
                parts, i = read_key(text, i + (2 if array else 1))
                i += 2 if array else 1
                table = tuple(parts)
                located = self._table(parts, arrays_of_tables, start, append=array)
                i = self.line_end(i)
                self.headers.append(Header(path=table, array=array, start=start, line_end=i))
                continue
            parts, i = read_key(text, i)
            path = (*table, *parts)
            inner = located
            for part in parts:
                inner = (*inner, part)
                self._record(inner, start)
            i = skip(text, i, newlines=False) + 1  # the "="
            value_start = skip(text, i, newlines=False)
            end = self._value(value_start, path, inner)
            i = self.line_end(end)
            self.entries.append(
                Entry(
                    path=path,
                    table=table,
                    start=start,
                    value_start=value_start,
                    value_end=end,
                    line_end=i,
                )
            )

    def line_end(self, i: int) -> int:
        """From the end of a value or header: past trailing blanks, a comment and the newline."""
        text = self.text
        i = skip(text, i, newlines=False)
        if i < len(text) and text[i] == "#":
            end = text.find("\n", i)
            return len(text) if end < 0 else end + 1
        if text.startswith("\r\n", i):
            return i + 2
        if i < len(text) and text[i] == "\n":
            return i + 1
        return i

    def array(self, i: int, located: KeyPath | None = None) -> Array:
        """The array whose ``[`` is at ``i``, with the span of each element; records the
        elements' offsets under ``located`` when given."""
        text = self.text
        open_ = i
        items: list[Item] = []
        i += 1
        while True:
            i = skip(text, i, newlines=True)
            if text[i] == "]":
                return Array(open=open_, close=i, items=tuple(items))
            element = None if located is None else (*located, len(items))
            if element is not None:
                self._record(element, i)
            start = i
            end = self._value(i, None, element)  # inline tables in arrays: not entries
            i = skip(text, end, newlines=True)
            comma = None
            if text[i] == ",":
                comma = i
                i += 1
            elif text[i] != "]":
                raise ValueError(f"unexpected {text[i]!r} in an array at offset {i}")
            items.append(Item(start=start, end=end, comma=comma))

    def _value(self, i: int, path: tuple[str, ...] | None, located: KeyPath | None) -> int:
        """The end of the value at ``i``; ``path``: its key as written (None inside an array, where
        inline tables make no entries); ``located``: its document path, recorded when given."""
        text = self.text
        char = text[i]
        if char in "\"'":
            return string_end(text, i)
        if char == "[":
            return self.array(i, located).close + 1
        if char == "{":
            i += 1
            while True:
                i = skip(text, i, newlines=False)
                if text[i] == "}":
                    return i + 1
                start = i
                parts, i = read_key(text, i)
                inner = located
                if inner is not None:
                    for part in parts:
                        inner = (*inner, part)
                        self._record(inner, start)
                i = skip(text, i, newlines=False) + 1  # the "="
                value_start = skip(text, i, newlines=False)
                key = None if path is None else (*path, *parts)
                end = self._value(value_start, key, inner)
                if key is not None:
                    self.entries.append(
                        Entry(
                            path=key,
                            table=None,
                            start=start,
                            value_start=value_start,
                            value_end=end,
                            line_end=end,
                        )
                    )
                i = skip(text, end, newlines=False)
                if text[i] == ",":
                    i += 1
                elif text[i] != "}":
                    raise ValueError("not an inline table")
        # a scalar: number, boolean, date/time; ends at a delimiter
        match = _SCALAR.match(text, i)
        assert match is not None
        return i + len(match.group().rstrip(" \t\r"))

    def _record(self, path: KeyPath, position: int) -> None:
        self.starts.setdefault(path, position)

    def _table(
        self,
        parts: list[str],
        arrays_of_tables: dict[KeyPath, int],
        start: int,
        *,
        append: bool,
    ) -> KeyPath:
        """The document path of a ``[header]`` (``[[header]]`` with ``append``), counting arrays
        of tables: the second ``[[index]]`` is ``("index", 1)``."""
        path: KeyPath = ()
        for position, part in enumerate(parts):
            path = (*path, part)
            last = position == len(parts) - 1
            if last and append:
                count = arrays_of_tables.get(path, 0)
                arrays_of_tables[path] = count + 1
                self._record(path, start)
                path = (*path, count)
            elif path in arrays_of_tables:
                path = (*path, arrays_of_tables[path] - 1)
            self._record(path, start)
        return path


class LineLocator:
    """Maps key paths (``index[1].url``, ``groups.dev[0]``) to the 1-based line they start on.

    A path the scan did not record falls back to its nearest recorded parent; a layout the scan
    does not follow keeps what it recorded up to there (a locator gap must never hide a problem).
    """

    def __init__(self, text: str) -> None:
        scanner = Scanner(text)
        try:
            scanner.scan()
        except (IndexError, ValueError):
            pass
        newlines = [position for position, char in enumerate(text) if char == "\n"]
        self.lines: dict[KeyPath, int] = {
            path: bisect.bisect_right(newlines, position - 1) + 1
            for path, position in scanner.starts.items()
        }

    def line_of(self, path: KeyPath) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None
