"""The command line: :mod:`~envspec.cli.main` (argv → exit code, errors and crashes into words),
:mod:`~envspec.cli.parser` (every command, option and help text), :mod:`~envspec.cli.handlers`
(one per command: arguments → one command of :mod:`envspec.commands` → rendered result),
:mod:`~envspec.cli.render` (results, plans, lock changes, reports and progress as text) and
:mod:`~envspec.cli.completion` (shell completion scripts from the parser).

Nothing is imported here: start-up time is on the path of every invocation.
"""

from __future__ import annotations

__all__: list[str] = []
