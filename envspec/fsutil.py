"""Filesystem primitives every writer shares: atomic writes and the cache root.

A crash or a concurrent envspec process must never leave a half-written lock, cache entry or state
file, so every write goes to a temporary file and is renamed into place (``os.replace`` is atomic
on POSIX and Windows). Every file is created with the mode the user's umask gives (0644 under
umask 022), as any other tool's output, and a replaced file keeps its mode.

Files written for the user into the project (the lock, spec edits, ``export -o``, ``init``) get
one more guarantee: a process killed mid-write leaves nothing that ``git add -A`` would pick up.
Their temporary file is made inside a private directory ``.envspec-tmp-<pid>-<random>/`` next to
the target, holding a ``.gitignore`` of ``*`` (git ignores the directory and everything in it),
removed after the rename; one left by a killed process is removed by the next envspec command
that writes or reads there (:func:`clean_stale_temp`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "TEMP_DIR_PREFIX",
    "atomic_copy",
    "atomic_write_bytes",
    "atomic_write_text",
    "cache_root",
    "clean_stale_temp",
    "file_sha256",
    "fsync_directory",
    "write_user_file",
]

TEMP_DIR_PREFIX = ".envspec-tmp-"
"""Private directories of in-flight writes into a project: ``<prefix><pid>-<random>``."""
_STALE_SECONDS = 3600.0
"""Where liveness of the writing process cannot be asked (Windows), a leftover this old is stale."""
_OLD_TEMP = re.compile(r"^\.(pylock\.toml|envspec\.toml|pyproject\.toml)\.[A-Za-z0-9_]{8}\.tmp$")
"""What envspec before this layout left behind when killed (mkstemp names next to the target)."""
_OLD_TEMP_SECONDS = 600.0


def _create_temp(directory: Path, name: str) -> tuple[int, str]:
    """A new file ``.<name>.<random>.tmp`` in ``directory``, opened for writing, created with mode
    0666 less the umask (the kernel applies it: no thread-unsafe ``os.umask`` round trip), where
    ``mkstemp`` would make it 0600 whatever the umask."""
    import secrets

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name for {name!r} in {str(directory)!r}")


def _existing_mode(path: Path) -> int | None:
    import stat

    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def _replace(fd: int, tmp: str, path: Path, data: bytes, *, durable: bool) -> None:
    """Write ``data`` to the open temporary ``fd`` and rename it to ``path``, keeping the mode of
    the file it replaces; the temporary file is removed on any failure."""
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        mode = _existing_mode(path)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Readers see the old bytes or the new, never a mix. ``durable`` also syncs the data to
    disk before the rename (a committed lock or a venv's state survives a power cut); a cache
    entry does not need that cost, losing one only costs a re-download."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path.parent, path.name)
    _replace(fd, tmp, path, data, durable=durable)


def write_user_file(path: Path, data: bytes | str) -> None:
    """Write a file the user owns and may commit (lock, spec, export), atomically and durably,
    through a private git-ignored directory (see the module's docstring): a kill at any moment
    leaves the old file or the new one, and nothing ``git add -A`` would add."""
    import shutil
    import tempfile

    import stat

    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        special = False
    if special:  # -o /dev/stdout, a FIFO: written to, never replaced
        with open(path, "wb") as handle:
            handle.write(data)
        return
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    clean_stale_temp(directory)
    private = tempfile.mkdtemp(prefix=f"{TEMP_DIR_PREFIX}{os.getpid()}-", dir=directory)
    try:
        # an empty directory is invisible to git already; from its first file on, .gitignore is there
        ignore = os.open(os.path.join(private, ".gitignore"), os.O_WRONLY | os.O_CREAT, 0o666)
        try:
            os.write(ignore, b"*\n")
        finally:
            os.close(ignore)
        fd, tmp = _create_temp(Path(private), path.name)
        _replace(fd, tmp, path, data, durable=True)
        fsync_directory(directory)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def clean_stale_temp(directory: Path) -> list[Path]:
    """Remove what killed envspec processes left in ``directory`` while writing into it: private
    temporary directories whose process is gone, and temporary files of older envspec versions.
    Never fails (a leftover is harmless: git ignores it); returns what was removed."""
    import shutil
    import time

    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        name = entry.name
        try:
            if name.startswith(TEMP_DIR_PREFIX):
                pid = name[len(TEMP_DIR_PREFIX) :].split("-", 1)[0]
                if not _writer_gone(pid, entry.stat(follow_symlinks=False).st_mtime, now):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            elif _OLD_TEMP.match(name) and entry.is_file(follow_symlinks=False):
                if now - entry.stat(follow_symlinks=False).st_mtime < _OLD_TEMP_SECONDS:
                    continue
                os.unlink(entry.path)
            else:
                continue
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def _writer_gone(pid: str, mtime: float, now: float) -> bool:
    """Whether the process that made a private temporary directory has ended."""
    if not pid.isdigit():
        return now - mtime > _STALE_SECONDS
    number = int(pid)
    if number == os.getpid():
        return False
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        return now - mtime > _STALE_SECONDS
    try:
        os.kill(number, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, another user's
    return False


def fsync_directory(directory: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_copy(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` so that readers see the old file or the whole new one (a
    built wheel into the cache, or across file systems where a rename cannot go)."""
    import shutil

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(target.parent, target.name)
    try:
        with os.fdopen(fd, "wb") as sink, open(source, "rb") as handle:
            shutil.copyfileobj(handle, sink, 1 << 20)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in blocks (wheels and sdists can be large)."""
    import hashlib  # not at the top: start-up time of the no-op commands

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_text(path: Path, text: str, *, durable: bool = False) -> None:
    # newline="\n" semantics: lock and spec files are byte-identical on every platform
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def cache_root(override: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None) -> Path:
    """``--cache-dir`` wins, then ``ENVSPEC_CACHE_DIR``, then the platform's user cache dir."""
    if override:
        return Path(override).expanduser().absolute()
    environ = os.environ if env is None else env
    if environ.get("ENVSPEC_CACHE_DIR"):
        return Path(environ["ENVSPEC_CACHE_DIR"]).expanduser().absolute()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("envspec", appauthor=False))
