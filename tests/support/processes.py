"""A fake :class:`envspec.pythons.runner.Runner`: record every command, run it, or fail on cue.

:class:`RecordingRunner` runs each command through the real :func:`run_command` (unless told to
fail it) and keeps the commands, so a test can assert what was spawned without patching
``subprocess``; ``before`` and ``after`` are called around each run (a hook may raise, to play a
kill at that moment).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from envspec.pythons.runner import CommandNotRun, Completed, run_command

__all__ = ["RecordingRunner"]


def _nothing(command: list[str]) -> None:
    return None


class RecordingRunner:
    """A :class:`envspec.pythons.runner.Runner` that records, runs, and can fail."""

    def __init__(
        self,
        *,
        before: Callable[[list[str]], None] = _nothing,
        after: Callable[[list[str]], None] = _nothing,
        fail: CommandNotRun | None = None,
    ) -> None:
        self.commands: list[list[str]] = []
        self.before = before
        self.after = after
        self.fail = fail
        """Raised instead of running anything (a timeout, a file that cannot be started)."""

    def __call__(self, command: Sequence[str], *, timeout: float) -> Completed:
        listed = list(command)
        self.commands.append(listed)
        if self.fail is not None:
            raise self.fail
        self.before(listed)
        done = run_command(listed, timeout=timeout)
        self.after(listed)
        return done
