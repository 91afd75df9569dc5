"""Remove a distribution from a venv by its RECORD, and whatever a killed install left.

Crash safety: uninstall reads RECORD, then deletes METADATA first (the distribution now reads as
"damaged", and its RECORD is still there for the next attempt), then the files, then the dist-info
directory. An install that a killed sync interrupted left a journal (``envspec.venv.journal``):
:func:`recover_interrupted` keeps the install when it completed and removes everything the journal
lists otherwise. Recovery lives here, beside what it calls, so that the journal stays a leaf the
no-op sync can read without importing any of this.

Only files inside the venv are deleted, judged with their directories resolved
(:mod:`envspec.venv.confine`), and never the venv's own interpreter, ``pyvenv.cfg``, activation
scripts or envspec's bookkeeping, whatever a RECORD says.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from envspec.venv.confine import Confinement
from envspec.venv.installed import find_dist_infos
from envspec.venv.journal import JOURNAL_DIRNAME, journal_path, read_journal
from envspec.venv.layout import VenvLayout
from envspec.venv.record import RecordUnreadable, read_record

__all__ = ["recover_interrupted", "uninstall"]


def uninstall(layout: VenvLayout, name: NormalizedName) -> None:
    """Remove project ``name`` from the venv: every file its RECORD lists (and every file a
    leftover install journal lists), their bytecode, the dist-info, then directories left empty.

    A missing file is not an error, nor is a project that is not installed. Only files inside the
    venv are deleted, judged with their directories resolved: a RECORD path through a symbolic
    link out of the venv (``site-packages/evil -> /tmp/outside``) is not followed, and a link is
    removed, never what it points to. The venv's own interpreter, ``pyvenv.cfg``, activation
    scripts and envspec's bookkeeping are never deleted, whatever a RECORD says.
    """
    confinement = Confinement(layout)
    dist_infos = find_dist_infos(layout, name)
    files: set[Path] = set()
    linked: list[Path] = []
    for dist_info in dist_infos:
        try:
            files.update(entry.location(dist_info.parent) for entry in read_record(dist_info))
        except RecordUnreadable:
            pass  # damaged: only the dist-info and what a journal lists can be found
        if dist_info.is_symlink() or not confinement.inside_venv(
            str(dist_info), follow_last=True
        ):
            linked.append(dist_info)
            _unlink(dist_info)  # the link goes, never what it points to
            continue
        # from here on the next sync sees it as damaged, with its RECORD still readable
        _unlink(dist_info / "METADATA")
    journal = journal_path(layout, name)
    files.update(read_journal(layout, journal))
    inside_dist_info = tuple(d for d in dist_infos if d not in linked)
    touched_dirs: set[Path] = set()
    for path in sorted(files):
        text = str(path)
        if not confinement.inside_venv(text) or confinement.protected(text):
            continue
        if any(_is_inside(path, d) for d in inside_dist_info):
            continue  # removed with the directory, RECORD last
        if path.is_dir() and not path.is_symlink():
            continue
        _unlink(path)
        if path.suffix == ".py":
            _remove_bytecode(path)
        touched_dirs.add(path.parent)
    for dist_info in inside_dist_info:
        shutil.rmtree(dist_info, ignore_errors=True)
        touched_dirs.add(dist_info.parent)
    _prune_empty_dirs(layout, touched_dirs, confinement)
    _unlink(journal)


def recover_interrupted(layout: VenvLayout) -> list[NormalizedName]:
    """Finish what a killed sync left: for each leftover install journal, keep the install if it
    completed (METADATA and a readable RECORD), else remove everything it may have written.
    Returns the names whose half-installed files were removed."""
    directory = layout.root / JOURNAL_DIRNAME
    try:
        journals = sorted(directory.glob("*.json"))
    except OSError:
        return []
    removed: list[NormalizedName] = []
    for journal in journals:
        name = canonicalize_name(journal.stem)
        if _installed_completely(layout, name):
            _unlink(journal)
        else:
            uninstall(layout, name)
            _unlink(journal)  # a journal under an unexpected spelling
            removed.append(name)
    try:
        directory.rmdir()
    except OSError:
        pass
    return removed


def _installed_completely(layout: VenvLayout, name: str) -> bool:
    dist_infos = find_dist_infos(layout, name)
    if len(dist_infos) != 1 or not (dist_infos[0] / "METADATA").is_file():
        return False
    try:
        read_record(dist_infos[0])
    except RecordUnreadable:
        return False
    return True


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _is_inside(path: Path, directory: Path) -> bool:
    try:
        return os.path.commonpath([path, directory]) == str(directory)
    except ValueError:  # different drives on Windows
        return False


def _remove_bytecode(source: Path) -> None:
    cache = source.parent / "__pycache__"
    try:
        with os.scandir(cache) as entries:
            stale = [
                Path(entry.path)
                for entry in entries
                if entry.name.startswith(source.stem + ".") and entry.name.endswith(".pyc")
            ]
    except (FileNotFoundError, NotADirectoryError):
        return
    for path in stale:
        _unlink(path)


def _prune_empty_dirs(
    layout: VenvLayout, dirs: Iterable[Path], confinement: Confinement | None = None
) -> None:
    """Remove directories (deepest first, then their parents) left holding nothing, or only a
    ``__pycache__`` of bytecode whose sources are gone; never a scheme directory or its ancestors,
    never one that resolves outside the venv."""
    confinement = confinement or Confinement(layout)
    keep: set[Path] = set()
    for base in (layout.purelib, layout.platlib, layout.scripts, layout.data, layout.include):
        keep.add(base)
        keep.update(base.parents)
    keep.add(layout.root)
    pending = {d for d in dirs if _is_inside(d, layout.root)}
    while pending:
        directory = max(pending, key=lambda p: (len(p.parts), str(p)))
        pending.discard(directory)
        if (
            directory in keep
            or not _is_inside(directory, layout.root)
            or not confinement.inside_venv(str(directory), follow_last=True)
        ):
            continue
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if set(names) - {"__pycache__"}:
            continue
        if names:
            cache = directory / "__pycache__"
            try:
                cached = os.listdir(cache)
            except NotADirectoryError:
                continue
            if any(not n.endswith(".pyc") for n in cached):
                continue
            shutil.rmtree(cache, ignore_errors=True)
        try:
            directory.rmdir()
        except OSError:
            continue  # another process wrote into it meanwhile: keep it
        pending.add(directory.parent)
