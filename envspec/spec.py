"""envspec.toml → Spec: the validated, typed form of what the user wrote.

(Loader to be completed: parse_spec / load_spec.) The dataclasses below are the contract the rest of
envspec builds on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

__all__ = ["DEFAULT_INDEX_URL", "Index", "ResolutionOptions", "Spec"]

DEFAULT_INDEX_URL = "https://pypi.org/simple"

Prereleases = Literal["allow", "disallow", "if-necessary"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Index:
    name: str
    url: str
    packages: frozenset[NormalizedName] | None = None
    """When set, this index is consulted only for these projects."""


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
class Spec:
    path: Path
    """The spec file it was read from (absolute)."""
    python: SpecifierSet
    requirements: tuple[Requirement, ...] = ()
    groups: Mapping[NormalizedName, tuple[Requirement, ...]] = field(default_factory=dict)
    indexes: tuple[Index, ...] = (Index(name="pypi", url=DEFAULT_INDEX_URL),)
    resolution: ResolutionOptions = ResolutionOptions()
    venv_path: Path = Path(".venv")
    """As written in the spec, relative to the spec's directory unless absolute."""

    @property
    def project_dir(self) -> Path:
        return self.path.parent

    @property
    def venv_dir(self) -> Path:
        return self.project_dir / self.venv_path
