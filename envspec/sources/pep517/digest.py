"""A fingerprint of a local source directory, so that ``check`` notices a changed local package.

A wheel in the lock carries the sha256 of its file; a local directory has no such hash, so the lock
records this digest instead: a sha256 over the inputs that decide what would be built. It must be
the same on every machine and every run for an unchanged tree (sorted walk, no mtimes, no owner,
symlinks hashed by their target text and never followed) and must change when a file that would go
into the wheel changes. What a build or a tool leaves behind (``build/``, ``*.egg-info``, caches,
a venv inside the project) is not an input and is skipped.

An *editable* install runs the code from the tree itself, so code edits are live without a re-sync:
only the files that decide the metadata (name, version, dependencies, entry points) are inputs then.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from envspec.errors import OutsideWorldError

__all__ = [
    "EDITABLE_INPUTS",
    "SKIPPED_DIRS",
    "SKIPPED_ROOT_DIRS",
    "SourceUnreadable",
    "source_digest",
]

EDITABLE_INPUTS = ("pyproject.toml", "setup.cfg", "setup.py")
"""The files at the root of a tree that an editable install's metadata comes from."""
SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "_darcs", ".jj", "CVS",
        ".venv", "venv", "__pycache__", "node_modules",
        ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    }
)  # fmt: skip
"""Directory names skipped at any depth (version control, virtual environments, caches)."""
SKIPPED_ROOT_DIRS = frozenset({"build", "dist"})
"""Build outputs, skipped only at the root: ``src/mypkg/build/`` may well be code."""
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_CHUNK = 1 << 20
MAX_SOURCE_ENTRIES = 100_000
"""Files and directories a digest walks at most: a real source tree has a few thousand; a lock
entry pointing at ``/`` must not make a read-only ``check`` walk the whole filesystem."""
MAX_SOURCE_BYTES = 2 * 1024**3
"""Bytes a digest reads at most, for the same reason."""


class SourceUnreadable(OutsideWorldError):
    """A local source directory (or a file in it) cannot be read."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"Cannot read the local source {str(path)!r}: {reason}.")
        self.path = path
        self.reason = reason


def source_digest(directory: Path, *, editable: bool) -> str:
    """``"sha256:<hex>"`` of the inputs of ``directory`` (every kept file, or with ``editable``
    only :data:`EDITABLE_INPUTS`): each file's relative posix path, executable bit and bytes; a
    symlink's target text. Raises :class:`SourceUnreadable` when the directory is missing."""
    root = Path(directory)
    if not root.is_dir():
        raise SourceUnreadable(root, "it is not a directory")
    digest = hashlib.sha256(b"envspec-source-digest-v1\0")
    digest.update(b"editable\0" if editable else b"tree\0")
    entries = _editable_entries(root) if editable else _tree_entries(root)
    budget = MAX_SOURCE_BYTES
    for relative in entries:
        read = _hash_entry(digest, root, relative, budget)
        if read is None:
            raise SourceUnreadable(
                root,
                f"it holds more than {MAX_SOURCE_BYTES // 1024**3} GiB of source files; "
                "is it really a project directory?",
            )
        budget -= read
    return f"sha256:{digest.hexdigest()}"


def _editable_entries(root: Path) -> Iterator[str]:
    for name in EDITABLE_INPUTS:
        if os.path.lexists(root / name):
            yield name


def _tree_entries(root: Path) -> Iterator[str]:
    """Relative posix paths of every kept file and symlink, in a machine-independent order."""

    seen = 0

    def walk(directory: Path, prefix: str) -> Iterator[str]:
        nonlocal seen
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            raise SourceUnreadable(directory, error.strerror or str(error)) from None
        seen += len(entries)
        if seen > MAX_SOURCE_ENTRIES:
            raise SourceUnreadable(
                root,
                f"it holds more than {MAX_SOURCE_ENTRIES:,} files and directories; "
                "is it really a project directory?",
            )
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            if entry.is_symlink():
                yield relative
            elif entry.is_dir(follow_symlinks=False):
                if _skipped_dir(entry.name, Path(entry.path), at_root=not prefix):
                    continue
                yield from walk(Path(entry.path), f"{relative}/")
            elif entry.is_file(follow_symlinks=False):
                if not entry.name.endswith(_SKIPPED_SUFFIXES):
                    yield relative
            # sockets, FIFOs, devices: not source

    return walk(root, "")


def _skipped_dir(name: str, path: Path, *, at_root: bool) -> bool:
    if name in SKIPPED_DIRS or name.endswith(".egg-info"):
        return True
    if at_root and name in SKIPPED_ROOT_DIRS:
        return True
    return (path / "pyvenv.cfg").exists()  # a virtual environment under any name


def _hash_entry(digest: hashlib._Hash, root: Path, relative: str, budget: int) -> int | None:
    """Hash one entry; return the bytes read (None, reading nothing: more than ``budget``)."""
    path = root.joinpath(*relative.split("/"))
    encoded = relative.encode("utf-8", "surrogateescape")
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(path).replace(os.sep, "/").encode("utf-8", "surrogateescape")
            digest.update(b"L\0%d\0%s\0%d\0%s" % (len(encoded), encoded, len(target), target))
            return 0
        if info.st_size > budget:
            return None
        executable = b"x" if info.st_mode & stat.S_IXUSR else b"-"
        digest.update(b"F\0%d\0%s\0%s\0%d\0" % (len(encoded), encoded, executable, info.st_size))
        with open(path, "rb") as handle:
            size = 0
            # never past the size it had: a file that keeps growing is not read for ever
            while size <= info.st_size and (chunk := handle.read(_CHUNK)):
                size += len(chunk)
                digest.update(chunk)
        if size != info.st_size:  # written to while hashed: the digest would describe nothing
            raise SourceUnreadable(path, "it changed while being read")
    except OSError as error:
        raise SourceUnreadable(path, error.strerror or str(error)) from None
    return size
