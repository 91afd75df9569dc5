"""The errors envspec raises, and the exit code each one means.

The CLI is the only place that turns these into text on stderr and a process exit code, so the
library code raises them with their data attached and never formats for a terminal. Exit codes are
the product's contract (DESIGN.md): 1 drift or staleness found, 2 the user's input is wrong,
3 the outside world failed, 4 a bug in envspec (an exception that is none of these: the CLI saves its
traceback and says where, so that CI never reads a crash as "drift").
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

__all__ = [
    "EXIT_BUG",
    "EXIT_DRIFT",
    "EXIT_OK",
    "EXIT_OUTSIDE",
    "EXIT_USER",
    "DriftFound",
    "EnvspecError",
    "OutsideWorldError",
    "SpecError",
    "SpecProblem",
    "UserError",
]

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_USER = 2
EXIT_OUTSIDE = 3
EXIT_BUG = 4


class EnvspecError(Exception):
    """Root of every error envspec reports to a user.

    ``str(error)`` is the one paragraph the CLI prints; ``hint`` (optional) is a second line telling
    the user what to do about it.
    """

    exit_code: int = EXIT_OUTSIDE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UserError(EnvspecError):
    """The user's input is wrong: spec, arguments, unsatisfiable requirements (exit 2)."""

    exit_code = EXIT_USER


class OutsideWorldError(EnvspecError):
    """The network, an index, the filesystem or an interpreter failed (exit 3)."""

    exit_code = EXIT_OUTSIDE


class DriftFound(EnvspecError):
    """A check found drift or a stale lock (exit 1)."""

    exit_code = EXIT_DRIFT


class SpecProblem(NamedTuple):
    """One thing wrong with a spec file, located as precisely as the file allows.

    A NamedTuple rather than a dataclass: this module is on every command's start-up path, and
    ``dataclasses`` alone costs about ten milliseconds to import.

    ``key_path`` is dotted with list indexes (``index[1].url``, ``requirements[2]``); empty for a
    problem with the whole file (a TOML syntax error). ``line`` is 1-based, or None where it cannot be
    known.
    """

    path: Path
    key_path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
        if self.key_path:
            return f"{where}: {self.key_path}: {self.message}"
        return f"{where}: {self.message}"


class SpecError(UserError):
    """Every problem found in a spec, reported together so one run shows them all."""

    def __init__(self, path: Path, problems: list[SpecProblem]) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{path} has {count} {noun}:"]
        lines.extend(f"  {problem}" for problem in problems)
        super().__init__("\n".join(lines))
        self.path = path
        self.problems = problems
