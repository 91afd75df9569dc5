"""Which build backend a source tree asks for, and what it needs installed (PEP 517 / PEP 518).

A source tree names its backend in ``pyproject.toml``'s ``[build-system]`` table. Trees written
before PEP 517 have no such table (or no ``pyproject.toml`` at all) and are built the way pip builds
them: with setuptools' legacy backend, which runs ``setup.py``. This module only *reads* that
choice; running the backend is :mod:`envspec.sources.pep517.frontend`'s job.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from envspec.errors import OutsideWorldError

__all__ = [
    "DEFAULT_BUILD_SYSTEM",
    "LEGACY_BACKEND",
    "BuildSystem",
    "InvalidBuildSystem",
    "read_build_system",
]

LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
"""setuptools' backend for trees without ``build-backend``: it puts the source root on sys.path so
that ``setup.py`` can import its own modules, as ``python setup.py`` always did."""

# "module.path" or "module.path:object.path" (PEP 517's build-backend format)
_BACKEND_FORMAT = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildSystem:
    """What a source tree needs to be built: the backend object and the packages it imports."""

    requires: tuple[Requirement, ...]
    """``build-system.requires``: installed into the isolated build environment first."""
    backend: str
    """``build-backend``: ``"module"`` or ``"module:object"``."""
    backend_path: tuple[str, ...] | None = None
    """``backend-path``: directories of the tree (relative) put first on sys.path (in-tree
    backends); None when the table has none."""


DEFAULT_BUILD_SYSTEM = BuildSystem(
    requires=(Requirement("setuptools>=40.8.0"),),
    backend=LEGACY_BACKEND,
)
"""What pip uses for a tree without ``[build-system]`` (PEP 517's recommendation)."""


class InvalidBuildSystem(OutsideWorldError):
    """A source tree's ``pyproject.toml`` cannot tell how to build it.

    An outside-world error rather than a user error: the file belongs to a package being built
    (often an sdist from an index), not to the user's own input.
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            f"{path}: cannot tell how to build this source tree: {problem}.",
            hint="The package's pyproject.toml must have a valid [build-system] table (PEP 518).",
        )
        self.path = path
        self.problem = problem


def read_build_system(source_dir: Path) -> BuildSystem:
    """The build system ``source_dir`` declares, or :data:`DEFAULT_BUILD_SYSTEM`.

    - no ``pyproject.toml``, or one without ``[build-system]``: the default (setuptools, legacy);
    - ``[build-system]`` with ``requires`` but no ``build-backend``: those requirements and the
      legacy setuptools backend (pip's behaviour);
    - ``[build-system]`` without ``requires``, or with a value of the wrong type, an invalid
      requirement, a malformed backend name or a backend path leaving the tree:
      :class:`InvalidBuildSystem` naming the file and what is wrong.
    """
    path = Path(source_dir) / "pyproject.toml"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return DEFAULT_BUILD_SYSTEM
    except OSError as error:
        raise InvalidBuildSystem(path, f"it cannot be read ({error.strerror or error})") from None
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidBuildSystem(path, "it is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidBuildSystem(path, f"it is not valid TOML ({error})") from None

    table = document.get("build-system")
    if table is None:
        return DEFAULT_BUILD_SYSTEM
    if not isinstance(table, dict):
        raise InvalidBuildSystem(path, f"[build-system] must be a table, not {_kind(table)}")
    requires = _read_requires(path, table)
    backend = table.get("build-backend")
    if backend is None:
        return BuildSystem(requires=requires, backend=LEGACY_BACKEND)
    if not isinstance(backend, str):
        raise InvalidBuildSystem(
            path, f"build-system.build-backend must be a string, not {_kind(backend)}"
        )
    if not _BACKEND_FORMAT.match(backend.strip()):
        raise InvalidBuildSystem(
            path,
            f"build-system.build-backend {backend!r} is not of the form 'module' or "
            "'module:object'",
        )
    return BuildSystem(
        requires=requires,
        backend=backend.strip(),
        backend_path=_read_backend_path(path, table),
    )


def _read_requires(path: Path, table: dict[str, Any]) -> tuple[Requirement, ...]:
    if "requires" not in table:
        raise InvalidBuildSystem(path, "[build-system] has no 'requires' key (PEP 518 needs it)")
    raw = table["requires"]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise InvalidBuildSystem(path, "build-system.requires must be a list of strings")
    requires = []
    for index, text in enumerate(raw):
        try:
            requires.append(Requirement(text))
        except InvalidRequirement as error:
            raise InvalidBuildSystem(
                path, f"build-system.requires[{index}] {text!r} is not a valid requirement ({error})"
            ) from None
    return tuple(requires)


def _read_backend_path(path: Path, table: dict[str, Any]) -> tuple[str, ...] | None:
    raw = table.get("backend-path")
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise InvalidBuildSystem(path, "build-system.backend-path must be a list of strings")
    for entry in raw:
        normal = posixpath.normpath(entry.replace("\\", "/"))
        if PurePath(entry).is_absolute() or normal.startswith("/") or normal.split("/")[0] == "..":
            raise InvalidBuildSystem(
                path, f"build-system.backend-path entry {entry!r} must be a path inside the tree"
            )
    return tuple(raw)


def _kind(value: object) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )
