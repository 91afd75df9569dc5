"""The spec as values: what envspec.toml (or pyproject.toml) declares, validated and typed.

Frozen dataclasses and nothing else: reading and validating a spec file is
:mod:`envspec.spec.load`'s (and :mod:`envspec.spec.pyproject`'s) job. Every tier above reads a
:class:`Spec`; the lock model records its inputs, so this module stays light (no TOML parser).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Literal

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from envspec.values.urls import file_url_path, redact_url

__all__ = [
    "DEFAULT_INDEXES",
    "DEFAULT_INDEX_URL",
    "Index",
    "LinkMode",
    "Prereleases",
    "ResolutionOptions",
    "Source",
    "Spec",
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
    wheels_required: bool = False
    """Set for an environment of the spec's ``required-environments``: there, a version counts as
    installable only through a wheel (an sdist is still recorded for the others)."""

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
    environments: tuple[Marker, ...] = ()
    """Markers narrowing what the lock covers (none: every supported environment)."""
    required_environments: tuple[Marker, ...] = ()
    """Markers of covered environments where every package must have a wheel."""
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
