"""What a project holds, shown without changing anything: the interpreters (``envspec python``),
and the committed lock as a tree, as the paths that pull a package in (``why``), or exported
(``requirements.txt``, a pylock.toml subset). None of these re-locks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from envspec.commands.project import existing_lock, load_any_spec, lock_groups, spec_path_in
from envspec.fsutil import cache_root
from envspec.lock import export as exporting
from envspec.lock import text as lockfile
from envspec.lock.graph import LockGraph, render_tree, render_why
from envspec.pythons.discover import (
    Interpreter,
    InterpreterNotFound,
    choose_interpreter,
    find_interpreters,
)

__all__ = ["PythonsResult", "export", "pythons", "tree", "why"]


class PythonsResult(NamedTuple):
    interpreters: tuple[Interpreter, ...]
    chosen: Interpreter | None
    requested: str | None
    """The spec's python specifier, None when there is no spec here."""
    problem: str | None
    """Why nothing was chosen (no interpreter satisfies the spec), else None."""


def pythons(directory: Path, *, python: str | None = None, cache_dir: str | None = None) -> PythonsResult:
    """The interpreters found and which one the spec here (if any) selects."""
    root = cache_root(cache_dir)
    explicit = Path(python) if python else None
    found = tuple(find_interpreters(explicit=explicit, cache_dir=root))
    spec_path = spec_path_in(directory)
    if spec_path is None:
        return PythonsResult(found, None, None, None)
    spec = load_any_spec(spec_path)
    try:
        chosen = choose_interpreter(spec.python, explicit=explicit, cache_dir=root)
    except InterpreterNotFound as error:
        return PythonsResult(found, None, str(spec.python), str(error))
    return PythonsResult(found, chosen, str(spec.python), None)


def tree(
    directory: Path,
    *,
    depth: int | None = None,
    invert: bool = False,
    groups: Sequence[str] = (),
    all_groups: bool = False,
) -> list[str]:
    _, lock = existing_lock(directory)
    graph = LockGraph.from_lock(lock, lock_groups(lock, groups, all_groups))
    return render_tree(graph, depth=depth, invert=invert)


def why(directory: Path, name: str) -> list[str]:
    """Every path from the spec's requirements (every group included) to ``name``."""
    _, lock = existing_lock(directory)
    return render_why(LockGraph.from_lock(lock, lock.dependency_groups), name, limit=100)


def export(
    directory: Path,
    *,
    format: str = "requirements.txt",
    groups: Sequence[str] = (),
    all_groups: bool = False,
) -> str:
    _, lock = existing_lock(directory)
    chosen = lock_groups(lock, groups, all_groups)
    if format == "pylock.toml":
        return lockfile.dumps(exporting.to_pylock_subset(lock, chosen))
    return exporting.to_requirements_txt(lock, target_environment=None, groups=chosen)
