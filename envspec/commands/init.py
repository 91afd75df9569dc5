"""``envspec init``: a starter envspec.toml whose python is a floor the team can share, or the
project's pyproject.toml taken as the spec when it already says which Pythons it supports."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import NamedTuple

from packaging.specifiers import SpecifierSet

from envspec.commands.project import PYPROJECT_FILENAME, SPEC_FILENAME
from envspec.errors import UserError
from envspec.fsutil import cache_root, write_user_file
from envspec.pythons.discover import choose_interpreter, find_interpreters
from envspec.pythons.lifecycle import is_supported_upstream

__all__ = ["InitResult", "init"]

_STARTER_SPEC = """\
# envspec.toml: this project's Python environment, declared.
# `envspec lock` resolves it into pylock.toml; `envspec sync` makes .venv match that lock.
# Commit both files. Every key is described in envspec's schemas/envspec.schema.json.

python = "{python}"   # a PEP 440 specifier; a bare "3.12" means "==3.12.*"

requirements = [
  # "requests>=2.31",
  # "numpy>=2; python_version >= '3.11'",
]

# [groups]                       # optional; synced with `envspec sync --group dev`
# dev = ["pytest>=8", "ruff"]

# [resolution]
# prereleases = "if-necessary"   # "allow" | "disallow" | "if-necessary"
# exclude-newer = "2026-01-01T00:00:00Z"
# constraints = ["urllib3<3"]
# only-binary = [":all:"]

# [venv]
# path = ".venv"
"""


class InitResult(NamedTuple):
    path: Path
    python: str
    pyproject: bool = False
    """True when the project's pyproject.toml serves as the spec instead (nothing written)."""
    note: str = ""
    """Why ``python`` is what it is, for the user."""


def init(
    directory: Path,
    *,
    force: bool = False,
    python: str | None = None,
    cache_dir: str | None = None,
    envspec_toml: bool = False,
) -> InitResult:
    """Write a starter spec whose python is a floor (``>=3.11``): the oldest interpreter found
    that upstream still supports, so teammates with any supported Python can sync it.

    In a project with a pyproject.toml that has ``[project].requires-python``, that file already
    is a spec (its dependencies and ``[dependency-groups]``; envspec's own tables go under
    ``[tool.envspec]``): nothing is written unless ``envspec_toml`` asks for a separate file."""
    pyproject = directory / PYPROJECT_FILENAME
    if pyproject.is_file() and not envspec_toml and not (directory / SPEC_FILENAME).exists():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except (OSError, ValueError):
            project = {}
        requires = project.get("requires-python") if isinstance(project, dict) else None
        if isinstance(requires, str):
            return InitResult(path=pyproject, python=requires, pyproject=True)
        raise UserError(
            f"{pyproject} has no [project].requires-python, which envspec needs to use it as "
            "the spec.",
            hint='Add e.g. requires-python = ">=3.11" under [project], or run '
            "`envspec init --envspec-toml` to write a separate envspec.toml.",
        )

    target = directory / SPEC_FILENAME
    if target.exists() and not force:
        raise UserError(
            f"{target} already exists; not overwriting it.",
            hint="Use `envspec init --force` to replace it.",
        )
    explicit = Path(python) if python else None
    newest = choose_interpreter(
        SpecifierSet(">=3.8"), explicit=explicit, cache_dir=cache_root(cache_dir)
    )
    floor, why = newest, "the Python given" if explicit else "the newest Python on this machine"
    if explicit is None:
        upstream = [
            found
            for found in find_interpreters(cache_dir=cache_root(cache_dir))
            if found.is_supported and is_supported_upstream(found.version)
        ]
        if upstream:
            floor = min(upstream, key=lambda found: found.version)
            if floor.version.release[:2] != newest.version.release[:2]:
                why = "the oldest Python on this machine that upstream still supports"
    minor = f"{floor.version.major}.{floor.version.minor}"
    specifier = f">={minor}"
    write_user_file(target, _STARTER_SPEC.format(python=specifier))
    return InitResult(
        path=target,
        python=specifier,
        note=f"{minor} is {why}; sync uses the newest that fits, here {newest.version}",
    )
