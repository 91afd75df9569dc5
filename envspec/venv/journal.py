"""The install journal: which paths an install may write, on disk before it writes the first.

``<venv>/.envspec-pending/<name>.json`` is written by :func:`envspec.venv.apply.apply_plan` before
a project's install starts and deleted once it completed. A leftover one marks an install that a
killed sync interrupted: ``envspec.venv.installed`` reports that project damaged, and
:func:`envspec.venv.uninstall.recover_interrupted` removes every path it lists unless the install
had completed. Kept apart from the installers because the no-op sync (``installed``) and
``confine`` (what a wheel may never overwrite) read it too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from envspec.fsutil import atomic_write_text
from envspec.venv.layout import VenvLayout

__all__ = [
    "JOURNAL_DIRNAME",
    "journal_names",
    "journal_path",
    "read_journal",
    "remove_journal",
    "write_journal",
]

JOURNAL_DIRNAME = ".envspec-pending"
"""``<venv>/.envspec-pending/<name>.json``: written before installing a project, deleted once the
install completed; a leftover one marks an interrupted install."""


def journal_path(layout: VenvLayout, name: str) -> Path:
    return layout.root / JOURNAL_DIRNAME / f"{name}.json"


def write_journal(layout: VenvLayout, name: str, paths: Iterable[str]) -> None:
    """Record (atomically) that ``name`` is about to be installed, writing at most ``paths``
    (absolute); they are stored relative to the venv root."""
    prefix = str(layout.root) + os.sep
    relative = sorted(
        {
            p[len(prefix) :] if p.startswith(prefix) else os.path.relpath(p, layout.root)
            for p in paths
        }
    )
    atomic_write_text(
        journal_path(layout, name),
        json.dumps({"name": name, "paths": relative}, indent=1) + "\n",
    )


def read_journal(layout: VenvLayout, journal: Path) -> list[Path]:
    """The absolute paths a journal lists; none when it is absent or unreadable."""
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        paths = data["paths"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(paths, list):
        return []
    return [Path(os.path.normpath(layout.root / p)) for p in paths if isinstance(p, str) and p]


def remove_journal(layout: VenvLayout, name: str) -> None:
    """Delete ``name``'s journal (the install completed, or what it listed was removed)."""
    try:
        journal_path(layout, name).unlink()
    except FileNotFoundError:
        pass


def journal_names(layout: VenvLayout) -> list[NormalizedName]:
    """The projects with a leftover journal (an interrupted install), as file names spell them."""
    try:
        with os.scandir(layout.root / JOURNAL_DIRNAME) as entries:
            stems = [e.name[: -len(".json")] for e in entries if e.name.endswith(".json")]
    except (FileNotFoundError, NotADirectoryError):
        return []
    names = []
    for stem in stems:
        try:
            names.append(canonicalize_name(stem, validate=True))
        except InvalidName:
            continue
    return names
