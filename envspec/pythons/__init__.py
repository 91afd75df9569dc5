"""Interpreters: which ones this machine has, and what each one is.

This is the edge where envspec meets other Pythons. ``discover`` finds interpreters (``--python`` /
``ENVSPEC_PYTHON``, PATH, pyenv, the Windows ``py`` launcher) and chooses the one a spec asks for;
``probe`` runs a stdlib-only script under an interpreter once (then caches the answer) to learn its
version, marker environment, wheel tags and venv layout, as an ``envspec.values.target.Target`` the
resolver and installer use. Subprocesses that run interpreters are started only here.
"""

from __future__ import annotations

from envspec.pythons.discover import (
    MINIMUM_PYTHON,
    Interpreter,
    InterpreterNotFound,
    choose_interpreter,
    find_interpreters,
)
from envspec.pythons.probe import InterpreterProbeFailed, Probe, probe_interpreter

__all__ = [
    "MINIMUM_PYTHON",
    "Interpreter",
    "InterpreterNotFound",
    "InterpreterProbeFailed",
    "Probe",
    "choose_interpreter",
    "find_interpreters",
    "probe_interpreter",
]
