"""Filesystem primitives every writer shares: atomic writes and the cache root.

A crash or a concurrent envspec process must never leave a half-written lock, cache entry or state
file, so every write goes to a temporary file in the same directory and is renamed into place
(``os.replace`` is atomic on POSIX and Windows).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["atomic_copy", "atomic_write_bytes", "atomic_write_text", "cache_root", "file_sha256"]


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Readers see the old bytes or the new, never a mix. ``durable`` also syncs the data to
    disk before the rename (a committed lock or a venv's state survives a power cut); a cache
    entry does not need that cost, losing one only costs a re-download."""
    import tempfile  # not at the top: start-up time of the no-op commands

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_copy(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` so that readers see the old file or the whole new one (a
    built wheel into the cache, or across file systems where a rename cannot go)."""
    import shutil
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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
