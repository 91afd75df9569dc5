"""The shared TOML text primitives: the corner cases both the locator and the editor rely on."""

from __future__ import annotations

import pytest

from envspec.spec.tomltext import read_key, skip, string_end


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ('"a\\"b" rest', 6),
        ("'c:\\path' rest", 9),
        ('"""x"y""" rest', 9),
        ('"""ends in quotes"""""" rest', 22),
        ('"""has \\""" inside""" rest', 21),
    ],
)
def test_string_end(text: str, end: int) -> None:
    assert string_end(text, 0) == end


def test_read_key_and_skip() -> None:
    assert read_key('tool . "env.spec".venv = 1', 0) == (["tool", "env.spec", "venv"], 23)
    assert skip("  # comment\n\t x", 0, newlines=True) == 14
    assert skip("  # comment", 0, newlines=False) == 2
