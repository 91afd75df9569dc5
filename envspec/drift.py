"""The drift report behind ``envspec check``: what differs between spec, lock and venv.

A CI job needs one answer (clean or not, as an exit code), a person needs to see at a glance what
is wrong and what fixes it, and a machine needs every difference as data. So the check is split in
two: the edges (``envspec.commands.check``, ``envspec.venv.verify``) gather :class:`Finding` values,
and this module, with no I/O at all, compares packages and turns findings into the verdict, the
text sections and the JSON document described by ``schemas/check-report.schema.json``.

Every finding has the same five fields whatever its kind (``package``, ``expected``, ``actual``,
``path``, ``detail``, any of them null), so the JSON stays one flat, stable list that a script
can filter by ``kind`` without knowing each kind's shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:  # the clean report of a vouched-for venv is built without packaging
    from packaging.utils import NormalizedName

    from envspec.plan import Action, Installed, Reason, Wanted

__all__ = [
    "FINDING_KINDS",
    "LOCK_KINDS",
    "REPORT_VERSION",
    "DriftReport",
    "Finding",
    "FindingKind",
    "compare_packages",
]

REPORT_VERSION = 1
"""``version`` of the JSON document; raised only when a change could break a reader."""

FindingKind = Literal[
    "missing-lock",
    "stale-lock",
    "missing-venv",
    "python-mismatch",
    "modified-venv",
    "missing",
    "wrong-version",
    "changed-source",
    "extraneous",
    "damaged",
    "modified-file",
    "missing-file",
    "changed-mode",
    "unowned-file",
    "startup-file",
    "stray-bytecode",
]
FINDING_KINDS: tuple[FindingKind, ...] = get_args(FindingKind)
"""Every kind, in the order the check looks for them (and the report lists them)."""

LOCK_KINDS: frozenset[FindingKind] = frozenset({"missing-lock", "stale-lock"})
"""Kinds fixed by re-locking; every other kind is fixed by a sync."""

_FILE_KINDS: frozenset[FindingKind] = frozenset(
    {
        "damaged",
        "modified-file",
        "missing-file",
        "changed-mode",
        "unowned-file",
        "startup-file",
        "stray-bytecode",
    }
)
"""Kinds a plain sync does not repair (the installed versions are right): they need
``--reinstall``, which rewrites every file from the verified wheels and removes every file in
site-packages that no RECORD owns. ``modified-venv`` is repaired by any sync (it recreates the
venv), ``--reinstall`` included."""

_ORDER = {kind: position for position, kind in enumerate(FINDING_KINDS)}

_SECTIONS: dict[FindingKind, str] = {
    "missing-lock": "No lock:",
    "stale-lock": "The lock is stale for the spec:",
    "missing-venv": "No venv:",
    "python-mismatch": "Wrong Python:",
    "modified-venv": "The venv itself was changed (its interpreter or pyvenv.cfg):",
    "missing": "Missing packages (locked, not installed):",
    "wrong-version": "Wrong versions:",
    "changed-source": "Installed from another source (or an outdated one):",
    "extraneous": "Extraneous packages (not in the lock):",
    "damaged": "Damaged packages (cannot be verified or uninstalled reliably):",
    "modified-file": "Modified files:",
    "missing-file": "Missing files:",
    "changed-mode": "Files whose permissions changed:",
    "unowned-file": "Files no RECORD owns (added to site-packages):",
    "startup-file": "Startup files no RECORD owns (run by every Python start):",
    "stray-bytecode": "Bytecode that does not match its source (or has none):",
}

# How the verdict counts each kind: (singular, plural); None: named, not counted.
_COUNTED: dict[FindingKind, tuple[str, str] | None] = {
    "missing-lock": None,
    "stale-lock": None,
    "missing-venv": None,
    "python-mismatch": None,
    "modified-venv": ("changed venv file", "changed venv files"),
    "missing": ("missing", "missing"),
    "wrong-version": ("wrong version", "wrong versions"),
    "changed-source": ("changed source", "changed sources"),
    "extraneous": ("extraneous", "extraneous"),
    "damaged": ("damaged", "damaged"),
    "modified-file": ("modified file", "modified files"),
    "missing-file": ("missing file", "missing files"),
    "changed-mode": ("changed mode", "changed modes"),
    "unowned-file": ("unowned file", "unowned files"),
    "startup-file": ("startup file", "startup files"),
    "stray-bytecode": ("stray bytecode file", "stray bytecode files"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One difference between what the spec and lock say and what is there."""

    kind: FindingKind
    package: str | None = None
    """The normalised name of the distribution concerned; None for lock, venv and Python
    findings (and for a file no single distribution owns)."""
    expected: str | None = None
    """What the lock or the RECORD says: a version, a Python specifier, a size or a sha256, or
    (``changed-source``) where the package comes from."""
    actual: str | None = None
    """What was found instead, in the same form; None when nothing was found."""
    path: str | None = None
    """The file concerned: relative to the venv root for file findings (``/`` separators),
    the lock or the venv itself for lock and venv findings."""
    detail: str | None = None
    """Anything else a reader needs: who installed a package, why a lock is stale, ..."""

    def to_json(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "package": self.package,
            "expected": self.expected,
            "actual": self.actual,
            "path": self.path,
            "detail": self.detail,
        }

    def describe(self) -> str:
        """This finding as one line of its section (without the indent)."""
        kind = self.kind
        if kind in ("missing-lock", "stale-lock", "missing-venv"):
            return self.detail or self.path or kind
        if kind == "python-mismatch":
            line = f"Python {self.actual or '?'}, expected {self.expected or '?'}"
            return f"{line} ({self.detail})" if self.detail else line
        if kind == "missing":
            return f"{self.package} {self.expected}"
        if kind == "wrong-version":
            line = f"{self.package} {self.expected} locked, {self.actual} installed"
            return f"{line} ({self.detail})" if self.detail else line
        if kind == "changed-source":
            line = f"{self.package} from {self.expected or 'the lock'}"
            return f"{line}: {self.detail}" if self.detail else line
        if kind == "extraneous":
            line = f"{self.package} {self.actual}"
            return f"{line} ({self.detail})" if self.detail else line
        if kind == "damaged":
            line = f"{self.package} {self.actual}" if self.actual else f"{self.package}"
            return f"{line}: {self.detail}" if self.detail else line
        # file kinds: the path first, so a column of paths reads at a glance
        owner = f" ({self.package})" if self.package else ""
        line = f"{self.path}{owner}"
        return f"{line}: {self.detail}" if self.detail else line

    def sort_key(self) -> tuple[int, str, str, str]:
        return (_ORDER[self.kind], self.package or "", self.path or "", self.detail or "")


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftReport:
    """Everything one ``envspec check`` found, and what it looked at.

    ``findings`` is kept sorted (by kind in check order, then package, then path) and without
    duplicates, so the text and JSON are deterministic. A package reported damaged twice (by the
    package comparison, which only knows *that* it is, and by the file scan, which knows *why*)
    appears once: the later finding wins.
    """

    findings: tuple[Finding, ...] = ()
    checked_packages: int = 0
    """How many installed distributions were compared with the lock."""
    checked_files: int = 0
    """How many RECORD entries were verified (0 with ``--no-verify-files``)."""
    verified_files: bool = False
    """False when file verification was skipped (``--no-verify-files``, or an earlier failure)."""
    venv: str = ".venv"
    """The venv as the user knows it (the spec's ``[venv] path``), for the text and the JSON."""
    lock: str = "pylock.toml"
    """The lock file as the user knows it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "findings", _normalised(self.findings))

    def is_clean(self) -> bool:
        return not self.findings

    def of_kind(self, *kinds: FindingKind) -> list[Finding]:
        return [f for f in self.findings if f.kind in kinds]

    def counts(self) -> dict[FindingKind, int]:
        """How many findings of each kind, in check order; kinds with none are left out."""
        counts: dict[FindingKind, int] = {}
        for finding in self.findings:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        return counts

    def fix_command(self) -> str | None:
        """The one command that fixes everything found; None when clean.

        A stale or missing lock alone is fixed by ``envspec lock``; anything about the venv by
        ``envspec sync``, which also re-locks first when the lock is stale.
        """
        if not self.findings:
            return None
        if all(f.kind in LOCK_KINDS for f in self.findings):
            return "envspec lock"
        if any(f.kind in _FILE_KINDS for f in self.findings):
            return "envspec sync --reinstall"  # versions match: only a reinstall rewrites files
        return "envspec sync"

    def verdict(self) -> str:
        """The first line of the text report: ✓ or ✗ and what, in a few words."""
        if not self.findings:
            packages = _plural(self.checked_packages, "package", "packages")
            if self.verified_files:
                files = _plural(self.checked_files, "file", "files")
                return f"✓ {self.venv} matches {self.lock} ({packages}, {files} verified)"
            return f"✓ {self.venv} matches {self.lock} ({packages}; files not verified)"
        counts = self.counts()
        parts: list[str] = []
        if "missing-lock" in counts:
            parts.append(f"{self.lock} does not exist")
        elif "stale-lock" in counts:
            parts.append(f"{self.lock} is stale for the spec")
        if "missing-venv" in counts:
            parts.append(f"{self.venv} does not exist")
        drift: list[str] = []
        if "python-mismatch" in counts:
            drift.append("wrong Python")
        for kind, count in counts.items():
            words = _COUNTED[kind]
            if words is not None:
                drift.append(_plural(count, *words))
        if drift:
            parts.append(f"{self.venv} drifted from {self.lock}: {', '.join(drift)}")
        return "✗ " + "; ".join(parts)

    def render_text(self) -> str:
        """The human report: the verdict, one section per kind of finding (one item per line),
        then the command that fixes it. No trailing newline."""
        lines = [self.verdict()]
        kind: FindingKind | None = None
        for finding in self.findings:
            if finding.kind != kind:
                kind = finding.kind
                lines.extend(["", _SECTIONS[kind]])
            lines.append("  " + finding.describe())
        fix = self.fix_command()
        if fix is not None:
            lines.extend(["", f"Fix: {fix}"])
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document (``schemas/check-report.schema.json``)."""
        return {
            "version": REPORT_VERSION,
            "clean": self.is_clean(),
            "venv": self.venv,
            "lock": self.lock,
            "checked": {
                "packages": self.checked_packages,
                "files": self.checked_files,
                "files_verified": self.verified_files,
            },
            "findings": [finding.to_json() for finding in self.findings],
            "fix": self.fix_command(),
        }


def compare_packages(
    wanted: Iterable[Wanted], installed: Mapping[NormalizedName, Installed]
) -> list[Finding]:
    """The package-level drift (step 3 of the check): what the lock selects for this target and
    groups (``wanted``) against what the venv holds.

    - ``missing``: locked, not installed (``expected`` the locked version);
    - ``wrong-version``: installed at another version (``expected`` locked, ``actual`` installed);
    - ``changed-source``: at the locked version (or a local directory, which has none) but from
      another source, or an outdated build of the local source, or editable when it should not
      be (or the reverse): ``expected`` where the lock takes it from ("libs/mylib", a URL, "an
      index"), ``actual`` where the installed one came from (its ``direct_url.json`` URL, "an
      index"), ``detail`` what differs;
    - ``extraneous``: installed, not selected by the lock (``actual`` its version);
    - ``damaged``: at the locked version but without a readable RECORD or METADATA, or installed
      twice: a sync reinstalls it.

    ``detail`` says who installed a wrong or extraneous package (``INSTALLER``): "installed by pip"
    usually means someone ran pip by hand in the venv. Sorted by name.
    """
    findings: list[Finding] = []
    from envspec.plan import SOURCE_REASONS, make_plan

    for action in make_plan(wanted, installed).actions:
        have = installed.get(action.name)
        who = _installed_by(have)
        if action.kind == "install":
            findings.append(
                Finding(kind="missing", package=action.name, expected=_locked(action))
            )
        elif action.kind in ("upgrade", "downgrade"):
            findings.append(
                Finding(
                    kind="wrong-version",
                    package=action.name,
                    expected=str(action.new),
                    actual=str(action.old),
                    detail=who,
                )
            )
        elif action.kind == "remove":
            findings.append(
                Finding(kind="extraneous", package=action.name, actual=str(action.old), detail=who)
            )
        elif action.reason in SOURCE_REASONS and have is not None and action.wanted is not None:
            findings.append(_changed_source(action.name, action.wanted, have, action.reason))
        else:  # reinstall: right version, but not to be trusted
            findings.append(
                Finding(
                    kind="damaged",
                    package=action.name,
                    expected=_locked(action),
                    actual=str(action.old),
                    detail="its RECORD or METADATA is missing or unreadable, or it is installed "
                    "more than once",
                )
            )
    return findings


def _locked(action: Action) -> str:
    """The locked version, or for a local directory (no version) where it comes from."""
    if action.new is not None:
        return str(action.new)
    wanted = action.wanted
    assert wanted is not None
    return _source_of(wanted)


def _source_of(wanted: Wanted) -> str:
    return wanted.source_label or wanted.direct_url or "an index"


def _changed_source(
    name: NormalizedName, wanted: Wanted, installed: Installed, reason: Reason | None
) -> Finding:
    from envspec.values.urls import redact_url

    # a direct_url.json written before URLs were redacted may hold a password: never show it
    actual = redact_url(installed.direct_url) if installed.direct_url else "an index"
    if reason == "now-editable":
        detail = "it is installed not editable; the lock wants it editable"
    elif reason == "no-longer-editable":
        detail = "it is installed editable; the lock wants it not editable"
    elif reason == "source-changed":
        detail = "the local source changed since it was installed"
    else:
        detail = f"it was installed from {actual}"
    return Finding(
        kind="changed-source",
        package=name,
        expected=_source_of(wanted),
        actual=actual,
        detail=detail,
    )


def _installed_by(installed: Installed | None) -> str:
    if installed is None or not installed.installer:
        return "installer unknown"
    return f"installed by {installed.installer}"


def _normalised(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    unique: dict[tuple[str, ...], Finding] = {}
    for finding in findings:
        if finding.kind == "damaged":
            key: tuple[str, ...] = ("damaged", finding.package or "")  # one per package
        else:
            key = (
                finding.kind,
                finding.package or "",
                finding.path or "",
                finding.expected or "",
                finding.actual or "",
                finding.detail or "",
            )
        unique[key] = finding  # the later finding wins
    return tuple(sorted(unique.values(), key=Finding.sort_key))


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"

