"""Where a package may write, and what envspec may delete or verify for it: inside its venv.

A wheel is data from the internet, and every path in it is chosen by its publisher: archive member
names, ``.data/<scheme>/`` entries, script names in ``entry_points.txt``, and later the RECORD an
uninstall or a check follows. A lexical test (``..`` after ``normpath``) is not enough: a directory
inside the venv may be a symbolic link to somewhere else (``site-packages/evil -> /tmp/outside``),
so each path is judged with its directories *resolved*. One ``realpath`` per distinct directory
(cached) keeps this cheap on the thousands of files of a sync or a check.

Some files inside the venv are not a package's to write either: the venv's interpreter
(``bin/python*``, ``Scripts\\python*.exe``), ``pyvenv.cfg``, the activation scripts, and envspec's
own bookkeeping (state, lock, journal, creation marker). A console script named ``python`` would
otherwise replace the interpreter of every later command.
"""

from __future__ import annotations

import os

from envspec.venv.create import CREATING_MARKER
from envspec.venv.journal import JOURNAL_DIRNAME
from envspec.venv.layout import PYVENV_CFG, VenvLayout
from envspec.venv.mutex import LOCK_NAME
from envspec.venv.state import STATE_FILENAME, is_interpreter_name

__all__ = ["Confinement", "is_protected_script_name"]

_ACTIVATION = frozenset(
    {
        "activate",
        "activate.bat",
        "activate.csh",
        "activate.fish",
        "activate.nu",
        "activate.ps1",
        "activate.xsh",
        "activate_this.py",
        "deactivate.bat",
        "deactivate.nu",
    }
)
"""Activation scripts of ``venv`` and virtualenv, lower-cased."""
_ROOT_FILES = frozenset(
    {PYVENV_CFG, STATE_FILENAME, LOCK_NAME, CREATING_MARKER, JOURNAL_DIRNAME}
)
"""Entries directly in the venv root that belong to the venv or to envspec, never to a package."""


def is_protected_script_name(filename: str) -> bool:
    """Whether a file of this name in the scripts directory is the venv's own (interpreter or
    activation script), which no package may replace."""
    return is_interpreter_name(filename) or filename.lower() in _ACTIVATION


class Confinement:
    """Judges paths against one venv: inside a directory with links resolved, not protected.

    Not thread-safe to share for writes of the cache; one instance per install, uninstall or check.
    """

    def __init__(self, layout: VenvLayout) -> None:
        self._root = os.path.normcase(os.path.abspath(layout.root))
        self._real_parents: dict[str, str] = {}
        self._real_root = self.real_directory(str(layout.root))
        scripts = os.path.abspath(layout.scripts)
        self._scripts = {os.path.normcase(scripts), self.real_directory(scripts)}
        self._roots = {self._root, self._real_root}

    def real_directory(self, directory: str) -> str:
        """``realpath`` of ``directory``, normcased, cached."""
        found = self._real_parents.get(directory)
        if found is None:
            found = os.path.normcase(os.path.realpath(directory))
            self._real_parents[directory] = found
        return found

    def resolved(self, path: str, *, follow_last: bool = False) -> str:
        """``path`` (absolute, normalised) with its directories resolved; its last component too
        when ``follow_last`` and it is a symbolic link (a write that opens it would follow it)."""
        parent, name = os.path.split(path)
        real = os.path.join(self.real_directory(parent), os.path.normcase(name))
        if follow_last and os.path.islink(real):
            real = os.path.normcase(os.path.realpath(real))
        return real

    def inside(self, path: str, directory: str, *, follow_last: bool = False) -> bool:
        """Whether ``path`` lands inside ``directory`` both as written and with links resolved."""
        lexical = os.path.normcase(os.path.normpath(path))
        if not _within(lexical, os.path.normcase(os.path.abspath(directory))):
            return False
        real = self.resolved(lexical, follow_last=follow_last)
        return _within(real, self.real_directory(os.path.abspath(directory)))

    def inside_venv(self, path: str, *, follow_last: bool = False) -> bool:
        return self.inside(path, self._root, follow_last=follow_last)

    def protected(self, path: str) -> bool:
        """Whether ``path`` (absolute) is the venv's interpreter, an activation script,
        ``pyvenv.cfg`` or envspec's bookkeeping, as written or with its directory resolved."""
        lexical = os.path.normcase(os.path.normpath(path))
        for candidate in {lexical, self.resolved(lexical)}:
            parent, name = os.path.split(candidate)
            if parent in self._scripts and is_protected_script_name(name):
                return True
            if parent in self._roots and name in _ROOT_FILES:
                return True
            for root in self._roots:
                if _within(candidate, os.path.join(root, JOURNAL_DIRNAME)):
                    return True
        return False


def _within(path: str, directory: str) -> bool:
    """``path`` is ``directory`` or below it (both normalised and normcased)."""
    if path == directory:
        return True
    prefix = directory if directory.endswith(os.sep) else directory + os.sep
    return path.startswith(prefix)
