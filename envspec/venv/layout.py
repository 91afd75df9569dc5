"""Where things are inside a venv, on POSIX and on Windows, without running its interpreter.

Every other module of ``envspec.venv`` needs the same handful of paths (site-packages, the scripts
directory, the venv's own python) and must agree on them, so they are computed once, here, from the
interpreter's sysconfig "venv" scheme as ``envspec.pythons.probe`` reports it (paths relative to a
venv root). The no-op sync must not probe an interpreter, so a layout also round-trips through plain
strings (:meth:`VenvLayout.as_dict` / :meth:`VenvLayout.from_dict`) kept in the venv's state file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PYVENV_CFG",
    "SCHEME_KEYS",
    "InvalidLayout",
    "VenvLayout",
    "default_python",
    "default_scripts",
    "read_pyvenv_cfg",
]

PYVENV_CFG = "pyvenv.cfg"
SCHEME_KEYS = ("purelib", "platlib", "scripts", "data", "include")
"""The keys a scheme mapping must provide (what ``Probe.scheme`` holds)."""


class InvalidLayout(ValueError):
    """A scheme or stored layout lacks a path, or names one outside the venv."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"venv layout {key!r}: {message}")
        self.key = key


@dataclass(frozen=True, slots=True, kw_only=True)
class VenvLayout:
    """Absolute paths of one venv's parts."""

    root: Path
    purelib: Path
    """site-packages for pure-Python files (the same directory as platlib in every CPython venv)."""
    platlib: Path
    scripts: Path
    """``bin`` (POSIX) or ``Scripts`` (Windows): console scripts and the venv's python."""
    data: Path
    """The wheel ``.data/data/`` target: the venv root itself."""
    include: Path
    python: Path
    """The venv's interpreter: ``bin/python`` or ``Scripts\\python.exe``."""

    @classmethod
    def from_scheme(cls, root: Path, scheme: Mapping[str, str], *, windows: bool) -> VenvLayout:
        """A layout from scheme paths relative to ``root`` (absolute ones are kept as they are)."""
        root = Path(root).absolute()
        paths: dict[str, Path] = {}
        for key in SCHEME_KEYS:
            if key not in scheme:
                raise InvalidLayout(key, "missing from the interpreter's venv scheme")
            paths[key] = root / scheme[key] if scheme[key] else root
        python = paths["scripts"] / _python_name(windows)
        return cls(root=root, python=python, **paths)

    @property
    def site_packages(self) -> tuple[Path, ...]:
        """purelib, then platlib when it is a different directory."""
        if self.platlib == self.purelib:
            return (self.purelib,)
        return (self.purelib, self.platlib)

    @property
    def windows(self) -> bool:
        return self.python.suffix.lower() == ".exe"

    def as_dict(self) -> dict[str, str]:
        """Every path as a string, for the state file."""
        return {
            "root": str(self.root),
            "purelib": str(self.purelib),
            "platlib": str(self.platlib),
            "scripts": str(self.scripts),
            "data": str(self.data),
            "include": str(self.include),
            "python": str(self.python),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> VenvLayout:
        """The inverse of :meth:`as_dict`; :class:`InvalidLayout` when a path is missing."""
        paths: dict[str, Path] = {}
        for key in ("root", "python", *SCHEME_KEYS):
            value = data.get(key)
            if not isinstance(value, str) or not value:
                raise InvalidLayout(key, "missing")
            paths[key] = Path(value)
        return cls(**paths)


def _python_name(windows: bool) -> str:
    return "python.exe" if windows else "python"


def default_scripts(root: Path, *, windows: bool) -> Path:
    """The scripts directory of a CPython venv at ``root`` (``bin`` or ``Scripts``), as every
    CPython's "venv" scheme has it: for callers that have not probed the interpreter yet."""
    return Path(root) / ("Scripts" if windows else "bin")


def default_python(root: Path, *, windows: bool) -> Path:
    """The interpreter of a CPython venv at ``root``, before its scheme is known."""
    return default_scripts(root, windows=windows) / _python_name(windows)


def read_pyvenv_cfg(root: Path) -> dict[str, str] | None:
    """The ``key = value`` pairs of ``<root>/pyvenv.cfg`` (keys lower-cased); None: not a venv.

    The format is what ``site.py`` reads: one ``key = value`` per line, everything else ignored.
    """
    try:
        text = (Path(root) / PYVENV_CFG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip().lower()] = value.strip()
    return values
