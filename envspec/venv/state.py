"""The venv's memory of its last sync: what makes ``envspec sync`` with nothing to do instant.

A sync that finished writes ``<venv>/.envspec-state.json`` as its last step: which lock (digest),
which groups, which spec, which interpreter, and a fingerprint of the installed dist-info
directories. The next sync compares those with the current inputs and a fresh fingerprint (one
directory listing); equal means there is nothing to do, without probing the interpreter or reading
any RECORD. A sync that changes anything clears the file first, so a killed sync never leaves a
state that vouches for a half-done venv. Any doubt about the file (missing, unreadable, another
format) reads as "no state", which only costs a full sync.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from envspec.fsutil import atomic_write_text

__all__ = [
    "STATE_FILENAME",
    "STATE_FORMAT",
    "SyncState",
    "clear_state",
    "file_stat",
    "is_interpreter_name",
    "read_state",
    "venv_files_signature",
    "write_state",
]

STATE_FILENAME = ".envspec-state.json"
STATE_FORMAT = 1


class SyncState(NamedTuple):
    """What one completed sync made the venv from.

    A NamedTuple, not a dataclass: this module is all the no-op sync imports of the venv package,
    and ``dataclasses`` alone would cost a quarter of its time budget."""

    lock_digest: str
    groups: tuple[str, ...]
    spec_digest: str
    python: str
    """The interpreter the venv was built with (its path, or path and version: the caller's key)."""
    fingerprint: str
    """``envspec.venv.installed.dist_info_fingerprint`` right after the sync."""
    layout: dict[str, str]
    """``VenvLayout.as_dict()``: the paths needed to re-check without probing the interpreter."""
    spec_fresh: bool = False
    """The sync verified that the lock was fresh for this spec (false for ``--frozen``)."""
    packages: int = 0
    """How many packages the lock selected (what a check reports without reading them)."""
    spec_stat: str = ""
    lock_stat: str = ""
    """``file_stat()`` of the spec and the lock when the digests were taken: while a file's stat
    is unchanged its digest need not be recomputed (nor ``hashlib`` imported)."""
    local_sources: tuple[tuple[str, bool, str], ...] = ()
    """(directory, editable, digest) of each local source directory installed: their files
    change without the spec, lock or dist-infos changing, so only their digest tells."""
    venv_files: tuple[tuple[str, str], ...] = ()
    """:func:`venv_files_signature` right after the sync: a replaced interpreter or an edited
    pyvenv.cfg changes it, so the no-op sync never vouches for a tampered venv."""
    pyvenv_cfg: str = ""
    """The text of pyvenv.cfg as envspec's sync left it (what ``check`` compares key by key)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "spec_fresh": self.spec_fresh,
            "packages": self.packages,
            "spec_stat": self.spec_stat,
            "lock_stat": self.lock_stat,
            "lock_digest": self.lock_digest,
            "groups": list(self.groups),
            "spec_digest": self.spec_digest,
            "python": self.python,
            "fingerprint": self.fingerprint,
            "layout": dict(sorted(self.layout.items())),
            "local_sources": [list(entry) for entry in self.local_sources],
            "venv_files": dict(self.venv_files),
            "pyvenv_cfg": self.pyvenv_cfg,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SyncState:
        """ValueError or TypeError when ``data`` is not a state of this format."""
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise ValueError("not an envspec state of a known format")
        strings = {}
        for key in ("lock_digest", "spec_digest", "python", "fingerprint"):
            value = data.get(key)
            if not isinstance(value, str):
                raise TypeError(f"{key!r} is not a string")
            strings[key] = value
        groups = data.get("groups")
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise TypeError("'groups' is not a list of strings")
        layout = data.get("layout")
        if not isinstance(layout, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in layout.items()
        ):
            raise TypeError("'layout' is not a table of strings")
        stats = {key: data.get(key, "") for key in ("spec_stat", "lock_stat")}
        if not all(isinstance(value, str) for value in stats.values()):
            raise TypeError("a stat key is not a string")
        local = data.get("local_sources", [])
        if not isinstance(local, list) or not all(
            isinstance(e, list)
            and len(e) == 3
            and isinstance(e[0], str)
            and isinstance(e[1], bool)
            and isinstance(e[2], str)
            for e in local
        ):
            raise TypeError("'local_sources' is not a list of [directory, editable, digest]")
        venv_files = data.get("venv_files", {})
        if not isinstance(venv_files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in venv_files.items()
        ):
            raise TypeError("'venv_files' is not a table of strings")
        pyvenv_cfg = data.get("pyvenv_cfg", "")
        if not isinstance(pyvenv_cfg, str):
            raise TypeError("'pyvenv_cfg' is not a string")
        fresh, packages = data.get("spec_fresh", False), data.get("packages", 0)
        if not isinstance(fresh, bool) or not isinstance(packages, int):
            raise TypeError("'spec_fresh' or 'packages' has the wrong type")
        return cls(
            groups=tuple(groups),
            layout=dict(layout),
            spec_fresh=fresh,
            packages=packages,
            local_sources=tuple((e[0], e[1], e[2]) for e in local),
            venv_files=tuple(sorted(venv_files.items())),
            pyvenv_cfg=pyvenv_cfg,
            **strings,
            **stats,
        )


def state_path(root: Path) -> Path:
    return Path(root) / STATE_FILENAME


def read_state(root: Path) -> SyncState | None:
    """The state of the venv at ``root``; None when absent or not trustworthy in any way."""
    try:
        data = json.loads(state_path(root).read_text(encoding="utf-8"))
        return SyncState.from_dict(data)
    except (OSError, ValueError, TypeError):
        return None


def write_state(root: Path, state: SyncState) -> None:
    """Atomically record ``state``: the last step of a successful sync."""
    text = json.dumps(state.to_dict(), indent=1, sort_keys=True) + "\n"
    atomic_write_text(state_path(root), text, durable=True)


def clear_state(root: Path) -> None:
    """Forget the last sync: the first step of a sync that changes anything."""
    try:
        state_path(root).unlink()
    except FileNotFoundError:
        pass


def site_packages_fingerprint(site_packages: Iterable[Path | str]) -> str:
    """A cheap digest of which distributions are installed: the dist-info directory names, their
    modification times and their METADATA's (in nanoseconds), checksummed.

    It changes when a distribution is added, removed or replaced by any tool, and when files are
    added to or removed from a dist-info directory; it costs one directory listing per
    site-packages, so the no-op sync can compare it instead of reading every RECORD.
    """
    lines: list[str] = []
    for directory in site_packages:
        lines.append(str(directory))
        try:
            entries = sorted(
                (entry.name, entry.stat().st_mtime_ns, _mtime(os.path.join(entry.path, "METADATA")))
                for entry in os.scandir(directory)
                if entry.name.endswith(".dist-info") and entry.is_dir()
            )
        except FileNotFoundError:
            lines.append("<missing>")
            continue
        lines.extend(f"{name} {mtime} {metadata}" for name, mtime, metadata in entries)
    # A change detector, not a security check: crc32 plus the length (zlib is a builtin module;
    # hashlib would cost this no-op path more than the listing itself).
    text = "\n".join(lines).encode()
    return f"{len(text)}-{zlib.crc32(text):08x}"


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


_INTERPRETER = re.compile(r"(python|pypy)w?(\d+(\.\d+)?t?)?(_d)?(\.exe)?", re.IGNORECASE)


def is_interpreter_name(name: str) -> bool:
    """``python``, ``python3``, ``python3.12``, ``python3.13t``, ``pythonw.exe``, ``python_d.exe``,
    ``pypy3``...: the names under which ``venv`` puts the interpreter in the scripts directory
    (``pythonfinder`` or ``python-config`` are ordinary script names). The one rule: the state
    signs these entries, and no package may replace them (``envspec.venv.confine``)."""
    return _INTERPRETER.fullmatch(name) is not None


def venv_files_signature(root: Path, scripts: Path) -> tuple[tuple[str, str], ...]:
    """What identifies the venv's own files without reading them: ``pyvenv.cfg``'s stat and, for
    each interpreter entry of the scripts directory, its link target or its size, time and inode.
    A few system calls: cheap enough for the no-op sync."""
    entries = [("pyvenv.cfg", file_stat(Path(root) / "pyvenv.cfg"))]
    try:
        with os.scandir(scripts) as found:
            names = sorted(entry.name for entry in found if is_interpreter_name(entry.name))
    except OSError:
        names = []
    relative = os.path.relpath(scripts, root).replace(os.sep, "/")
    for name in names:
        entries.append((f"{relative}/{name}", _link_or_stat(os.path.join(scripts, name))))
    return tuple(sorted(entries))


def _link_or_stat(path: str) -> str:
    try:
        stat = os.lstat(path)
    except OSError:
        return ""
    if os.path.islink(path):
        try:
            return "-> " + os.readlink(path)
        except OSError:
            return "->"
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"


def file_stat(path: Path) -> str:
    """A file's modification time and size, "" when it cannot be read."""
    try:
        stat = os.stat(path)
    except OSError:
        return ""
    return f"{stat.st_mtime_ns}:{stat.st_size}"
