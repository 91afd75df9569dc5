"""The spec's rules across values: what a JSON schema cannot state (pass 3 of loading a spec).

A project named twice in one requirement list, two groups that normalise to the same name, two
indexes with the same name, a ``[sources]`` entry that cannot be honoured. Each rule yields
findings (:class:`Finding`: a key path and a message, no line yet); the loaders
(:mod:`envspec.spec.load`, :mod:`envspec.spec.pyproject`) give them their file and line. The rules
are tolerant: they skip whatever the schema (pass 2) already rejected.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from envspec.spec.schema import KeyPath, format_key_path
from envspec.values.urls import redact_url

__all__ = [
    "Finding",
    "cross_value_problems",
    "duplicate_index_names",
    "environment_findings",
    "duplicate_requirements",
    "group_name_clashes",
    "source_findings",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A problem before it is given its file and line."""

    path: KeyPath
    message: str
    at: KeyPath | None = None
    """The key or element whose line to report, when more precise than ``path``."""



def cross_value_problems(document: Any) -> Iterator[Finding]:
    """Duplicates a schema cannot see. Tolerant: skips whatever pass 2 already rejected."""
    if not isinstance(document, dict):
        return
    lists: list[tuple[KeyPath, Any]] = [(("requirements",), document.get("requirements"))]
    groups = document.get("groups")
    if isinstance(groups, dict):
        lists.extend((("groups", name), value) for name, value in groups.items())
        yield from group_name_clashes(groups)
    resolution = document.get("resolution")
    if isinstance(resolution, dict):
        lists.append((("resolution", "constraints"), resolution.get("constraints")))
    for list_path, value in lists:
        if isinstance(value, list):
            yield from duplicate_requirements(list_path, value)
    indexes = document.get("index")
    if isinstance(indexes, list):
        yield from duplicate_index_names(indexes)
    yield from source_findings(document)
    yield from environment_findings(document)


def environment_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    """An ``environments`` list that, with ``python``, leaves the lock nothing to cover."""
    from envspec.spec.parse import parse_environment_marker, parse_python_specifier
    from envspec.values.environments import RELEASED_MINORS, covered_environments

    raw, python = document.get("environments"), document.get("python")
    if not raw or not isinstance(raw, list) or not isinstance(python, str):
        return
    try:
        markers = [parse_environment_marker(item) for item in raw]
        specifier = parse_python_specifier(python)
    except (ValueError, TypeError):
        return  # reported by the schema pass
    if not covered_environments(specifier, markers):
        newest = ".".join(map(str, RELEASED_MINORS[-1]))
        yield Finding(
            path=("environments",),
            message=f"no environment is left to lock: python = {python!r} (CPython up to "
            f"{newest}) on Linux, macOS or Windows matches none of these markers",
        )


def source_findings(document: Mapping[str, Any]) -> Iterator[Finding]:
    """Sources that cannot be honoured: a table with both or neither of path and url, editable
    on a URL, a source for a project nothing requires, and one project given two places.
    Paths are the document's own; a pyproject.toml caller maps them to where they were written."""
    required: dict[NormalizedName, list[tuple[KeyPath, Requirement]]] = {}
    lists: list[tuple[KeyPath, Any]] = [(("requirements",), document.get("requirements"))]
    groups = document.get("groups")
    if isinstance(groups, dict):
        lists.extend((("groups", name), value) for name, value in groups.items())
    for list_path, items in lists:
        if not isinstance(items, list):
            continue
        for position, item in enumerate(items):
            try:
                requirement = Requirement(item) if isinstance(item, str) else None
            except ValueError:
                continue
            if requirement is not None:
                name = canonicalize_name(requirement.name)
                required.setdefault(name, []).append(((*list_path, position), requirement))
    sources = document.get("sources")
    named: set[NormalizedName] = set()
    if isinstance(sources, dict):
        for key, table in sources.items():
            if not isinstance(table, dict):
                continue
            where: KeyPath = ("sources", key)
            name = canonicalize_name(key)
            named.add(name)
            has_path, has_url = "path" in table, "url" in table
            if has_path == has_url:
                yield Finding(
                    path=where,
                    message=f"source {key!r} needs exactly one of 'path' and 'url'",
                )
            elif has_url and table.get("editable"):
                yield Finding(
                    path=(*where, "editable"),
                    message=f"source {key!r} is a URL; only a local directory can be editable",
                )
            if name not in required:
                yield Finding(
                    path=where,
                    message=f"source {key!r} is for a project that no requirement names; "
                    f"add {key!r} to requirements or to a group",
                )
            for at, requirement in required.get(name, ()):
                if requirement.url:
                    yield Finding(
                        path=at,
                        message=f"{name!r} has a URL here and a [sources] entry; give it one place",
                    )
    urls: dict[NormalizedName, tuple[KeyPath, str]] = {}
    for name, occurrences in required.items():
        for at, requirement in occurrences:
            if not requirement.url or name in named:
                continue
            first = urls.setdefault(name, (at, requirement.url))
            if first[1] != requirement.url:
                yield Finding(
                    path=at,
                    message=f"{name!r} comes from {redact_url(first[1])!r} at {format_key_path(first[0])}; "
                    "one project can come from one place only",
                )


def duplicate_requirements(list_path: KeyPath, items: list[Any]) -> Iterator[Finding]:
    """A project named twice in one list, unless every occurrence has its own marker.

    ``numpy>=2; python_version >= '3.11'`` next to ``numpy<2; python_version < '3.11'`` is the
    usual way to split a requirement by environment, so that stays allowed.
    """
    seen: dict[NormalizedName, list[tuple[int, Requirement]]] = {}
    for position, item in enumerate(items):
        if not isinstance(item, str):
            continue
        try:
            requirement = Requirement(item)
        except ValueError:
            continue
        name = canonicalize_name(requirement.name)
        earlier = seen.setdefault(name, [])
        for first, other in earlier:
            split_by_marker = (
                requirement.marker is not None
                and other.marker is not None
                and str(requirement.marker) != str(other.marker)
            )
            if not split_by_marker:
                where = format_key_path((*list_path, first))
                yield Finding(
                    path=(*list_path, position),
                    message=f"{name!r} is already required at {where}; "
                    "combine them into one requirement",
                )
                break
        earlier.append((position, requirement))


def group_name_clashes(groups: dict[str, Any]) -> Iterator[Finding]:
    seen: dict[NormalizedName, str] = {}
    for name in groups:
        normal = canonicalize_name(name)
        if normal in seen:
            yield Finding(
                path=("groups", name),
                message=f"group {name!r} is the same group as {seen[normal]!r} "
                f"(group names are compared normalised, as {normal!r})",
            )
        else:
            seen[normal] = name


def duplicate_index_names(indexes: list[Any]) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for position, index in enumerate(indexes):
        if not isinstance(index, dict) or not isinstance(index.get("name"), str):
            continue
        name: str = index["name"]
        key = name.casefold()
        if key in seen:
            yield Finding(
                path=("index", position, "name"),
                message=f"index name {name!r} is already used by index[{seen[key]}]; "
                "every index needs its own name",
            )
        else:
            seen[key] = position
