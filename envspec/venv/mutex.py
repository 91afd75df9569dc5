"""One sync of a venv at a time, across processes.

Two ``envspec sync`` runs on one venv (two terminals, an editor hook and a shell) would interleave
uninstalls and installs and leave a mix of both. An OS file lock (``filelock``: ``fcntl.flock`` on
POSIX, ``msvcrt.locking`` on Windows) serialises them, and the OS releases it when its process dies,
so a killed sync never leaves the venv locked. The lock file lives *inside* the venv
(``<venv>/.envspec.lock``), so that nothing appears in the user's project directory; recreating a
venv therefore empties the directory but keeps this one file (``create._clear_for_creation``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from envspec.errors import OutsideWorldError

__all__ = ["LOCK_NAME", "VenvBusy", "lock_path", "venv_lock"]


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


LOCK_NAME = ".envspec.lock"


def lock_path(root: Path) -> Path:
    return Path(root).absolute() / LOCK_NAME


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
