"""Which CPython minors `envspec init` may offer as the floor of a new spec."""

from __future__ import annotations

import datetime

from packaging.version import Version

from envspec.pythons.lifecycle import is_supported_upstream

DAY = datetime.date(2026, 12, 2)


def test_minors_past_their_end_of_life_are_not_offered() -> None:
    assert not is_supported_upstream(Version("3.8.18"), DAY)
    assert not is_supported_upstream(Version("3.10.13"), DAY)  # ended 2026-10-31
    assert not is_supported_upstream(Version("3.7.16"), DAY)  # older than the table


def test_supported_and_future_minors_are_offered() -> None:
    assert is_supported_upstream(Version("3.11.2"), DAY)
    assert is_supported_upstream(Version("3.13.0"), DAY)
    assert is_supported_upstream(Version("3.15.0a1"), DAY)  # newer than the table
    assert is_supported_upstream(Version("3.10.13"), datetime.date(2026, 10, 31))  # its last day
