"""The requirement and candidate values resolvelib juggles, as frozen data.

resolvelib is generic over requirement, candidate and identifier types; these are envspec's. They are
plain values on purpose (unlike pip's candidates, which download or build when constructed): making
one costs nothing, and everything that needs I/O (metadata) goes through the finder and the
:class:`~envspec.resolve.source.PackageSource`.

Identifiers: a project without extras is identified by its canonical name (``"requests"``); with
extras by ``"requests[socks]"`` (extras sorted). An extras candidate ``a[x] 1.0`` depends on its base
``a==1.0`` and on the Requires-Dist entries the extra turns on, so the base and its extras always
resolve to the same version (pip's ``ExtrasCandidate``). The target Python is a node of the graph too
(``"<python>"``), so that a Requires-Python mismatch shows up in resolvelib's conflict causes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from envspec.values.files import CandidateMetadata, FileInfo

if TYPE_CHECKING:
    from envspec.spec.model import Source

__all__ = [
    "PYTHON_IDENTIFIER",
    "Candidate",
    "DirectPackage",
    "Identifier",
    "PackageCandidate",
    "PackageRequirement",
    "PythonCandidate",
    "PythonRequirement",
    "Requirement",
    "identifier_for",
    "is_pin",
]

Identifier = str
"""A project name, ``name[extra,...]`` for a project with extras, or :data:`PYTHON_IDENTIFIER`."""

PYTHON_IDENTIFIER: Identifier = "<python>"


def identifier_for(name: NormalizedName, extras: frozenset[NormalizedName]) -> Identifier:
    if not extras:
        return name
    return f"{name}[{','.join(sorted(extras))}]"


def is_pin(specifier: SpecifierSet) -> bool:
    """Whether a specifier names one exact version (``==1.0`` or ``===1.0``; not ``==1.*``)."""
    return any(
        spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*"))
        for spec in specifier
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageRequirement:
    """A requirement on a project (with extras), with its markers already evaluated away."""

    name: NormalizedName
    extras: frozenset[NormalizedName] = frozenset()
    specifier: SpecifierSet = SpecifierSet()
    group: str | None = None
    """For a root requirement: the spec group that asked for it (None = the base requirements)."""
    root: bool = False
    """True for a requirement written in the spec, False for a dependency of a candidate."""

    @property
    def identifier(self) -> Identifier:
        return identifier_for(self.name, self.extras)

    @property
    def pinned(self) -> bool:
        return is_pin(self.specifier)

    def __str__(self) -> str:
        return f"{self.identifier}{self.specifier}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonRequirement:
    """A candidate's Requires-Python, as a requirement on the target interpreter."""

    specifier: SpecifierSet

    @property
    def identifier(self) -> Identifier:
        return PYTHON_IDENTIFIER

    def __str__(self) -> str:
        return f"Python {self.specifier}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageCandidate:
    """One version of a project (with a set of extras) that may be pinned.

    ``files`` are the files the lock would record (eligible under the options, every platform);
    ``best_file`` is the file the target would install and whose metadata describes the candidate.
    Equality and hash are by (name, version, extras): on one index that identifies the files.
    """

    name: NormalizedName
    version: Version
    extras: frozenset[NormalizedName] = frozenset()
    files: tuple[FileInfo, ...] = field(compare=False)
    best_file: FileInfo = field(compare=False)
    index_url: str = field(compare=False)

    @property
    def identifier(self) -> Identifier:
        return identifier_for(self.name, self.extras)

    def __str__(self) -> str:
        return f"{self.identifier} {self.version}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonCandidate:
    """The target interpreter: the one and only candidate for :data:`PYTHON_IDENTIFIER`."""

    version: Version

    @property
    def identifier(self) -> Identifier:
        return PYTHON_IDENTIFIER

    def __str__(self) -> str:
        return f"Python {self.version}"


Requirement = PackageRequirement | PythonRequirement
Candidate = PackageCandidate | PythonCandidate


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectPackage:
    """A project's one candidate, from its source, ready for the resolver and the lock."""

    name: NormalizedName
    source: Source
    kind: Literal["archive", "directory"]
    file: FileInfo
    """An archive's file (its sha256 and size always known), or for a directory its file: URI."""
    metadata: CandidateMetadata
    location: str
    """For the lock: the URL of a remote archive (its secret redacted, :func:`redact_url`), else
    the path relative to the lock's directory."""
    local: bool
    digest: str | None = None
    """A directory's digest of the inputs that matter (``envspec.sources.pep517.source_digest``)."""

    @property
    def editable(self) -> bool:
        return self.source.editable
