"""pyproject.toml → Spec: a project that already declares its dependencies needs no envspec.toml.

Most projects already say what they need in ``pyproject.toml``: the Python versions
(``[project].requires-python``), the dependencies (``[project].dependencies``) and, since PEP 735,
dependency groups (``[dependency-groups]``, with ``{include-group = "..."}``). Asking for the same
lists again in ``envspec.toml`` would make two sources of truth that drift. So when a project has no
``envspec.toml`` but has a ``pyproject.toml``, envspec reads the spec from there, and only what has
no standard home (indexes, resolution options, the venv path) from ``[tool.envspec]``.

The result is the very same :class:`~envspec.spec.model.Spec`, checked by the very same rules: the
pieces are assembled into an envspec document (``python``, ``requirements``, ``groups``, ``index``,
``resolution``, ``venv``) and validated with :mod:`envspec.spec.schema` and the cross-value
rules of :mod:`envspec.spec.rules`. Each problem's key path is then mapped back to where the user wrote it
(``project.dependencies[1]``, ``dependency-groups.dev[0]``,
``tool.envspec.resolution.prereleases``), with its line in ``pyproject.toml``.

``include-group`` is expanded here (PEP 735): an unknown group or a cycle is a problem like any
other. A requirement that reaches a group twice through includes is kept twice, as PEP 735 asks
(the resolver combines them); one written twice in the same list is still reported, as in
``envspec.toml``.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from envspec.errors import SpecError, UserError
from envspec.spec.schema import KeyPath, json_compatible, load_schema, validate
from envspec.spec.load import build_spec, read_spec_text, spec_error, syntax_problem, too_deep
from envspec.spec.model import Spec
from envspec.spec.rules import (
    Finding,
    duplicate_index_names,
    duplicate_requirements,
    environment_findings,
    group_name_clashes,
    source_findings,
)

__all__ = ["PYPROJECT_FILENAME", "load_pyproject_spec", "parse_pyproject_spec"]

PYPROJECT_FILENAME = "pyproject.toml"

# Spec keys with a standard home in pyproject.toml, so [tool.envspec] must not repeat them.
_STANDARD_HOMES: Mapping[str, str] = {
    "python": "[project] requires-python",
    "requirements": "[project] dependencies",
    "groups": "[dependency-groups] (PEP 735)",
}
_TOOL: KeyPath = ("tool", "envspec")


def load_pyproject_spec(path: Path) -> Spec:
    """Read ``path`` (a pyproject.toml) and build the Spec it declares.

    Raises :class:`UserError` when there is no such file, :class:`SpecError` listing every problem,
    :class:`OutsideWorldError` when it cannot be read.
    """
    text = read_spec_text(
        path, missing=UserError(f"There is no {PYPROJECT_FILENAME} at {path}.")
    )
    return parse_pyproject_spec(text, path=path)


def parse_pyproject_spec(text: str, *, path: Path) -> Spec:
    """Validate ``text`` as the pyproject.toml ``path`` and build its Spec; pure.

    Problems name ``path`` as given and the key path as written in pyproject.toml; ``Spec.path``
    is ``path`` made absolute (the project directory is its parent, as with envspec.toml).
    """
    try:
        return _parse_pyproject_spec(text, path=path)
    except RecursionError:
        raise too_deep(path) from None


def _parse_pyproject_spec(text: str, *, path: Path) -> Spec:
    text = text.removeprefix("\ufeff")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(path, [syntax_problem(error, text, path)]) from None
    assembly = _Assembly(json_compatible(raw))
    findings = list(assembly.findings)
    for problem in validate(assembly.document):
        if problem.keyword == "required" and problem.path == () and "python" in problem.message:
            continue  # reported by the assembly, in pyproject.toml's words
        message = problem.message
        if problem.keyword == "additionalProperties" and problem.path == () and problem.at:
            # the schema would suggest python/requirements/groups, which live elsewhere here
            key = str(problem.at[-1])
            tables = [name for name in load_schema()["properties"] if name not in _STANDARD_HOMES]
            close = difflib.get_close_matches(key, tables, n=1)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            message = (
                f"unknown key {key!r}{hint} ([tool.envspec] takes {', '.join(sorted(tables))})"
            )
        findings.append(
            Finding(
                path=assembly.where(problem.path),
                at=None if problem.at is None else assembly.where(problem.at),
                message=message,
            )
        )
    findings.extend(assembly.cross_value_findings())
    if findings:
        raise spec_error(_unique(findings), text, path)
    return build_spec(assembly.document, path)


def _unique(findings: list[Finding]) -> Iterator[Finding]:
    seen: set[tuple[KeyPath, str]] = set()
    for finding in findings:
        key = (finding.path, finding.message)
        if key not in seen:
            seen.add(key)
            yield finding


class _Assembly:
    """The envspec document a pyproject.toml declares, and where each part of it came from."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.document: dict[str, Any] = {}
        self.findings: list[Finding] = []
        self.origin: dict[KeyPath, KeyPath] = {(): _TOOL}
        """Document path → pyproject path; the longest recorded prefix of a path applies."""
        self._project()
        self._groups()
        self._tool()

    def where(self, path: KeyPath) -> KeyPath:
        """Where the user wrote the document's ``path``."""
        for length in range(len(path), -1, -1):
            origin = self.origin.get(path[:length])
            if origin is not None:
                return (*origin, *path[length:])
        return path

    def _project(self) -> None:
        project = self.raw.get("project")
        if project is None:
            project = {}
        elif not isinstance(project, dict):
            self.findings.append(
                Finding(path=("project",), message="expected a table ([project])")
            )
            return
        dynamic = project.get("dynamic", [])
        for key, home in (("requires-python", "python"), ("dependencies", "requirements")):
            self.origin[(home,)] = ("project", key)
            if isinstance(dynamic, list) and key in dynamic:
                self.findings.append(
                    Finding(
                        path=("project", "dynamic"),
                        message=f"{key!r} is dynamic (computed by the build backend); envspec "
                        f"needs it written in pyproject.toml as project.{key}",
                    )
                )
            elif key in project:
                self.document[home] = project[key]
        if "requires-python" not in project and "requires-python" not in dynamic:
            where: KeyPath = ("project",) if "project" in self.raw else ()
            self.findings.append(
                Finding(
                    path=where,
                    message="missing 'requires-python': envspec takes the project's Python "
                    'versions from [project] requires-python (e.g. requires-python = ">=3.11")',
                )
            )

    def _groups(self) -> None:
        groups = self.raw.get("dependency-groups")
        if groups is None:
            return
        self.origin[("groups",)] = ("dependency-groups",)
        if not isinstance(groups, dict):
            self.document["groups"] = groups  # the schema says what is wrong with it
            return
        expander = _GroupExpander(groups)
        expanded: dict[str, list[Any]] = {}
        for name in groups:
            self.origin[("groups", name)] = ("dependency-groups", name)
            items = expander.expand(name)
            if items is None:
                expanded[name] = groups[name]  # not a list: the schema says so
                continue
            expanded[name] = [item for item, _ in items]
            for position, (_, origin) in enumerate(items):
                self.origin[("groups", name, position)] = origin
        self.findings.extend(expander.findings.values())
        self.document["groups"] = expanded

    def _tool(self) -> None:
        tool = self.raw.get("tool")
        table = tool.get("envspec") if isinstance(tool, dict) else None
        if table is None:
            return
        if not isinstance(table, dict):
            self.findings.append(
                Finding(path=_TOOL, message="expected a table ([tool.envspec]), got a value")
            )
            return
        for key, value in table.items():
            if key in _STANDARD_HOMES:
                self.findings.append(
                    Finding(
                        path=(*_TOOL, key),
                        message=f"{key!r} is not read from [tool.envspec] in pyproject.toml; "
                        f"it belongs in {_STANDARD_HOMES[key]}",
                    )
                )
                continue
            self.document[key] = value
            self.origin[(key,)] = (*_TOOL, key)

    def cross_value_findings(self) -> Iterator[Finding]:
        """The spec loader's rules across values, located in pyproject.toml's own terms."""
        dependencies = self.document.get("requirements")
        if isinstance(dependencies, list):
            yield from duplicate_requirements(("project", "dependencies"), dependencies)
        groups = self.raw.get("dependency-groups")
        if isinstance(groups, dict):
            for name, items in groups.items():
                if isinstance(items, list):  # as written: includes may repeat (PEP 735)
                    yield from duplicate_requirements(("dependency-groups", name), items)
            for finding in group_name_clashes(groups):
                yield Finding(path=self.where(finding.path), message=finding.message)
        resolution = self.document.get("resolution")
        if isinstance(resolution, dict) and isinstance(resolution.get("constraints"), list):
            path = (*_TOOL, "resolution", "constraints")
            yield from duplicate_requirements(path, resolution["constraints"])
        for finding in source_findings(self.document):
            yield Finding(path=self.where(finding.path), message=finding.message)
        for finding in environment_findings(self.document):
            yield Finding(path=self.where(finding.path), message=finding.message)
        indexes = self.document.get("index")
        if isinstance(indexes, list):
            for finding in duplicate_index_names(indexes):
                yield Finding(
                    path=self.where(finding.path),
                    message=finding.message.replace("by index[", "by tool.envspec.index["),
                )


class _Expansion:
    """A group's items with their origins, in order, each origin once (a diamond stays linear)."""

    def __init__(self) -> None:
        self.by_origin: dict[KeyPath, Any] = {}

    def add(self, origin: KeyPath, item: Any) -> None:
        self.by_origin.setdefault(origin, item)

    def absorb(self, other: _Expansion) -> None:
        for origin, item in other.by_origin.items():
            self.by_origin.setdefault(origin, item)

    def items_in_order(self) -> Iterator[tuple[Any, KeyPath]]:
        return ((item, origin) for origin, item in self.by_origin.items())


class _GroupExpander:
    """PEP 735 ``include-group`` expansion, with every bad include and cycle reported once."""

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups
        self.by_normal: dict[str, str] = {}
        for name in groups:
            self.by_normal.setdefault(canonicalize_name(name), name)
        self.findings: dict[object, Finding] = {}
        self.expanded: dict[str, _Expansion] = {}

    def expand(self, name: str) -> list[tuple[Any, KeyPath]] | None:
        """The group's requirement strings (and non-tables, for the schema), each with its origin;
        None when the group is not a list."""
        if not isinstance(self.groups[name], list):
            return None
        if name not in self.expanded:
            self._expand(name)
        return list(self.expanded[name].items_in_order())

    def _items(self, name: str) -> list[Any]:
        items = self.groups[name]
        return items if isinstance(items, list) else []

    def _expand(self, root: str) -> None:
        """Expand ``root`` and every group it includes, each once (memoised in ``expanded``).

        Iterative, not recursive: a chain of thousands of includes must not exhaust Python's stack,
        and a diamond (``a`` includes ``b`` and ``c``, both include ``d``, and so on) must stay
        linear, so an item reached twice by different paths is kept once, keyed by its origin."""
        frames: list[tuple[str, Iterator[tuple[int, Any]], _Expansion]] = [
            (root, enumerate(self._items(root)), _Expansion())
        ]
        while frames:
            name, items, found = frames[-1]
            step = next(items, None)
            if step is None:
                frames.pop()
                self.expanded[name] = found
                if frames:
                    frames[-1][2].absorb(found)
                continue
            position, item = step
            here: KeyPath = ("dependency-groups", name, position)
            if not isinstance(item, dict):
                found.add(here, item)
                continue
            included = item.get("include-group")
            if set(item) != {"include-group"} or not isinstance(included, str):
                self._report(
                    here,
                    Finding(
                        path=here,
                        message="expected a requirement string or a table "
                        '{include-group = "GROUP"}, got a table with keys '
                        f"{', '.join(repr(key) for key in item)}",
                    ),
                )
                continue
            target = self.by_normal.get(canonicalize_name(included))
            if target is None:
                known = ", ".join(repr(group) for group in self.groups) or "none"
                self._report(
                    here,
                    Finding(
                        path=(*here, "include-group"),
                        message=f"there is no dependency group {included!r} to include "
                        f"(groups: {known})",
                    ),
                )
                continue
            stack = [frame[0] for frame in frames]
            if target in stack:
                cycle = (*stack[stack.index(target) :], target)
                self._report(
                    frozenset(cycle),
                    Finding(
                        path=(*here, "include-group"),
                        message=f"including group {included!r} makes a cycle: {' → '.join(cycle)}",
                    ),
                )
                continue
            if target in self.expanded:
                found.absorb(self.expanded[target])
                continue
            frames.append((target, enumerate(self._items(target)), _Expansion()))

    def _report(self, key: object, finding: Finding) -> None:
        self.findings.setdefault(key, finding)
