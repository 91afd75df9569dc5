"""The real interpreters tests run against: pyenv's CPythons, found once, skipped cleanly when absent.

DESIGN asks for end-to-end tests on at least two real interpreters; these machines have pyenv's
3.8–3.13 under ``$PYENV_ROOT/versions`` (default ``~/.pyenv``). A machine without them (a stock
Debian Python) must still run the suite: every test that needs one asks here and is skipped with a
reason that names the missing version, instead of failing on a hard-coded path.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ["PYENV_VERSIONS", "pyenv_python", "require_python", "skip_unless_python"]

PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
"""Where pyenv keeps its interpreters (``$PYENV_ROOT/versions``)."""


def pyenv_python(version: str) -> Path | None:
    """The newest pyenv CPython whose version starts with ``version`` ("3.12" or "3.12.1"), or
    None. Free-threaded and other variant builds (``3.13t``) are not candidates."""
    matches = [
        path
        for path in PYENV_VERSIONS.glob(f"{version}*/bin/python3")
        if path.parent.parent.name == version
        or path.parent.parent.name.startswith(f"{version}.")
    ]

    def key(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.parent.parent.name.split(".") if part.isdigit())

    return max(matches, key=key) if matches else None


def require_python(version: str) -> Path:
    """:func:`pyenv_python`, or skip the calling test saying which interpreter it needs."""
    found = pyenv_python(version)
    if found is None:
        pytest.skip(f"needs CPython {version} from pyenv ({PYENV_VERSIONS}/{version}*), not here")
    return found


def _available_versions() -> list[Version]:
    """Versions of the CPythons discovery can find here, read from names alone (no probing):
    pyenv's version folders, ``python3.X`` on PATH, and the interpreter running the tests."""
    found = {Version("%d.%d.%d" % sys.version_info[:3])}
    for folder in PYENV_VERSIONS.glob("3.*"):
        try:
            found.add(Version(folder.name))
        except InvalidVersion:
            continue
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        for path in Path(directory or ".").glob("python3.*"):
            minor = path.name.removeprefix("python3.")
            if minor.isdigit() and "shims" not in path.parts:
                found.add(Version(f"3.{minor}"))
    return sorted(found)


def skip_unless_python(python: str) -> None:
    """Skip the calling test unless an interpreter this machine has can satisfy a spec's
    ``python`` value ("3.12" meaning ``==3.12.*``, or a specifier)."""
    text = python.strip()
    specifier = SpecifierSet(f"=={text}.*" if text[:1].isdigit() else text)
    if not any(specifier.contains(version, prereleases=True) for version in _available_versions()):
        pytest.skip(f"needs a CPython for python = {python!r} (pyenv or PATH), not here")
