"""The marker of a lock entry: true exactly on the covered environments that select it, and short."""

from __future__ import annotations

import random

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from envspec.lock.markers import marker_for, python_range
from envspec.values.environments import Environment, covered_environments

COVERED = covered_environments(SpecifierSet(">=3.10"))


def ids(predicate) -> set[str]:  # type: ignore[no-untyped-def]
    return {e.id for e in COVERED if predicate(e)}


@pytest.mark.parametrize(
    "predicate, expected",
    [
        (lambda e: e.platform.sys_platform == "win32", "sys_platform == 'win32'"),
        (lambda e: e.platform.sys_platform != "win32", "sys_platform != 'win32'"),
        (lambda e: e.minor < (3, 11), "python_version < '3.11'"),
        (lambda e: e.minor >= (3, 12), "python_version >= '3.12'"),
        (lambda e: e.minor == (3, 12), "python_version == '3.12'"),
        (
            lambda e: e.platform.id == "macos-x86_64",
            "sys_platform == 'darwin' and platform_machine == 'x86_64'",
        ),
    ],
)
def test_readable_markers_for_the_common_splits(predicate, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert marker_for(ids(predicate), COVERED) == expected


def test_everywhere_needs_no_marker_and_nowhere_is_an_error() -> None:
    assert marker_for({e.id for e in COVERED}, COVERED) is None
    with pytest.raises(ValueError):
        marker_for(set(), COVERED)


def test_random_selections_are_exact_on_every_covered_environment() -> None:
    rng = random.Random(20261202)
    every = [e.id for e in COVERED]
    for _ in range(60):
        chosen = {i for i in every if rng.random() < rng.choice([0.2, 0.5, 0.8])} or {every[0]}
        text = marker_for(chosen, COVERED)
        if text is None:
            assert chosen == set(every)
            continue
        marker = Marker(text)
        assert {e.id for e in COVERED if marker.evaluate(e.markers)} == chosen, text


def test_python_ranges_join_consecutive_minors() -> None:
    minors = [(3, 9), (3, 10), (3, 11), (3, 12), (3, 13)]
    assert python_range(minors, {(3, 10), (3, 11)}) == (
        "python_version >= '3.10' and python_version < '3.12'"
    )
    assert python_range(minors, {(3, 9), (3, 13)}) == (
        "python_version < '3.10' or python_version >= '3.13'"
    )


def test_a_marker_says_nothing_about_what_is_not_covered() -> None:
    # only Linux covered: a Linux-only entry needs no marker at all
    linux = covered_environments(SpecifierSet("==3.12.*"), [Marker("sys_platform == 'linux'")])
    assert marker_for({e.id for e in linux}, linux) is None
    one: list[Environment] = [e for e in linux if e.platform.id == "linux-aarch64"]
    assert marker_for({one[0].id}, linux) == "platform_machine == 'aarch64'"
