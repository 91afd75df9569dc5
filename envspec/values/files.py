"""The values every tier shares about distributions: a file an index lists, a project's files on
one index, and the part of a distribution's metadata that resolution needs.

They live below every tier (the index produces them, the resolver judges them, the lock records
them, the installer fetches them), so none of those has to import another to speak about a file.
Pure data: no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesParser
from email.policy import compat32
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from envspec.errors import OutsideWorldError

__all__ = ["CandidateMetadata", "FileInfo", "InvalidMetadata", "ProjectFiles"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FileInfo:
    """One distribution file of a project as an index lists it (PEP 691 / PEP 503 / PEP 700)."""

    filename: str
    url: str
    """Absolute URL, never carrying credentials (the index client adds those when it fetches)."""
    index_url: str
    """The simple-API root this file was listed by (credentials stripped), for the lock."""
    hashes: Mapping[str, str] = field(default_factory=dict)
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    size: int | None = None
    upload_time: datetime | None = None
    metadata_hashes: Mapping[str, str] | None = None
    """PEP 658/714: None when the index does not advertise a ``.metadata`` file, else its hashes
    (possibly empty when advertised as ``true`` without a hash)."""

    @property
    def kind(self) -> Literal["wheel", "sdist", "other"]:
        if self.filename.endswith(".whl"):
            return "wheel"
        if self.filename.endswith((".tar.gz", ".zip")):
            return "sdist"
        return "other"

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")

    def name_and_version(self) -> tuple[NormalizedName, Version] | None:
        """Parsed from the filename; None for a file whose name is not a valid wheel or sdist name."""
        return _name_and_version(self.filename)

    def wheel_tags(self) -> frozenset[Tag]:
        if self.kind != "wheel":
            return frozenset()
        try:
            return parse_wheel_filename(self.filename)[3]
        except InvalidWheelFilename:
            return frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectFiles:
    """Every file of one project on the one index that serves it (indexes are never merged)."""

    name: NormalizedName
    index_url: str
    files: tuple[FileInfo, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateMetadata:
    """The part of a distribution's core metadata that resolution needs."""

    name: NormalizedName
    version: Version
    requires_dist: tuple[Requirement, ...] = ()
    requires_python: SpecifierSet | None = None
    provides_extra: frozenset[NormalizedName] = frozenset()

    @classmethod
    def from_bytes(cls, data: bytes, *, origin: str) -> CandidateMetadata:
        """Parse a METADATA / PKG-INFO / PEP 658 file. ``origin`` names it in errors (a URL)."""
        message = BytesParser(policy=compat32).parsebytes(data)
        raw_name = message.get("Name")
        raw_version = message.get("Version")
        if not raw_name or not raw_version:
            raise InvalidMetadata(origin, "it has no Name or no Version field")
        try:
            version = Version(str(raw_version).strip())
        except ValueError:
            raise InvalidMetadata(origin, f"Version {raw_version!r} is not a PEP 440 version")
        requirements: list[Requirement] = []
        for line in message.get_all("Requires-Dist") or []:
            try:
                requirements.append(Requirement(str(line).strip()))
            except InvalidRequirement as error:
                raise InvalidMetadata(origin, f"Requires-Dist {line!r}: {error}") from None
        requires_python: SpecifierSet | None = None
        raw_rp = message.get("Requires-Python")
        if raw_rp and str(raw_rp).strip():
            try:
                requires_python = SpecifierSet(str(raw_rp).strip())
            except InvalidSpecifier as error:
                raise InvalidMetadata(origin, f"Requires-Python {raw_rp!r}: {error}") from None
        extras = frozenset(
            canonicalize_name(str(extra).strip())
            for extra in message.get_all("Provides-Extra") or []
        )
        return cls(
            name=canonicalize_name(str(raw_name).strip()),
            version=version,
            requires_dist=tuple(requirements),
            requires_python=requires_python,
            provides_extra=extras,
        )


@functools.cache
def _name_and_version(filename: str) -> tuple[NormalizedName, Version] | None:
    """Memoised: the index client and the resolver both ask, for tens of thousands of files.

    For a wheel only the name and version parts are parsed here: a project page of a popular
    project lists thousands of wheels, and parsing every compatibility tag up front dominated
    resolution time. The tags are parsed (and validated) by ``FileInfo.wheel_tags()`` and
    ``Target.wheel_rank()`` for the versions the resolver actually considers.
    """
    try:
        if filename.endswith(".whl"):
            parts = filename[:-4].split("-")
            if len(parts) not in (5, 6):
                return None
            return canonicalize_name(parts[0]), Version(parts[1])
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)
    except (InvalidSdistFilename, InvalidVersion):
        return None
    return None


class InvalidMetadata(OutsideWorldError):
    """A distribution's metadata cannot be parsed; the package, not the user, is at fault."""

    def __init__(self, origin: str, reason: str) -> None:
        super().__init__(f"The metadata of {origin} is invalid: {reason}.")
        self.origin = origin
        self.reason = reason
