"""Unpacking a source distribution without trusting it.

An sdist comes from an index, and an archive can name any path: ``../../.bashrc``, ``/etc/passwd``,
a symlink to ``/`` followed by a file "inside" it, a device node. Every member is checked before
anything is written, so a hostile archive is refused as a whole rather than half-extracted; tar
extraction also runs under the standard library's ``"data"`` filter (PEP 706) as a second line.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path

from envspec.errors import OutsideWorldError

__all__ = ["SDIST_SUFFIXES", "UnsafeArchive", "unpack_sdist"]

SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")
"""The archive formats :func:`unpack_sdist` reads (PEP 625's ``.tar.gz`` and the legacy ones)."""


class UnsafeArchive(OutsideWorldError):
    """An sdist is not a readable archive, or a member would land outside the target directory."""

    def __init__(self, archive: Path, reason: str) -> None:
        super().__init__(f"Refusing to unpack {str(archive)!r}: {reason}.")
        self.archive = archive
        self.reason = reason


def unpack_sdist(archive: Path, into: Path) -> Path:
    """Extract ``archive`` (tar or zip) into the directory ``into``; return the source root.

    The source root is the archive's single top-level directory (``name-1.0/``, as every sdist
    has), or ``into`` itself when the archive has files at its top or several directories.
    Raises :class:`UnsafeArchive` for an absolute member name, one leaving ``into`` (``..``), a
    link pointing outside, a device or FIFO, or an archive that cannot be read.
    """
    archive = Path(archive)
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    name = archive.name.lower()
    try:
        if name.endswith(".zip"):
            _unpack_zip(archive, into)
        elif name.endswith(SDIST_SUFFIXES):
            _unpack_tar(archive, into)
        else:
            raise UnsafeArchive(archive, f"not an sdist archive (expected one of {SDIST_SUFFIXES})")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as error:
        raise UnsafeArchive(archive, f"it is not a readable archive ({error})") from None
    return _source_root(into)


def _unpack_tar(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            _check_name(archive, member.name)
            if member.isdev() or member.isfifo():
                raise UnsafeArchive(archive, f"member {member.name!r} is a device or FIFO")
            if member.issym():
                # relative to the link's own directory; an absolute target is always outside
                target = posixpath.join(posixpath.dirname(member.name), member.linkname)
                if member.linkname.startswith("/") or _escapes(target):
                    raise UnsafeArchive(
                        archive, f"link {member.name!r} points outside ({member.linkname!r})"
                    )
            elif member.islnk():
                # hard links name another member, relative to the archive root
                if member.linkname.startswith("/") or _escapes(member.linkname):
                    raise UnsafeArchive(
                        archive, f"link {member.name!r} points outside ({member.linkname!r})"
                    )
        if hasattr(tarfile, "data_filter"):
            try:
                tar.extractall(into, members=members, filter="data")
            except tarfile.FilterError as error:
                raise UnsafeArchive(archive, str(error)) from None
        else:  # Python < 3.11.4: the checks above are the whole defence
            tar.extractall(into, members=members)


def _unpack_zip(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        infos = zipped.infolist()
        for info in infos:
            _check_name(archive, info.filename)
        for info in infos:
            target = into.joinpath(*[part for part in info.filename.split("/") if part])
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            # a zip "symlink" is written as a plain file holding the target text: never followed
            with zipped.open(info) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            if (info.external_attr >> 16) & 0o111:
                # keep the executable bit (scripts, configure), as pip does: execute wherever
                # read is granted, so the umask applied at creation is respected (and never read:
                # os.umask has no thread-safe read)
                mode = stat.S_IMODE(target.stat().st_mode)
                os.chmod(target, mode | (mode & 0o444) >> 2)


def _check_name(archive: Path, name: str) -> None:
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        raise UnsafeArchive(archive, f"member {name!r} has an absolute path")
    if _escapes(normal):
        raise UnsafeArchive(archive, f"member {name!r} would be written outside the target")


def _escapes(relative: str) -> bool:
    normal = posixpath.normpath(relative.replace("\\", "/"))
    return normal == ".." or normal.startswith("../")


def _source_root(into: Path) -> Path:
    entries = list(into.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return into
