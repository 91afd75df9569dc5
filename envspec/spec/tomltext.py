"""Reading TOML *text* (not values): the few lexical steps both text-level tools need.

``tomllib`` gives values but no positions, so two places scan the text of a file it has already
accepted: the spec loader, to give each problem its line, and the spec editor, to change one array
in place and keep everything else byte for byte. They share these primitives, so a TOML corner
case (a multi-line string ending in quotes, an escaped quote) is handled once.
"""

from __future__ import annotations

import re
import tomllib

__all__ = ["BARE_KEY", "escaped", "read_key", "skip", "string_end"]

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


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
