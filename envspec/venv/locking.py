"""One sync of a venv at a time, across processes.

Two ``envspec sync`` runs on one venv (two terminals, an editor hook and a shell) would interleave
uninstalls and installs and leave a mix of both. An OS file lock (``filelock``: ``fcntl.flock`` on
POSIX, ``msvcrt.locking`` on Windows) serialises them, and the OS releases it when its process dies,
so a killed sync never leaves the venv locked. The lock file sits *next to* the venv
(``<parent>/.<name>.envspec-lock``), not inside it: a sync may delete and recreate the venv
directory while holding the lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from envspec.errors import OutsideWorldError

__all__ = ["VenvBusy", "lock_path", "venv_lock"]


class VenvBusy(OutsideWorldError):
    """Another process held the venv's lock for longer than the caller would wait."""

    def __init__(self, root: Path, lock_file: Path, timeout: float) -> None:
        super().__init__(
            f"The venv {str(root)!r} is being changed by another process "
            f"(waited {timeout:g} s for {str(lock_file)!r}).",
            hint="Wait for the other envspec command to finish, then try again.",
        )
        self.root = root
        self.lock_file = lock_file
        self.timeout = timeout


def lock_path(root: Path) -> Path:
    root = Path(root).absolute()
    return root.parent / f".{root.name.lstrip('.')}.envspec-lock"


@contextmanager
def venv_lock(root: Path, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the venv's inter-process lock for the ``with`` block; wait at most ``timeout``
    seconds (None: as long as it takes), then raise :class:`VenvBusy`."""
    from filelock import FileLock, Timeout

    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=-1 if timeout is None else timeout, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise VenvBusy(Path(root), path, timeout or 0.0) from None
    try:
        yield
    finally:
        lock.release()
