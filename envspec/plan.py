"""The reconciler's diff: what the lock selects for this target versus what the venv holds.

Pure data in, pure data out (after uv's ``Planner::build() -> Plan``): applying the plan is
``envspec.venv.apply``'s job, printing it is the CLI's. Exact by design: anything installed that the
lock does not select is removed, pip and setuptools included unless the lock has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from packaging.utils import NormalizedName
from packaging.version import Version

__all__ = ["Action", "Installed", "Plan", "Wanted", "make_plan"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Installed:
    """One distribution found in a venv's site-packages."""

    name: NormalizedName
    version: Version
    installer: str | None = None
    """The INSTALLER file's content ("envspec", "pip", ...), None when absent."""
    damaged: bool = False
    """True when its RECORD is missing or unreadable: it must be reinstalled, not trusted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Wanted:
    """One package the lock selects for this target, with the file chosen to install it."""

    name: NormalizedName
    version: Version
    url: str
    filename: str
    sha256: str
    size: int | None = None


Kind = Literal["install", "upgrade", "downgrade", "reinstall", "remove"]


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    name: NormalizedName
    old: Version | None
    new: Version | None
    wanted: Wanted | None = None

    def __str__(self) -> str:
        if self.kind == "install":
            return f"+ {self.name}=={self.new}"
        if self.kind == "remove":
            return f"- {self.name}=={self.old}"
        if self.kind == "reinstall":
            return f"~ {self.name}=={self.new} (reinstall)"
        return f"~ {self.name} {self.old} -> {self.new}"


@dataclass(frozen=True, slots=True)
class Plan:
    actions: tuple[Action, ...] = ()
    unchanged: tuple[NormalizedName, ...] = field(default=())

    def is_empty(self) -> bool:
        return not self.actions

    def of_kind(self, *kinds: Kind) -> list[Action]:
        return [a for a in self.actions if a.kind in kinds]

    @property
    def to_remove(self) -> list[Action]:
        """Everything whose current files must go first: removals and replaced versions."""
        return [a for a in self.actions if a.old is not None]

    @property
    def to_install(self) -> list[Action]:
        return [a for a in self.actions if a.wanted is not None]

    def summary(self) -> str:
        added = len(self.of_kind("install"))
        removed = len(self.of_kind("remove"))
        changed = len(self.of_kind("upgrade", "downgrade", "reinstall"))
        return f"+{added} −{removed} ~{changed}"


def make_plan(
    wanted: Iterable[Wanted],
    installed: Mapping[NormalizedName, Installed],
    *,
    reinstall: Iterable[NormalizedName] = (),
) -> Plan:
    """Actions sorted by name, so the plan (and what ``--dry-run`` prints) is deterministic."""
    forced = set(reinstall)
    wanted_by_name = {w.name: w for w in wanted}
    actions: list[Action] = []
    unchanged: list[NormalizedName] = []
    for name in sorted(set(wanted_by_name) | set(installed)):
        want = wanted_by_name.get(name)
        have = installed.get(name)
        if want is None:
            assert have is not None
            actions.append(Action("remove", name, have.version, None))
        elif have is None:
            actions.append(Action("install", name, None, want.version, want))
        elif have.version != want.version:
            kind: Kind = "upgrade" if want.version > have.version else "downgrade"
            actions.append(Action(kind, name, have.version, want.version, want))
        elif have.damaged or name in forced:
            actions.append(Action("reinstall", name, have.version, want.version, want))
        else:
            unchanged.append(name)
    return Plan(tuple(actions), tuple(unchanged))
