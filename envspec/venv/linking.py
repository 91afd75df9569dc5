"""How a file of the unpacked-wheel cache gets into a venv: a clone, a hard link or a copy.

A hard link costs one system call and no disk space, but the venv's file *is* the cache's: an
in-place edit inside one venv changes the cache entry and every venv linked to it. A clone
(reflink: ``ioctl(FICLONE)`` on Linux btrfs/XFS/bcachefs, ``clonefile`` on macOS APFS) is as cheap
on a file system that supports it and shares nothing once written to; elsewhere it falls back to a
copy, silently. A copy always works and always costs the bytes. These are uv's three modes, with
uv's defaults: clone on macOS (APFS clones everywhere), hardlink elsewhere (most Linux file systems
cannot clone, and the cache's integrity check keeps a later venv from inheriting an edit).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import get_args

from envspec.spec.model import LinkMode

__all__ = ["LINK_MODES", "LinkMode", "clone_file", "default_link_mode"]

LINK_MODES: tuple[LinkMode, ...] = get_args(LinkMode)

_FICLONE = 0x40049409
"""Linux ``_IOW(0x94, 9, int)``: make the target share the source's extents (a reflink)."""

_CANNOT_CLONE = frozenset(
    code
    for code in (
        getattr(errno, "EOPNOTSUPP", None),
        getattr(errno, "ENOTSUP", None),
        getattr(errno, "EXDEV", None),
        getattr(errno, "EINVAL", None),
        getattr(errno, "ENOTTY", None),
        getattr(errno, "ENOSYS", None),
        getattr(errno, "EPERM", None),
        getattr(errno, "EBADF", None),
    )
    if code is not None
)
"""errno values meaning "this file system (or pair of them) cannot clone": copy instead."""


def default_link_mode() -> LinkMode:
    """uv's choice: clone on macOS, hardlink elsewhere."""
    return "clone" if sys.platform == "darwin" else "hardlink"


def clone_file(source: str, target: str) -> bool:
    """Make ``target`` (which must not exist) a copy-on-write clone of ``source``. False when the
    file system cannot clone (nothing is left at ``target``): the caller copies instead. Other
    errors (a missing source, a full disk) are raised."""
    if sys.platform == "darwin":  # pragma: no cover - exercised on macOS only
        return _clonefile(source, target)
    if not sys.platform.startswith("linux"):  # pragma: no cover
        return False
    import fcntl

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    with open(source, "rb") as handle:
        fd = os.open(target, flags, 0o666)
        try:
            fcntl.ioctl(fd, _FICLONE, handle.fileno())
        except OSError as error:
            os.close(fd)
            os.unlink(target)
            if error.errno in _CANNOT_CLONE:
                return False
            raise
        os.close(fd)
    return True


def _clonefile(source: str, target: str) -> bool:  # pragma: no cover - macOS only
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        clonefile = libc.clonefile
    except (OSError, AttributeError):
        return False
    clonefile.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32)
    clonefile.restype = ctypes.c_int
    if clonefile(os.fsencode(source), os.fsencode(target), 0) == 0:
        return True
    code = ctypes.get_errno()
    if code in _CANNOT_CLONE:
        return False
    raise OSError(code, os.strerror(code), target)
