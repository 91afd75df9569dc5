"""Create a project's venv with the chosen interpreter's own ``venv`` module, or repair it.

The venv is made by ``<python> -m venv --without-pip`` so that ``pyvenv.cfg``, the activate scripts
and the layout are exactly what Python users know; envspec then fills it from the lock. A venv is
*usable* when its ``pyvenv.cfg`` names the wanted interpreter version, its python and its
site-packages exist, and no creation of it was interrupted. Anything else is recreated from scratch:
a venv holds nothing but what the lock puts there, so recreating loses nothing.

Crash safety: a marker file is written into the directory before ``venv`` runs and removed only after
the new venv was verified, so a creation killed at any moment leaves a venv seen as broken (and
recreated) next time. A directory that is not a venv (no ``pyvenv.cfg``, no marker) and is not empty
is never deleted: it may be the user's work.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from envspec.errors import OutsideWorldError, UserError
from envspec.fsutil import fsync_directory
from envspec.venv.mutex import LOCK_NAME
from envspec.venv.layout import VenvLayout, read_pyvenv_cfg

if TYPE_CHECKING:
    from envspec.pythons.runner import Runner

__all__ = [
    "CREATE_TIMEOUT_SECONDS",
    "CREATING_MARKER",
    "NotAVenv",
    "VenvCreationFailed",
    "ensure_venv",
    "pyvenv_version",
    "venv_problem",
]

CREATING_MARKER = ".envspec-creating"
CREATE_TIMEOUT_SECONDS = 120.0
_STDERR_TAIL_CHARS = 2000


class NotAVenv(UserError):
    """The venv path holds something that is not a venv; envspec will not delete it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"{str(path)!r} is not a virtual environment ({reason}); envspec will not replace it.",
            hint="Move or delete it, or choose another venv path ([venv] path in envspec.toml).",
        )
        self.path = path
        self.reason = reason


class VenvCreationFailed(OutsideWorldError):
    """``<python> -m venv`` failed, or produced something that is not a usable venv."""

    def __init__(self, path: Path, interpreter: Path, reason: str, *, stderr: str = "") -> None:
        tail = stderr.strip()[-_STDERR_TAIL_CHARS:]
        message = f"Could not create a venv at {str(path)!r} with {str(interpreter)!r}: {reason}."
        if tail:
            message += "\nIts stderr ended with:\n" + "\n".join(
                "    " + line for line in tail.splitlines()
            )
        super().__init__(
            message, hint="Check that the interpreter works and has its 'venv' module."
        )
        self.path = path
        self.interpreter = interpreter
        self.reason = reason
        self.stderr_tail = tail


def ensure_venv(
    root: Path,
    *,
    interpreter: Path,
    version: Version,
    scheme: Mapping[str, str],
    recreate: bool = False,
    runner: Runner | None = None,
) -> tuple[VenvLayout, bool]:
    """A usable venv at ``root`` for ``interpreter`` (whose full version is ``version``).

    Returns the layout and whether the venv was created or recreated (then it is empty).
    ``recreate`` makes a new one even when the old looks usable (its interpreter or pyvenv.cfg was
    tampered with: see :mod:`envspec.venv.integrity`). Raises :class:`NotAVenv` (nothing deleted)
    when ``root`` exists, is not a venv and is not empty, and :class:`VenvCreationFailed` when the
    interpreter cannot make one. ``runner`` runs ``-m venv`` (a test's fake; by default
    :func:`envspec.pythons.runner.run_command`).
    """
    root = Path(os.path.abspath(root))
    layout = VenvLayout.from_scheme(root, scheme, windows=os.name == "nt")
    if not recreate and venv_problem(layout, version) is None:
        return layout, False
    _clear_for_creation(root)
    _run_venv(root, interpreter, runner)
    problem = venv_problem(layout, version, ignore_marker=True)
    if problem is not None:
        raise VenvCreationFailed(root, interpreter, f"the new venv is unusable: {problem}")
    (root / CREATING_MARKER).unlink()
    return layout, True


def venv_problem(
    layout: VenvLayout, version: Version, *, ignore_marker: bool = False
) -> str | None:
    """Why the venv at ``layout.root`` cannot be used for ``version`` as it is; None when it can."""
    root = layout.root
    if not root.is_dir():
        return "it does not exist"
    if not ignore_marker and (root / CREATING_MARKER).exists():
        return "its creation was interrupted"
    config = read_pyvenv_cfg(root)
    if config is None:
        return "it has no pyvenv.cfg"
    found = pyvenv_version(config)
    if found is None:
        return "its pyvenv.cfg names no Python version"
    if _micro(found) != _micro(version):
        return f"it was made with Python {found}, not {version}"
    if not layout.python.exists():  # follows the symlink: a removed base interpreter counts
        return f"its interpreter {str(layout.python)!r} is missing"
    for site_packages in layout.site_packages:
        if not site_packages.is_dir():
            return f"its site-packages {str(site_packages)!r} is missing"
    return None


def pyvenv_version(config: Mapping[str, str]) -> Version | None:
    """The interpreter version a ``pyvenv.cfg`` records: ``version_info`` (uv, virtualenv:
    ``3.12.1.final.0``) or ``version`` (the stdlib: ``3.12.1``); None when neither parses."""
    for key in ("version_info", "version"):
        raw = config.get(key, "")
        # "3.12.1.final.0" is not PEP 440; its first three components are the release
        release = ".".join(raw.split(".")[:3])
        try:
            return Version(release)
        except InvalidVersion:
            continue
    return None


def _micro(version: Version) -> tuple[int, int, int]:
    release = (*version.release, 0, 0)
    return (release[0], release[1], release[2])


def refuse_foreign(root: Path) -> None:
    """Raise NotAVenv when ``root`` exists but is not a venv envspec may replace: a file, a
    symlink, or a non-empty directory without pyvenv.cfg. Checked before anything is written."""
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise NotAVenv(root, "it is not a directory")
    if root.is_dir():
        ours = read_pyvenv_cfg(root) is not None or (root / CREATING_MARKER).exists()
        if not ours and any(entry.name != LOCK_NAME for entry in root.iterdir()):
            raise NotAVenv(root, "it has no pyvenv.cfg and is not empty")


def _clear_for_creation(root: Path) -> None:
    """Leave ``root`` a directory holding only the creation marker (and the venv's lock file,
    which the caller holds), or raise NotAVenv."""
    refuse_foreign(root)
    root.mkdir(parents=True, exist_ok=True)
    # The marker first, durably: from the first removal on, a killed sync must leave a directory
    # that the next one recognises as its own half-made venv (refuse_foreign accepts the marker
    # when pyvenv.cfg is gone), never one it refuses to touch as "not a virtual environment".
    marker = root / CREATING_MARKER
    with open(marker, "wb") as handle:
        os.fsync(handle.fileno())
    fsync_directory(root)
    # pyvenv.cfg last: while it exists a reader still sees a venv (then the marker says broken)
    entries = sorted(root.iterdir(), key=lambda entry: entry.name == "pyvenv.cfg")
    for entry in entries:
        if entry.name in (LOCK_NAME, CREATING_MARKER):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _run_venv(root: Path, interpreter: Path, runner: Runner | None = None) -> None:
    # here, not at the top: the pythons package imports discover and probe, and the no-op sync
    # imports this module (venv_problem, refuse_foreign)
    from envspec.pythons.runner import CommandNotRun, output_text, run_command

    command = [str(interpreter), "-I", "-m", "venv", "--without-pip", str(root)]
    try:
        done = (runner or run_command)(command, timeout=CREATE_TIMEOUT_SECONDS)
    except CommandNotRun as error:
        if error.timed_out:
            raise VenvCreationFailed(
                root,
                interpreter,
                f"'-m venv' did not finish within {CREATE_TIMEOUT_SECONDS:g} s",
                stderr=error.stderr,
            ) from None
        raise VenvCreationFailed(
            root, interpreter, f"it cannot be run ({error.reason})"
        ) from None
    if done.returncode != 0:
        raise VenvCreationFailed(
            root,
            interpreter,
            f"'-m venv' exited with status {done.returncode}",
            stderr=output_text(done.stderr),
        )
