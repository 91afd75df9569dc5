"""envspec.toml → Spec: read, validate, build; every problem in the file reported at once.

Loading happens in three passes so that one run shows the user *every* problem in the file, each
with its file, line and key path (the way ``packaging.metadata`` collects all field errors):

1. TOML syntax (``tomllib``): a syntax error is the only problem reported, since nothing else can be
   read.
2. Shape, against ``schemas/envspec.schema.json`` (:mod:`envspec.spec.schema`): types, required and
   unknown keys, enums, and the ``format`` checks built on ``packaging`` (requirements, specifiers,
   markers, dates, URLs).
3. Rules across values that a schema cannot state (:mod:`envspec.spec.rules`).

``tomllib`` gives no positions, so :class:`~envspec.spec.tomltext.LineLocator` scans the text to map
key paths to line numbers. :func:`parse_spec` is pure; :func:`load_spec` and
:func:`read_spec_text` are the only functions here that read a file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from envspec.errors import OutsideWorldError, SpecError, SpecProblem, UserError
from envspec.spec.model import (
    DEFAULT_INDEXES,
    Index,
    LinkMode,
    Prereleases,
    ResolutionOptions,
    Source,
    Spec,
)
from envspec.spec.rules import Finding, cross_value_problems
from envspec.spec.parse import (
    parse_constraint,
    parse_date_time_or_date,
    parse_direct_url,
    parse_environment_marker,
    parse_python_specifier,
    parse_requirement,
)
from envspec.spec.schema import format_key_path, json_compatible, validate
from envspec.spec.tomltext import LineLocator

__all__ = [
    "build_spec",
    "load_spec",
    "parse_spec",
    "read_spec_text",
    "spec_error",
    "syntax_problem",
    "too_deep",
]


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
    findings.extend(cross_value_problems(document))
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
        environments=tuple(map(parse_environment_marker, document.get("environments", ()))),
        required_environments=tuple(
            map(parse_environment_marker, document.get("required-environments", ()))
        ),
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
