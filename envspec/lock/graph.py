"""The locked dependency graph, for ``envspec tree`` and ``envspec why``.

A lock already holds the whole graph: every package lists its ``dependencies`` as resolved for the
lock's target (markers evaluated, requested extras folded in), and envspec records the spec's own
requirements per group under ``[tool.envspec.inputs]``. So the questions a user asks about the
environment — what pulled this in, what does that drag along — are answered from the committed
lock alone, with no index, no resolver and no venv, and always agree with what ``sync`` installs.

A lock written by another tool has no recorded inputs: its roots are then the packages nothing else
depends on.

Pure: values in, values (and lines of text) out.
"""

from __future__ import annotations

import dataclasses

import difflib
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from packaging.markers import Marker
from packaging.pylock import Package, Pylock
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from envspec.errors import UserError
from envspec.lock.model import recorded_inputs
from envspec.lock.markers import marker_for
from envspec.lock.universal import covered_of, where_selected
from envspec.values.environments import Environment

__all__ = [
    "LockGraph",
    "Root",
    "UnknownGroup",
    "UnknownPackage",
    "paths_to",
    "render_tree",
    "render_why",
    "select_groups",
    "selected_packages",
]

_BRANCH, _LAST, _PIPE, _SPACE = "├── ", "└── ", "│   ", "    "


class UnknownPackage(UserError):
    """A name asked about that the lock's selection does not hold."""

    def __init__(
        self, name: str, *, close: Sequence[str] = (), only_in_groups: Sequence[str] = ()
    ) -> None:
        if only_in_groups:
            groups = ", ".join(repr(g) for g in only_in_groups)
            options = " ".join(f"--group {g}" for g in only_in_groups[:1])
            super().__init__(
                f"{name!r} is locked only for the dependency group(s) {groups}, "
                "which are not selected.",
                hint=f"Add {options} (or --all-groups).",
            )
        elif close:
            listing = ", ".join(repr(c) for c in close)
            super().__init__(
                f"{name!r} is not in the lock. Did you mean {listing}?",
                hint="`envspec tree` shows every locked package.",
            )
        else:
            super().__init__(
                f"{name!r} is not in the lock.", hint="`envspec tree` shows every locked package."
            )
        self.name = name
        self.close = tuple(close)
        self.only_in_groups = tuple(only_in_groups)


class UnknownGroup(UserError):
    """A dependency group asked for that the lock does not define."""

    def __init__(self, group: str, known: Sequence[str]) -> None:
        close = difflib.get_close_matches(group, known, n=3)
        listing = ", ".join(repr(k) for k in known) or "none"
        message = f"The lock has no dependency group {group!r} (groups: {listing})."
        if close:
            message += f" Did you mean {close[0]!r}?"
        super().__init__(message, hint="Groups are declared under [groups] in the spec.")
        self.group = group
        self.known = tuple(known)


def select_groups(lock: Pylock, groups: Collection[str] | None) -> tuple[NormalizedName, ...]:
    """The requested groups, canonical and sorted; each must be one the lock defines."""
    known = sorted(canonicalize_name(g) for g in (lock.dependency_groups or ()))
    chosen: set[NormalizedName] = set()
    for group in groups or ():
        name = canonicalize_name(group)
        if name not in known:
            raise UnknownGroup(group, known)
        chosen.add(name)
    return tuple(sorted(chosen))


def _marker_environment(
    groups: Collection[str], environment: Mapping[str, str] | None
) -> dict[str, str | frozenset[str]]:
    env: dict[str, str | frozenset[str]] = dict(environment or {})
    env["dependency_groups"] = frozenset(groups)
    env["extras"] = frozenset()
    return env


def selected_packages(
    lock: Pylock,
    groups: Collection[str] | None = None,
    *,
    environment: Mapping[str, str] | None = None,
) -> list[Package]:
    """The packages of the lock that the base plus ``groups`` install, in lock order.

    A package's ``marker`` decides, as PEP 751 says; envspec writes only group markers
    (``"dev" in dependency_groups``), so for its locks ``environment`` does not matter. For a lock
    whose markers name other variables, ``environment`` gives them (missing ones are the running
    interpreter's, as ``packaging`` fills them). One package per name: the first that applies.
    """
    chosen = select_groups(lock, groups)
    env = _marker_environment(chosen, environment)
    seen: set[NormalizedName] = set()
    packages = []
    for package in lock.packages:
        if package.marker is not None and not package.marker.evaluate(env, context="lock_file"):
            continue
        if package.name in seen:
            continue
        seen.add(package.name)
        packages.append(package)
    return packages


@dataclass(frozen=True, slots=True, kw_only=True)
class Root:
    """One requirement of the spec (or of a group) that the selection holds a package for."""

    requirement: str
    """As recorded in the lock (normalised), e.g. ``http-client[socks]``."""
    name: NormalizedName
    extras: tuple[str, ...]
    marker: Marker | None
    group: str | None
    """None for the spec's own requirements."""

    def describe(self) -> str:
        """``the spec requires app`` / ``group 'dev' requires top``."""
        who = "the spec" if self.group is None else f"group {self.group!r}"
        return f"{who} requires {self.requirement}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LockGraph:
    """The packages one selection of a lock installs, and the edges between them."""

    packages: Mapping[NormalizedName, Package]
    groups: tuple[NormalizedName, ...]
    """The groups selected (besides the base)."""
    root_requirements: tuple[Root, ...]
    """The spec's requirements then each selected group's, as recorded; empty for a lock that
    records none (see :meth:`roots`)."""
    all_locked: frozenset[NormalizedName]
    """Every package name in the lock, selected or not (for helpful errors)."""
    lock_groups: tuple[NormalizedName, ...]
    _children: Mapping[NormalizedName, tuple[NormalizedName, ...]]
    _parents: Mapping[NormalizedName, tuple[NormalizedName, ...]]
    _group_only: Mapping[NormalizedName, tuple[NormalizedName, ...]]
    """Packages installed only for some groups: which ones (from the lock's markers)."""
    _where: Mapping[NormalizedName, str] = field(default_factory=dict)
    """For a universal lock: where a package applies when not everywhere ("sys_platform ==
    'win32'", or each version's place when it is split)."""
    _labels: Mapping[NormalizedName, str] = field(default_factory=dict)
    """For a universal lock: "name 1.5.0 | 2.1.0" for a package split between versions."""

    @classmethod
    def from_lock(
        cls,
        lock: Pylock,
        groups: Collection[str] | None = None,
        *,
        environment: Mapping[str, str] | None = None,
    ) -> LockGraph:
        """The graph of the base (``groups`` None or empty) or the base plus ``groups``."""
        chosen = select_groups(lock, groups)
        where: dict[NormalizedName, str] = {}
        labels: dict[NormalizedName, str] = {}
        covered = covered_of(lock) if environment is None else None
        if covered:
            selected, where, labels = _every_environment(lock, chosen, covered)
        else:
            selected = selected_packages(lock, chosen, environment=environment)
        packages = {p.name: p for p in selected}
        children: dict[NormalizedName, tuple[NormalizedName, ...]] = {}
        parents: dict[NormalizedName, set[NormalizedName]] = {name: set() for name in packages}
        for package in selected:
            names = set()
            for dependency in package.dependencies or ():
                dep = dependency.get("name")
                if isinstance(dep, str) and canonicalize_name(dep) in packages:
                    names.add(canonicalize_name(dep))
            children[package.name] = tuple(sorted(names))
            for child in names:
                parents[child].add(package.name)
        lock_groups = tuple(sorted(canonicalize_name(g) for g in (lock.dependency_groups or ())))
        return cls(
            packages=MappingProxyType(packages),
            groups=chosen,
            root_requirements=tuple(_recorded_roots(lock, chosen, packages)),
            all_locked=frozenset(p.name for p in lock.packages),
            lock_groups=lock_groups,
            _children=MappingProxyType(children),
            _parents=MappingProxyType({k: tuple(sorted(v)) for k, v in parents.items()}),
            _group_only=MappingProxyType(_group_only(lock, lock_groups, environment)),
            _where=MappingProxyType(where),
            _labels=MappingProxyType(labels),
        )

    def roots(self) -> tuple[Root, ...]:
        """The graph's entry points: the recorded requirements (base first, then each group in
        order), or for a lock without recorded inputs every package nothing depends on (and, so
        that a cycle is not lost, the first of any cycle nothing outside reaches)."""
        if self.root_requirements:
            return self.root_requirements
        found = [name for name in sorted(self.packages) if not self._parents[name]]
        reached = set(self._reach(found))
        for name in sorted(self.packages):
            if name not in reached:
                found.append(name)
                reached.update(self._reach([name]))
        return tuple(
            Root(requirement=str(name), name=name, extras=(), marker=None, group=None)
            for name in found
        )

    def children(self, name: str) -> tuple[NormalizedName, ...]:
        """What ``name`` depends on, sorted."""
        return self._children[self.resolve_name(name)]

    def parents(self, name: str) -> tuple[NormalizedName, ...]:
        """What depends on ``name``, sorted."""
        return self._parents[self.resolve_name(name)]

    def label(self, name: str) -> str:
        """``name version`` as every command prints a package (``name 1.5.0 | 2.1.0`` for one a
        universal lock splits between versions)."""
        resolved = self.resolve_name(name)
        if resolved in self._labels:
            return self._labels[resolved]
        package = self.packages[resolved]
        return f"{package.name} {package.version}" if package.version else str(package.name)

    def where(self, name: str) -> str | None:
        """Where a package applies, when not in every environment the lock covers (its marker,
        or each version's); None when everywhere."""
        resolved = self.resolve_name(name)
        if resolved in self._where:
            return self._where[resolved]
        return _own_marker(self.packages[resolved])

    def groups_only(self, name: str) -> tuple[NormalizedName, ...]:
        """The groups a package is locked for when the base does not need it (else empty)."""
        return self._group_only.get(self.resolve_name(name), ())

    def resolve_name(self, name: str) -> NormalizedName:
        """``name`` canonicalised; :class:`UnknownPackage` (with close matches) if not selected."""
        canonical = canonicalize_name(name)
        if canonical in self.packages:
            return canonical
        if canonical in self.all_locked:
            only = self._group_only.get(canonical, ())
            raise UnknownPackage(name, only_in_groups=[g for g in only if g not in self.groups])
        close = difflib.get_close_matches(canonical, sorted(self.packages), n=3, cutoff=0.6)
        raise UnknownPackage(name, close=close)

    def _reach(self, starts: Sequence[NormalizedName]) -> Iterator[NormalizedName]:
        seen: set[NormalizedName] = set()
        pending = list(starts)
        while pending:
            name = pending.pop()
            if name not in seen:
                seen.add(name)
                yield name
                pending.extend(self._children[name])


def _recorded_roots(
    lock: Pylock, groups: Sequence[str], packages: Mapping[NormalizedName, Package]
) -> Iterator[Root]:
    inputs = recorded_inputs(lock)
    if inputs is None:
        return
    listed: list[tuple[str | None, str]] = [(None, text) for text in inputs.requirements]
    for selected in groups:
        listed.extend((selected, text) for text in inputs.groups.get(selected, ()))
    for group, text in listed:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue  # a hand-edited record; the packages themselves are still shown
        name = canonicalize_name(requirement.name)
        if name not in packages:
            continue  # its marker excluded it for the lock's target
        yield Root(
            requirement=text,
            name=name,
            extras=tuple(sorted(requirement.extras)),
            marker=requirement.marker,
            group=group,
        )


def _group_only(
    lock: Pylock, groups: Sequence[NormalizedName], environment: Mapping[str, str] | None
) -> dict[NormalizedName, tuple[NormalizedName, ...]]:
    found: dict[NormalizedName, tuple[NormalizedName, ...]] = {}
    base = _marker_environment((), environment)
    for package in lock.packages:
        marker = package.marker
        if marker is None or "dependency_groups" not in str(marker):
            continue
        if marker.evaluate(base, context="lock_file"):
            continue
        found[package.name] = tuple(
            g
            for g in groups
            if marker.evaluate(_marker_environment((g,), environment), context="lock_file")
        )
    return found


def _every_environment(
    lock: Pylock, chosen: Sequence[str], covered: Sequence[Environment]
) -> tuple[list[Package], dict[NormalizedName, str], dict[NormalizedName, str]]:
    """A universal lock's packages for ``chosen`` groups in any covered environment: one per name
    (dependencies of every version merged), where each applies, and the labels of split ones."""
    entries: dict[NormalizedName, list[tuple[Package, frozenset[str]]]] = {}
    for package in lock.packages:
        ids = where_selected(package, covered, chosen)
        if ids:
            entries.setdefault(package.name, []).append((package, ids))
    everywhere = frozenset(e.id for e in covered)
    selected: list[Package] = []
    where: dict[NormalizedName, str] = {}
    labels: dict[NormalizedName, str] = {}
    for name, found in entries.items():
        first = found[0][0]
        if len(found) > 1:
            merged = {d.get("name"): d for p, _ in found for d in (p.dependencies or ())}
            first = dataclasses.replace(first, dependencies=list(merged.values()) or None)
            labels[name] = f"{name} " + " | ".join(str(p.version) for p, _ in found)
            where[name] = "; ".join(
                f"{p.version} where {marker_for(ids, covered) or 'everywhere'}" for p, ids in found
            )
        elif found[0][1] != everywhere:
            where[name] = marker_for(found[0][1], covered) or ""
        selected.append(first)
    return selected, where, labels


def _own_marker(package: Package) -> str | None:
    """A package marker worth showing: one about the environment, not envspec's group marker."""
    if package.marker is None or "dependency_groups" in str(package.marker):
        return None
    return str(package.marker)


def _notes(roots: Sequence[Root], *, spec_word: bool) -> list[str]:
    """``group: dev`` / ``groups: dev, docs`` (and ``spec`` when asked) for the roots of one
    package, then the markers of those requirements."""
    notes = []
    if spec_word and any(root.group is None for root in roots):
        notes.append("spec")
    groups = list(dict.fromkeys(root.group for root in roots if root.group is not None))
    if groups:
        notes.append(("group: " if len(groups) == 1 else "groups: ") + ", ".join(groups))
    notes.extend(f"marker: {root.marker}" for root in roots if root.marker is not None)
    return list(dict.fromkeys(notes))


def _line(label: str, notes: Sequence[str], repeated: bool) -> str:
    text = label
    if notes:
        text += f" ({'; '.join(notes)})"
    if repeated:
        text += " (*)"
    return text


def render_tree(
    graph: LockGraph, *, depth: int | None = None, invert: bool = False
) -> list[str]:
    """The graph as tree lines, like ``uv tree``.

    Top level: each root requirement with the version locked (extras as required, ``(group: dev)``
    for a group's requirement, its marker if it has one). Below: dependencies, sorted. A package
    whose dependencies were already drawn is drawn again as ``name version (*)`` without them.
    ``depth`` limits the levels below the top (0: the top level only).

    ``invert``: the top level is every package that depends on nothing, and below each package is
    what depends on it, up to the spec's requirements (noted ``(spec)`` or ``(group: dev)``).
    """
    if depth is not None and depth < 0:
        raise UserError(f"--depth must be 0 or more, not {depth!r}.")
    expanded: set[NormalizedName] = set()
    lines: list[str] = []
    roots_by_name: dict[NormalizedName, list[Root]] = {}
    for root in graph.root_requirements:
        roots_by_name.setdefault(root.name, []).append(root)

    def below(name: NormalizedName) -> tuple[NormalizedName, ...]:
        return graph.parents(name) if invert else graph.children(name)

    def notes_for(name: NormalizedName) -> list[str]:
        notes = _notes(roots_by_name.get(name, ()), spec_word=True) if invert else []
        own = graph.where(name)
        if own:
            notes.append(f"marker: {own}")
        return notes

    def opens(level: int) -> bool:
        """Whether a package drawn at ``level`` has its own lines drawn below it."""
        return depth is None or level < depth

    def draw(
        name: NormalizedName, prefix: str, level: int, path: tuple[NormalizedName, ...]
    ) -> None:
        if not opens(level):
            return
        names = below(name)
        for index, child in enumerate(names):
            last = index == len(names) - 1
            cycle = child in path
            repeated = cycle or (child in expanded and bool(below(child)))
            lines.append(
                prefix + (_LAST if last else _BRANCH)
                + _line(graph.label(child), notes_for(child), repeated)
            )
            if not repeated:
                if below(child) and opens(level + 1):
                    expanded.add(child)
                draw(child, prefix + (_SPACE if last else _PIPE), level + 1, (*path, child))

    if invert:
        tops = [name for name in sorted(graph.packages) if not graph.children(name)]
        covered = {n for top in tops for n in _ancestors(graph, top)}
        tops.extend(n for n in sorted(graph.packages) if n not in covered)  # cycles
        for name in tops:
            repeated = name in expanded and bool(below(name))
            lines.append(_line(graph.label(name), notes_for(name), repeated))
            if not repeated:
                if below(name) and opens(0):
                    expanded.add(name)
                draw(name, "", 0, (name,))
        return lines

    for root in graph.roots():
        package = graph.packages[root.name]
        label = str(root.name) + (f"[{','.join(root.extras)}]" if root.extras else "")
        versions = graph.label(root.name).removeprefix(str(root.name))
        if package.version is not None:
            label += versions
        repeated = root.name in expanded and bool(below(root.name))
        notes = _notes([root], spec_word=False)
        own = graph.where(root.name)
        if own and root.marker is None:  # else the requirement's own marker already says it
            notes.append(f"marker: {own}")
        lines.append(_line(label, notes, repeated))
        if not repeated:
            if below(root.name) and opens(0):
                expanded.add(root.name)
            draw(root.name, "", 0, (root.name,))
    return lines


def _ancestors(graph: LockGraph, name: NormalizedName) -> set[NormalizedName]:
    seen = {name}
    pending = [name]
    while pending:
        for parent in graph.parents(pending.pop()):
            if parent not in seen:
                seen.add(parent)
                pending.append(parent)
    return seen


def paths_to(graph: LockGraph, name: str, *, limit: int | None = None) -> list[list[str]]:
    """Every path from a root requirement to ``name``, as ``why`` prints them.

    Each path is ``[how the root is required, package, package, ..., name]``, e.g.
    ``["the spec requires app", "app 2.0.0", "lib-a 2.0.0", "lib-b 1.1.0"]``: the first item is
    the requirement as the spec (or a group) states it, the others are ``name version``. Paths are
    simple (no package twice) and ordered by root, then shortest first, then alphabetically.
    ``limit`` stops after that many paths (a big graph can have very many). An unknown ``name``
    raises :class:`UnknownPackage` naming close matches.
    """
    target = graph.resolve_name(name)
    # Only packages that can reach the target are worth walking into.
    useful = _ancestors(graph, target)
    found: list[list[str]] = []
    for root in graph.roots():
        if root.name not in useful:
            continue
        walks: list[tuple[NormalizedName, ...]] = []
        stack: list[tuple[NormalizedName, ...]] = [(root.name,)]
        while stack:
            path = stack.pop()
            if path[-1] == target:
                walks.append(path)
                continue
            for child in reversed(graph.children(path[-1])):
                if child in useful and child not in path:
                    stack.append((*path, child))
        walks.sort(key=lambda walk: (len(walk), walk))
        for walk in walks:
            found.append([root.describe(), *(graph.label(n) for n in walk)])
            if limit is not None and len(found) >= limit:
                return found
    return found


def render_why(graph: LockGraph, name: str, *, limit: int | None = None) -> list[str]:
    """``envspec why NAME``: a heading, then one line per path
    (``the spec requires app: app 2.0.0 → lib-a 2.0.0 → lib-b 1.1.0``)."""
    target = graph.resolve_name(name)
    paths = paths_to(graph, target, limit=limit)
    heading = graph.label(target)
    groups = graph.groups_only(target)
    if groups:
        heading += f" (only for group{'s' if len(groups) > 1 else ''}: {', '.join(groups)})"
    if not paths:
        return [heading, "  nothing in the spec requires it (it is in the lock but unreachable)"]
    count = len(paths)
    lines = [f"{heading} is required by {count} path{'s' if count != 1 else ''}:"]
    lines.extend(f"  {path[0]}: {' → '.join(path[1:])}" for path in paths)
    return lines
