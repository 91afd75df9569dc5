"""Short PEP 508 markers for "the environments where this package is selected".

A universal lock knows, for every entry, the exact set of covered environments that select it. The
marker written for it must be true on that set and false on the rest of the covered set; what it
says outside the covered set does not matter, because the lock's top-level ``environments`` refuses
every machine outside it. That freedom is what keeps markers short: ``sys_platform == 'win32'``
rather than a list of every Windows minor and machine.

The markers are built as small decision trees over the three variables that tell covered
environments apart (``sys_platform``, ``platform_machine``, ``python_version``), in every order of
the variables, keeping the shortest; single-variable answers come out naturally. Each answer is then
checked by evaluating it on every covered environment, and a plain disjunction of environments is
the (always correct) fallback. Pure: no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Sequence

from packaging.markers import Marker

from envspec.values.environments import Environment

__all__ = ["marker_for", "python_range"]

_Variable = tuple[str, Callable[[Environment], str]]
_VARIABLES: tuple[_Variable, ...] = (
    ("sys_platform", lambda e: e.platform.sys_platform),
    ("platform_machine", lambda e: e.platform.platform_machine),
    ("python_version", lambda e: e.markers["python_version"]),
)
_TRUE = ""
_FALSE = None


def marker_for(selected: Collection[str], covered: Sequence[Environment]) -> str | None:
    """A marker true exactly on the covered environments whose ids are in ``selected``; None when
    that is all of them (no marker needed). Raises ValueError for an empty selection."""
    universe = list(covered)
    chosen = [e for e in universe if e.id in selected]
    if not chosen:
        raise ValueError("a lock entry selected by no covered environment")
    if len(chosen) == len(universe):
        return None
    wanted = {e.id for e in chosen}
    candidates = []
    for order in itertools.permutations(_VARIABLES):
        text = _tree(universe, wanted, list(order))
        if text:
            candidates.append(text)
    # shortest first; among equals, the first variable order (sys_platform, machine, python)
    for text in sorted(dict.fromkeys(candidates), key=len):
        if _exact(text, universe, wanted):
            return text
    return " or ".join(f"({_point(e)})" for e in chosen)


def python_range(minors: Sequence[tuple[int, int]], chosen: Collection[tuple[int, int]]) -> str:
    """``python_version`` conditions true exactly on ``chosen`` among ``minors`` (sorted): runs of
    consecutive minors as ranges, with no bound where a run reaches an end of ``minors``."""
    runs: list[list[tuple[int, int]]] = []
    for index, minor in enumerate(minors):
        if minor not in chosen:
            continue
        if runs and minors.index(runs[-1][-1]) == index - 1:
            runs[-1].append(minor)
        else:
            runs.append([minor])
    parts = []
    for run in runs:
        low, high = run[0], run[-1]
        bounds = []
        if low != minors[0]:
            bounds.append(f"python_version >= '{low[0]}.{low[1]}'")
        if high != minors[-1]:
            bounds.append(f"python_version < '{high[0]}.{high[1] + 1}'")
        if len(run) == 1 and low != minors[0] and high != minors[-1]:
            bounds = [f"python_version == '{low[0]}.{low[1]}'"]
        parts.append(" and ".join(bounds))
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({part})" if " and " in part else part for part in parts)


def _tree(nodes: list[Environment], wanted: set[str], order: list[_Variable]) -> str | None:
    """The marker for ``wanted`` within ``nodes``: "" for always, None for never."""
    inside = [e for e in nodes if e.id in wanted]
    if not inside:
        return _FALSE
    if len(inside) == len(nodes):
        return _TRUE
    if not order:  # two environments no variable tells apart: cannot happen for distinct ids
        return " or ".join(f"({_point(e)})" for e in inside)
    (name, value_of), rest = order[0], order[1:]
    values = sorted({value_of(e) for e in nodes}, key=lambda v: _sort_key(name, v))
    if len(values) == 1:
        return _tree(nodes, wanted, rest)
    outcome: dict[str, list[str]] = {}
    for value in values:
        branch = [e for e in nodes if value_of(e) == value]
        sub = _tree(branch, wanted, rest)
        if sub is not _FALSE:
            outcome.setdefault(sub, []).append(value)
    clauses = []
    for sub, chosen_values in sorted(outcome.items(), key=lambda item: item[1]):
        if len(chosen_values) == len(values):  # this variable does not matter here
            clauses.append(sub)
            continue
        condition = _condition(name, values, chosen_values)
        if sub == _TRUE:
            clauses.append(condition)
        elif " or " in sub:
            clauses.append(f"{condition} and ({sub})")
        else:
            clauses.append(f"{condition} and {sub}")
    if len(clauses) == 1:
        return clauses[0]
    return " or ".join(f"({c})" if " and " in c or " or " in c else c for c in clauses)


def _condition(name: str, values: list[str], chosen: list[str]) -> str:
    """``name`` takes one of ``chosen`` (among ``values``), the shortest way to say it."""
    if name == "python_version":
        minors = [_minor(v) for v in values]
        text = python_range(minors, {_minor(v) for v in chosen})
        return f"({text})" if " or " in text else text
    others = [v for v in values if v not in chosen]
    positive = " or ".join(f"{name} == '{v}'" for v in chosen)
    negative = " and ".join(f"{name} != '{v}'" for v in others)
    if len(others) < len(chosen):
        return negative if len(others) == 1 else f"({negative})"
    return positive if len(chosen) == 1 else f"({positive})"


def _minor(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def _sort_key(name: str, value: str) -> tuple[int, ...] | tuple[str]:
    return _minor(value) if name == "python_version" else (value,)


def _point(environment: Environment) -> str:
    return " and ".join(
        f"{name} == '{value_of(environment)}'" for name, value_of in _VARIABLES
    )


def _exact(text: str, universe: list[Environment], wanted: set[str]) -> bool:
    marker = Marker(text)
    return all(marker.evaluate(e.markers) == (e.id in wanted) for e in universe)
