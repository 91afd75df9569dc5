"""Run a command with a timeout and its output captured: how ``pythons`` and ``venv`` start a process.

Probing an interpreter, asking the Windows ``py`` launcher for its list and ``<python> -m venv`` all
start a process that may hang (a broken interpreter, a network home directory) or not start at
all (a deleted file, a missing permission). :func:`run_command` turns both into one error,
:class:`CommandNotRun`, and a finished process into :class:`Completed`, whatever its exit status:
what the status means is the caller's to say. Callers take a :class:`Runner` argument defaulting
to :func:`run_command`, so a test can pass a recording or failing fake. Standard library only:
``envspec.venv.create`` uses it, and the no-op sync imports that module.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["CommandNotRun", "Completed", "Runner", "output_text", "run_command"]


@dataclass(frozen=True, slots=True)
class Completed:
    """A command that ran to its end (any exit status), its output as bytes."""

    returncode: int
    stdout: bytes
    stderr: bytes


class CommandNotRun(Exception):
    """The command could not be started, or did not finish within its timeout (then killed).
    Not an :class:`envspec.errors.EnvspecError`: each caller says what failed in its own words."""

    def __init__(
        self, command: Sequence[str], *, timed_out: bool, reason: str, stderr: str = ""
    ) -> None:
        super().__init__(reason)
        self.command = list(command)
        self.timed_out = timed_out
        """True when it ran past its timeout; False when it could not be started."""
        self.reason = reason
        """The operating system's reason it could not be started, or the timeout passed."""
        self.stderr = stderr
        """What a timed-out command had written to stderr."""


class Runner(Protocol):
    """What :func:`run_command` is, for a fake to be."""

    def __call__(self, command: Sequence[str], *, timeout: float) -> Completed: ...


def run_command(command: Sequence[str], *, timeout: float) -> Completed:
    """Run ``command`` (stdin empty, stdout and stderr captured) for at most ``timeout`` seconds.
    :class:`CommandNotRun` when it cannot be started or runs past the timeout."""
    try:
        done = subprocess.run(
            list(command),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise CommandNotRun(
            command,
            timed_out=True,
            reason=f"did not finish within {timeout:g} s",
            stderr=output_text(error.stderr),
        ) from None
    except OSError as error:
        raise CommandNotRun(command, timed_out=False, reason=error.strerror or str(error)) from None
    return Completed(done.returncode, done.stdout, done.stderr)


def output_text(data: bytes | str | None) -> str:
    """A process's output as text: UTF-8, undecodable bytes replaced; empty for None."""
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")
