"""envspec.toml → Spec: the validated, typed form of what the user wrote.

Loading happens in three passes so that one run shows the user *every* problem in the file, each
with its file, line and key path (the way ``packaging.metadata`` collects all field errors):

1. TOML syntax (``tomllib``): a syntax error is the only problem reported, since nothing else can be
   read.
2. Shape, against ``schemas/envspec.schema.json`` (:mod:`envspec.spec.schema`): types, required and
   unknown keys, enums, and the ``format`` checks built on ``packaging`` (requirements, specifiers,
   markers, dates, URLs).
3. Rules across values that a schema cannot state: a project named twice in one requirement list,
   two groups that normalise to the same name, two indexes with the same name.

``tomllib`` gives no positions, so :class:`LineLocator` scans the text once to map key paths to
line numbers. :func:`parse_spec` is pure; :func:`load_spec` is the only function here that reads a
file.
"""

from __future__ import annotations

import bisect
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Literal, cast

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from envspec.errors import OutsideWorldError, SpecError, SpecProblem, UserError
from envspec.spec.tomltext import read_key, skip, string_end
from envspec.values.urls import file_url_path, redact_url
from envspec.spec.schema import (
    KeyPath,
    format_key_path,
    json_compatible,
    parse_constraint,
    parse_date_time_or_date,
    parse_direct_url,
    parse_python_specifier,
    parse_requirement,
    validate,
)

__all__ = [
    "DEFAULT_INDEXES",
    "DEFAULT_INDEX_URL",
    "Finding",
    "Index",
    "LineLocator",
    "ResolutionOptions",
    "Source",
    "Spec",
    "build_spec",
    "duplicate_index_names",
    "duplicate_requirements",
    "group_name_clashes",
    "load_spec",
    "parse_spec",
    "read_spec_text",
    "source_findings",
    "spec_error",
    "syntax_problem",
]

DEFAULT_INDEX_URL = "https://pypi.org/simple"

Prereleases = Literal["allow", "disallow", "if-necessary"]
LinkMode = Literal["clone", "hardlink", "copy"]
"""How installed files get from envspec's unpacked-wheel cache into a venv (``[venv] link-mode``,
``--link-mode``; see ``envspec.venv.linking``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Index:
    name: str
    url: str
    packages: frozenset[NormalizedName] | None = None
    """When set, this index is consulted only for these projects."""


DEFAULT_INDEXES: tuple[Index, ...] = (Index(name="pypi", url=DEFAULT_INDEX_URL),)
"""What a spec without any [[index]] table resolves from."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolutionOptions:
    prereleases: Prereleases = "if-necessary"
    exclude_newer: datetime | None = None
    """Timezone-aware; files uploaded after this instant are ignored."""
    constraints: tuple[Requirement, ...] = ()
    only_binary: frozenset[str] = frozenset()
    """Canonical project names, or ``":all:"``."""

    def requires_binary(self, name: NormalizedName) -> bool:
        return ":all:" in self.only_binary or name in self.only_binary


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Where one project comes from instead of the indexes: a ``[sources]`` entry, or the URL of
    a ``name @ URL`` requirement. Exactly one of ``url`` and ``path`` is set."""

    url: str | None = None
    """An http(s) or absolute file: URL, without its fragment."""
    path: str | None = None
    """As written: relative to the spec's directory unless absolute."""
    editable: bool = False
    sha256: str | None = None
    """From the URL's ``#sha256=`` fragment: the download must match it."""

    def local_path(self, project_dir: Path) -> Path | None:
        """The absolute local file or directory this source names; None for a remote URL."""
        if self.path is not None:
            # a spec written on Windows ("libs\\mylib") names the same place everywhere
            written = Path(*PureWindowsPath(self.path).parts) if "\\" in self.path else Path(self.path)
            return Path(os.path.normpath(project_dir / written))
        return file_url_path(self.url) if self.url is not None else None

    def describe(self) -> str:
        """Canonical words for the lock's record of inputs and for messages."""
        if self.path is not None:
            shown = PurePosixPath(PureWindowsPath(self.path).as_posix()).as_posix()
            return f"path {shown}" + (" (editable)" if self.editable else "")
        assert self.url is not None
        return f"url {redact_url(self.url)}" + (f"#sha256={self.sha256}" if self.sha256 else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    path: Path
    """The spec file it was read from (absolute)."""
    python: SpecifierSet
    requirements: tuple[Requirement, ...] = ()
    groups: Mapping[NormalizedName, tuple[Requirement, ...]] = field(default_factory=dict)
    indexes: tuple[Index, ...] = DEFAULT_INDEXES
    resolution: ResolutionOptions = ResolutionOptions()
    venv_path: Path = Path(".venv")
    """As written in the spec, relative to the spec's directory unless absolute."""
    link_mode: LinkMode | None = None
    """``[venv] link-mode``; None: the platform's default."""
    sources: Mapping[NormalizedName, Source] = field(default_factory=dict)
    """Projects that come from a path or URL instead of an index: the ``[sources]`` table and
    every ``name @ URL`` requirement."""

    @property
    def project_dir(self) -> Path:
        return self.path.parent

    @property
    def venv_dir(self) -> Path:
        return self.project_dir / self.venv_path


# ── entry points ─────────────────────────────────────────────────────────────────────────────


def load_spec(path: Path) -> Spec:
    """Read and validate the spec at ``path``.

    Raises :class:`UserError` when there is no such file (with a hint to run ``envspec init``),
    :class:`SpecError` listing every problem in it, :class:`OutsideWorldError` when it cannot be read.
    """
    text = read_spec_text(
        path,
        missing=UserError(
            f"There is no spec file at {path}.",
            hint="Run `envspec init` to write one, or point envspec at the project that has one.",
        ),
    )
    return parse_spec(text, path=path)


def read_spec_text(path: Path, *, missing: UserError) -> str:
    """The text of a spec file (envspec.toml or pyproject.toml): ``missing`` when there is no
    such file, a SpecError naming the line when it is not UTF-8, OutsideWorldError otherwise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise missing from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory, not a spec file.") from None
    except OSError as error:
        raise OutsideWorldError(f"Cannot read {path}: {error.strerror or error}.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        problem = SpecProblem(
            path=path,
            key_path="",
            line=line,
            message=f"not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start}); "
            "TOML files must be UTF-8",
        )
        raise SpecError(path, [problem]) from None


def parse_spec(text: str, *, path: Path) -> Spec:
    """Validate ``text`` as the spec file ``path`` and build the Spec; never touches the filesystem.

    Problems name ``path`` exactly as given (so callers choose relative or absolute wording);
    ``Spec.path`` is made absolute.
    """
    try:
        return _parse_spec(text, path=path)
    except RecursionError:
        raise too_deep(path) from None


def too_deep(path: Path) -> SpecError:
    """The error for a file nested deeper than Python's stack allows to read (``a = [[[[…``):
    bad input like any other, never a crash."""
    return SpecError(
        path, [SpecProblem(path=path, key_path="", message="arrays or tables nested too deeply")]
    )


def _parse_spec(text: str, *, path: Path) -> Spec:
    text = text.removeprefix("\ufeff")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(path, [syntax_problem(error, text, path)]) from None
    document = json_compatible(raw)

    findings = [
        Finding(path=problem.path, at=problem.at, message=problem.message)
        for problem in validate(document)
    ]
    findings.extend(_cross_value_problems(document))
    if findings:
        raise spec_error(findings, text, path)
    return build_spec(document, path)


def spec_error(findings: Iterable[Finding], text: str, path: Path) -> SpecError:
    """Every finding located in ``text`` (its line) and listed in file order; a problem without a
    line concerns the whole file and comes first."""
    locator = LineLocator(text)
    problems = [
        SpecProblem(
            path=path,
            key_path=format_key_path(finding.path),
            message=finding.message,
            line=locator.line_of(finding.at or finding.path),
        )
        for finding in findings
    ]
    problems.sort(key=lambda problem: problem.line or 0)  # stable: same line keeps its order
    return SpecError(path, problems)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A problem before it is given its file and line."""

    path: KeyPath
    message: str
    at: KeyPath | None = None
    """The key or element whose line to report, when more precise than ``path``."""


# ── pass 1: TOML syntax ──────────────────────────────────────────────────────────────────────

_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def syntax_problem(error: tomllib.TOMLDecodeError, text: str, path: Path) -> SpecProblem:
    message = str(error).splitlines()[0]
    line: int | None = getattr(error, "lineno", None)
    column: int | None = getattr(error, "colno", None)
    match = _TOML_POSITION.search(message)
    if match:
        message = message[: match.start()]
        if match[1]:
            line, column = int(match[1]), int(match[2])
        else:  # at end of document: the last line that has anything on it
            line = len(text.rstrip().splitlines()) or 1
            column = None
    elif hasattr(error, "msg"):  # Python 3.14+: the position lives in attributes
        message = str(error.msg)
    where = f" (column {column})" if column is not None else ""
    return SpecProblem(path=path, key_path="", line=line, message=f"invalid TOML: {message}{where}")


# ── pass 3: rules across values ──────────────────────────────────────────────────────────────


def _cross_value_problems(document: Any) -> Iterator[Finding]:
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


# ── building the Spec from a document that passed every check ────────────────────────────────


def build_spec(document: Mapping[str, Any], path: Path) -> Spec:
    groups: dict[NormalizedName, tuple[Requirement, ...]] = {
        canonicalize_name(name): tuple(parse_requirement(item) for item in items)
        for name, items in document.get("groups", {}).items()
    }
    index_tables = document.get("index")
    indexes = (
        tuple(
            Index(
                name=table["name"],
                url=table["url"],
                packages=(
                    frozenset(canonicalize_name(name) for name in table["packages"])
                    if "packages" in table
                    else None
                ),
            )
            for table in index_tables
        )
        if index_tables
        else DEFAULT_INDEXES
    )
    resolution: Mapping[str, Any] = document.get("resolution", {})
    exclude_newer = resolution.get("exclude-newer")
    options = ResolutionOptions(
        prereleases=cast(Prereleases, resolution.get("prereleases", "if-necessary")),
        exclude_newer=None if exclude_newer is None else parse_date_time_or_date(exclude_newer),
        constraints=tuple(parse_constraint(item) for item in resolution.get("constraints", ())),
        only_binary=frozenset(
            item if item == ":all:" else canonicalize_name(item)
            for item in resolution.get("only-binary", ())
        ),
    )
    venv: Mapping[str, Any] = document.get("venv", {})
    requirements = tuple(parse_requirement(item) for item in document.get("requirements", ()))
    return Spec(
        path=path.absolute(),
        python=parse_python_specifier(document["python"]),
        requirements=requirements,
        groups=groups,
        indexes=indexes,
        resolution=options,
        venv_path=Path(venv.get("path", ".venv")),
        link_mode=cast("LinkMode | None", venv.get("link-mode")),
        sources=_sources(document.get("sources", {}), [requirements, *groups.values()]),
    )


def _sources(
    tables: Mapping[str, Mapping[str, Any]], lists: Iterable[Iterable[Requirement]]
) -> dict[NormalizedName, Source]:
    found: dict[NormalizedName, Source] = {}
    for requirements in lists:
        for requirement in requirements:
            if requirement.url:
                url, sha256 = parse_direct_url(requirement.url)
                found[canonicalize_name(requirement.name)] = Source(url=url, sha256=sha256)
    for key, table in tables.items():
        if "url" in table:
            url, sha256 = parse_direct_url(table["url"])
            found[canonicalize_name(key)] = Source(url=url, sha256=sha256)
        else:
            found[canonicalize_name(key)] = Source(
                path=table["path"], editable=bool(table.get("editable", False))
            )
    return dict(sorted(found.items()))


# ── line numbers for key paths ───────────────────────────────────────────────────────────────

_SCALAR_END = re.compile(r"[,\]}\n#]|\r\n")


class LineLocator:
    """Maps key paths (``index[1].url``, ``groups.dev[0]``) to the 1-based line they start on.

    A structural scan of text that ``tomllib`` already accepted: it follows tables, arrays of
    tables, dotted keys, inline tables and (multi-line) arrays, and skips over strings and scalars
    without interpreting them. A path it did not record falls back to its nearest recorded parent.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [position for position, char in enumerate(text) if char == "\n"]
        self.lines: dict[KeyPath, int] = {}
        try:
            self._scan()
        except (IndexError, ValueError):  # never let a locator gap hide the real problems
            pass

    def line_of(self, path: KeyPath) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    # -- scanning helpers --

    def _line(self, position: int) -> int:
        return bisect.bisect_right(self.newlines, position - 1) + 1

    def _record(self, path: KeyPath, position: int) -> None:
        self.lines.setdefault(path, self._line(position))

    def _skip(self, i: int, *, newlines: bool) -> int:
        return skip(self.text, i, newlines=newlines)

    def _skip_string(self, i: int) -> int:
        return string_end(self.text, i)

    def _key(self, i: int) -> tuple[list[str], int]:
        return read_key(self.text, i)

    # -- the structure --

    def _scan(self) -> None:
        text = self.text
        current: KeyPath = ()
        tables_arrays: dict[KeyPath, int] = {}
        i = 0
        while True:
            i = self._skip(i, newlines=True)
            if i >= len(text):
                return
            start = i
            if text.startswith("[[", i):
                parts, i = self._key(i + 2)
                current = self._resolve(parts, tables_arrays, start, append=True)
                i += 2
            elif text[i] == "[":
                parts, i = self._key(i + 1)
                current = self._resolve(parts, tables_arrays, start, append=False)
                i += 1
            else:
                parts, i = self._key(i)
                path = current
                for part in parts:
                    path = (*path, part)
                    self._record(path, start)
                i = self._skip(i, newlines=False) + 1  # the "="
                i = self._value(self._skip(i, newlines=False), path)
            i = self._skip(i, newlines=False)
            if i < len(text) and text[i] == "#":
                end = text.find("\n", i)
                i = len(text) if end < 0 else end

    def _resolve(
        self, parts: list[str], tables_arrays: dict[KeyPath, int], start: int, *, append: bool
    ) -> KeyPath:
        path: KeyPath = ()
        for position, part in enumerate(parts):
            path = (*path, part)
            last = position == len(parts) - 1
            if last and append:
                count = tables_arrays.get(path, 0)
                tables_arrays[path] = count + 1
                self._record(path, start)
                path = (*path, count)
            elif path in tables_arrays:
                path = (*path, tables_arrays[path] - 1)
            self._record(path, start)
        return path

    def _value(self, i: int, path: KeyPath) -> int:
        text = self.text
        char = text[i]
        if char in "\"'":
            return self._skip_string(i)
        if char == "[":
            i += 1
            position = 0
            while True:
                i = self._skip(i, newlines=True)
                if text[i] == "]":
                    return i + 1
                self._record((*path, position), i)
                i = self._skip(self._value(i, (*path, position)), newlines=True)
                if text[i] == ",":
                    i += 1
                    position += 1
                elif text[i] != "]":
                    raise ValueError("not an array")
        if char == "{":
            i += 1
            while True:
                i = self._skip(i, newlines=False)
                if text[i] == "}":
                    return i + 1
                start = i
                parts, i = self._key(i)
                inner = path
                for part in parts:
                    inner = (*inner, part)
                    self._record(inner, start)
                i = self._skip(i, newlines=False) + 1  # the "="
                i = self._skip(self._value(self._skip(i, newlines=False), inner), newlines=False)
                if text[i] == ",":
                    i += 1
                elif text[i] != "}":
                    raise ValueError("not an inline table")
        match = _SCALAR_END.search(text, i)
        return len(text) if match is None else match.start()
