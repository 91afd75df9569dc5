"""The reconciler's diff: what the lock selects for this target versus what the venv holds.

Pure data in, pure data out (after uv's ``Planner::build() -> Plan``): applying the plan is
``envspec.venv.apply``'s job, printing it is the CLI's. Exact by design: anything installed that the
lock does not select is removed, pip and setuptools included unless the lock has them.

A package is identified by more than its version once it can come from a source: the same version
built from a local directory, downloaded from a URL or taken from an index are different installs
(PEP 610 records which in the dist-info's ``direct_url.json``), and a local source directory has no
version at all in a PEP 751 lock, only the digest of its inputs (recorded by envspec in the
dist-info's ``ENVSPEC_SOURCE``). So a package at the right version is still reinstalled when it
came from another source, and a directory is compared by source alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from packaging.utils import NormalizedName
from packaging.version import Version

__all__ = [
    "SOURCE_REASONS",
    "Action",
    "Installed",
    "Kind",
    "Plan",
    "Reason",
    "Wanted",
    "make_plan",
    "source_difference",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Installed:
    """One distribution found in a venv's site-packages."""

    name: NormalizedName
    version: Version
    installer: str | None = None
    """The INSTALLER file's content ("envspec", "pip", ...), None when absent."""
    damaged: bool = False
    """True when its RECORD is missing or unreadable: it must be reinstalled, not trusted."""
    direct_url: str | None = None
    """The ``url`` of the dist-info's ``direct_url.json`` (PEP 610): where it was installed from
    when that was a URL or a local path; None when absent (installed from an index)."""
    editable: bool = False
    """``direct_url.json``'s ``dir_info.editable``: installed in editable mode (PEP 660)."""
    source_digest: str | None = None
    """The dist-info's ``ENVSPEC_SOURCE``: the digest of the local source it was built from."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Wanted:
    """One package the lock selects for this target, with the file chosen to install it."""

    name: NormalizedName
    version: Version | None
    """None for a local directory: PEP 751 records no version for a source tree."""
    url: str
    """The wheel, sdist or archive to download, or the ``file:`` URI of the directory."""
    filename: str
    """The file's name; for a directory, the directory's name."""
    sha256: str | None
    """Of the file to download; None for a directory."""
    size: int | None = None
    kind: Literal["wheel", "sdist", "directory"] = "wheel"
    """How the wheel to install is obtained: downloaded as is, or built from an sdist (or
    archive) or from a directory; for the last two the installed wheel's digest is not
    ``sha256``."""
    editable: bool = False
    """A directory installed in editable mode (PEP 660)."""
    direct_url: str | None = None
    """The PEP 610 ``url`` for ``direct_url.json`` when the package comes from a URL or a local
    path; None when it comes from an index."""
    source_digest: str | None = None
    """A directory's digest of its inputs, as the lock records it; written to ``ENVSPEC_SOURCE``."""
    source_label: str | None = None
    """How to show the source to a person ("libs/mylib", a URL); None for an index."""
    dependencies: tuple[str, ...] | None = None
    """The dependency names the lock records (None: it records none); a downloaded wheel's own
    METADATA must agree before it is installed (a PEP 658 file may have lied at lock time)."""


Kind = Literal["install", "upgrade", "downgrade", "reinstall", "remove"]

Reason = Literal[
    "damaged",
    "requested",
    "source-switched",
    "now-editable",
    "no-longer-editable",
    "source-changed",
]
"""Why a package at the right version (or a directory) is reinstalled."""

_REASON_WORDS: dict[Reason, str] = {
    "damaged": "reinstall",
    "requested": "reinstall",
    "source-switched": "source switched",
    "now-editable": "now editable",
    "no-longer-editable": "no longer editable",
    "source-changed": "source changed",
}

SOURCE_REASONS: frozenset[Reason] = frozenset(
    {"source-switched", "now-editable", "no-longer-editable", "source-changed"}
)


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    name: NormalizedName
    old: Version | None
    """The installed version; None for an install."""
    new: Version | None
    """The wanted version; None for a removal and for a local directory (it has none)."""
    wanted: Wanted | None = None
    reason: Reason | None = None
    """For a reinstall: why."""

    def __str__(self) -> str:
        label = self.wanted.source_label if self.wanted is not None else None
        if self.kind == "install":
            return _with_notes(self._wanted_text(), label)
        if self.kind == "remove":
            return f"- {self.name}=={self.old}"
        if self.kind == "reinstall":
            words = _REASON_WORDS[self.reason or "requested"]
            if self.reason == "source-switched" and self.wanted and not self.wanted.direct_url:
                words = "now from an index"
            return "~ " + _with_notes(self._wanted_text()[2:], label, words)
        return f"~ {self.name} {self.old} -> {self.new}"

    def _wanted_text(self) -> str:
        return f"+ {self.name}" if self.new is None else f"+ {self.name}=={self.new}"


def _with_notes(text: str, *notes: str | None) -> str:
    shown = [note for note in notes if note]
    return f"{text} ({', '.join(shown)})" if shown else text


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
    """Actions sorted by name, so the plan (and what ``--dry-run`` prints) is deterministic.

    A wanted package is installed when absent; upgraded or downgraded when installed at another
    version (a directory, which has no version, never is); reinstalled when damaged, when asked
    (``reinstall``) or when its source differs: another ``direct_url`` (another URL or path, or
    an index instead of one, or the reverse), editable or not, another source digest. Anything
    installed that is not wanted is removed.
    """
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
        elif want.version is not None and have.version != want.version:
            kind: Kind = "upgrade" if want.version > have.version else "downgrade"
            actions.append(Action(kind, name, have.version, want.version, want))
        elif have.damaged:
            actions.append(Action("reinstall", name, have.version, want.version, want, "damaged"))
        elif name in forced:
            actions.append(Action("reinstall", name, have.version, want.version, want, "requested"))
        elif (reason := source_difference(want, have)) is not None:
            actions.append(Action("reinstall", name, have.version, want.version, want, reason))
        else:
            unchanged.append(name)
    return Plan(tuple(actions), tuple(unchanged))


def source_difference(want: Wanted, have: Installed) -> Reason | None:
    """Why ``have`` did not come from ``want``'s source; None when it did. The place first
    (another URL or path, or an index instead of one), then the mode, then the content."""
    if want.direct_url != have.direct_url:
        return "source-switched"
    if want.editable != have.editable:
        return "now-editable" if want.editable else "no-longer-editable"
    if want.source_digest != have.source_digest:
        return "source-changed"
    return None
