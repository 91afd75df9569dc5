"""The lock of a universal resolution: one PEP 751 file for every covered environment.

Each entry is one (project, version) and its marker says exactly where it is selected: in the
covered environments whose resolution chose it, from the base requirements, or from a dependency
group (``'dev' in dependency_groups``). The markers come from the sets of environments, never from
the requirements' own markers (which, merged across paths, are how other tools end up installing a
Linux version on a Mac), and :mod:`envspec.lock.markers` keeps them short. The top-level
``environments`` lists what is covered, one row per platform with explicit Python bounds, so that a
machine outside it (a new Python, a platform left out) is refused rather than served a guess.

Pure: builds values; ``envspec.lock.text`` writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from packaging.markers import Marker
from packaging.pylock import Package, Pylock
from packaging.utils import NormalizedName
from packaging.version import Version

from envspec.lock.markers import marker_for
from envspec.lock.model import LockInputs, _package, assemble_lock
from envspec.values.environments import RELEASED_MINORS, Environment

if TYPE_CHECKING:
    from envspec.resolve import ResolvedPackage
    from envspec.resolve.universal import UniversalResolution

__all__ = ["build_universal_lock", "covered_of", "covered_rows", "where_selected"]


@dataclass(slots=True)
class _Entry:
    package: ResolvedPackage
    base: set[str] = field(default_factory=set)
    groups: dict[str, set[str]] = field(default_factory=dict)
    dependencies: set[NormalizedName] = field(default_factory=set)


def build_universal_lock(
    universal: UniversalResolution, inputs: LockInputs, *, requested: str | None = None
) -> Pylock:
    """The lock of ``universal``; ``requested`` names the one environment that
    ``lock --python-version/--python-platform`` asked for (freshness then keeps to it)."""
    covered = list(universal.environments)
    entries: dict[tuple[NormalizedName, str], _Entry] = {}
    groups: set[str] = set()
    for environment in covered:
        resolution = universal.resolutions[environment.id]
        named = sorted(str(g) for g in resolution.roots if g is not None)
        groups.update(named)
        base = resolution.reachable(None)
        reach = {g: resolution.reachable(g) for g in named}
        for name, package in resolution.packages.items():
            key = (name, _label(package))
            entry = entries.setdefault(key, _Entry(package))
            entry.dependencies.update(package.dependencies)
            if name in base:
                entry.base.add(environment.id)
            for group in named:
                if name in reach[group]:
                    entry.groups.setdefault(group, set()).add(environment.id)
    packages = []
    for (name, _), entry in sorted(entries.items(), key=lambda item: _sort_key(item[0])):
        marker = _entry_marker(entry, covered)
        package = replace(entry.package, dependencies=frozenset(entry.dependencies))
        packages.append(_package(package, marker))
    record: dict[str, Any] = {"environments": [e.id for e in covered]}
    if universal.left_out:
        record["left-out"] = dict(universal.left_out)
    if requested:
        record["requested-environment"] = requested
    return assemble_lock(
        packages,
        environments=covered_rows(covered),
        inputs=inputs,
        groups=sorted(groups),
        record=record,
    )


def _label(package: ResolvedPackage) -> str:
    if package.direct is not None and package.direct.kind == "directory":
        return f"({package.direct.location})"
    return str(package.version)


def _sort_key(key: tuple[NormalizedName, str]) -> tuple[str, int, Version, str]:
    """By name, then version (oldest first); a directory (no version) after its name's versions."""
    name, label = key
    try:
        return (name, 0, Version(label), "")
    except ValueError:
        return (name, 1, Version("0"), label)


def _entry_marker(entry: _Entry, covered: Sequence[Environment]) -> Marker | None:
    parts: list[str] = []
    if entry.base:
        where = marker_for(entry.base, covered)
        if where is None:
            return None
        parts.append(where)
    for group in sorted(entry.groups):
        extra = entry.groups[group] - entry.base
        if not extra:
            continue
        # where the base selects it anyway, the group's clause may say anything: a shorter one
        where = marker_for(entry.groups[group] | entry.base, covered)
        clause = f"{group!r} in dependency_groups"
        if where is not None:
            clause += f" and ({where})" if " or " in where else f" and {where}"
        parts.append(clause)
    if not parts:
        return None
    text = " or ".join(f"({p})" if " or " in p and len(parts) > 1 else p for p in parts)
    return Marker(text)


def covered_rows(covered: Sequence[Environment]) -> list[Marker]:
    """The lock's ``environments``: per platform, its covered minors as explicit ranges (an upper
    bound too, so that a Python released later is refused until a lock covers it)."""
    rows = []
    platforms = []
    for environment in covered:
        if environment.platform not in platforms:
            platforms.append(environment.platform)
    for platform in platforms:
        minors = sorted({e.minor for e in covered if e.platform == platform})
        head = (
            f"implementation_name == 'cpython' and sys_platform == {platform.sys_platform!r} "
            f"and platform_machine == {platform.platform_machine!r}"
        )
        for low, high in _runs(minors):
            if low == high:
                span = f"python_version == '{low[0]}.{low[1]}'"
            else:
                span = f"python_version >= '{low[0]}.{low[1]}' and python_version < '{high[0]}.{high[1] + 1}'"
            rows.append(Marker(f"{head} and {span}"))
    return rows


def _runs(minors: Sequence[tuple[int, int]]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    known = list(RELEASED_MINORS)
    runs: list[list[tuple[int, int]]] = []
    for minor in minors:
        if runs and minor in known and runs[-1][-1] in known and known.index(minor) == known.index(runs[-1][-1]) + 1:
            runs[-1].append(minor)
        else:
            runs.append([minor])
    return [(run[0], run[-1]) for run in runs]


def covered_of(lock: Pylock) -> list[Environment] | None:
    """The environments a universal lock records that it covers; None for any other lock."""
    from envspec.lock.tool import covered_ids
    from envspec.values.environments import environment_by_id

    ids = covered_ids(lock)
    if ids is None:
        return None
    found = [environment_by_id(i) for i in ids]
    return [e for e in found if e is not None]


def where_selected(
    package: Package, covered: Sequence[Environment], groups: Sequence[str]
) -> frozenset[str]:
    """The ids of the covered environments where ``package`` is installed with ``groups``."""
    if package.marker is None:
        return frozenset(e.id for e in covered)
    chosen = frozenset(groups)
    return frozenset(
        e.id
        for e in covered
        if package.marker.evaluate(
            {**e.markers, "dependency_groups": chosen, "extras": frozenset()},
            "lock_file",
        )
    )
