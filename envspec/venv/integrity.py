"""The venv's own files — its interpreter and ``pyvenv.cfg`` — as envspec made them.

RECORDs vouch for what packages installed, nothing for the venv itself: a ``bin/python``
replaced by a wrapper script, or a ``pyvenv.cfg`` edited to ``include-system-site-packages =
true`` (every package of the base interpreter importable) or to another ``home`` (another
installation's standard library), change what runs while every RECORD still matches. A sync
records what it left (:func:`envspec.venv.state.venv_files_signature` and the text of
``pyvenv.cfg``, in the venv's state); this module compares. Without a state (a venv another tool
made, or one envspec never finished syncing) only what no venv envspec makes may hold is
reported: system site-packages switched on. Either way the fix is to recreate the venv: a venv
holds nothing but what the lock puts there.
"""

from __future__ import annotations

from pathlib import Path

from envspec.drift import Finding
from envspec.venv.layout import read_pyvenv_cfg
from envspec.venv.state import SyncState, venv_files_signature

__all__ = ["venv_tampering"]

_RECREATED = "a sync recreates the venv"


def venv_tampering(root: Path, scripts: Path, state: SyncState | None) -> list[Finding]:
    """``modified-venv`` findings for the venv at ``root`` (scripts directory ``scripts``),
    compared with what the sync that wrote ``state`` left; empty when nothing changed. Paths
    are relative to the venv root, ``/``-separated."""
    findings: list[Finding] = []
    config = read_pyvenv_cfg(root)
    if config is None:
        return findings  # not a venv at all: missing-venv, reported elsewhere
    recorded: dict[str, str] = {}
    if state is not None and state.pyvenv_cfg:
        recorded = _parse_cfg(state.pyvenv_cfg)
    if recorded:
        current = {key.lower(): value for key, value in config.items()}
        for key in sorted(set(recorded) | set(current)):
            before, after = recorded.get(key), current.get(key)
            if before != after:
                findings.append(
                    Finding(
                        kind="modified-venv",
                        path="pyvenv.cfg",
                        expected=before,
                        actual=after,
                        detail=f"{key} {_change(before, after)} since envspec made the venv; "
                        + _RECREATED,
                    )
                )
    system = config.get("include-system-site-packages", "false").strip().lower()
    if system != "false" and not any(f.detail and "include-system-site-packages" in f.detail for f in findings):
        findings.append(
            Finding(
                kind="modified-venv",
                path="pyvenv.cfg",
                expected="false",
                actual=system,
                detail="include-system-site-packages is on: packages outside the venv and the "
                "lock are importable; " + _RECREATED,
            )
        )
    if state is not None and state.venv_files:
        before_files = {name: sig for name, sig in state.venv_files if name != "pyvenv.cfg"}
        now_files = {
            name: sig
            for name, sig in venv_files_signature(root, scripts)
            if name != "pyvenv.cfg"
        }
        for name in sorted(set(before_files) | set(now_files)):
            before, after = before_files.get(name), now_files.get(name)
            if before == after:
                continue
            if after is None or after == "":
                what = "removed"
            elif before is None:
                what = "added"
            else:
                what = "replaced"
            findings.append(
                Finding(
                    kind="modified-venv",
                    path=name,
                    expected=before or None,
                    actual=after or None,
                    detail=f"the venv's interpreter {name} was {what} since envspec made the "
                    "venv; " + _RECREATED,
                )
            )
    return findings


def _change(before: str | None, after: str | None) -> str:
    if before is None:
        return f"was added ({after!r})"
    if after is None:
        return f"was removed (was {before!r})"
    return f"changed from {before!r} to {after!r}"


def _parse_cfg(text: str) -> dict[str, str]:
    """``pyvenv.cfg`` text as ``read_pyvenv_cfg`` reads the file: ``key = value`` lines."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values
