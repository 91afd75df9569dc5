"""What each command does: wires the core (spec, resolve, lock model) to the edges (index,
interpreters, venv) and returns a result value. Never prints; the CLI renders results.

Results are NamedTuples and every heavy import happens inside the function that needs it: this
module is on the path of the commands that must answer in a few tens of milliseconds (a fresh
``envspec lock``, a no-op ``envspec sync``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from envspec.errors import DriftFound, UserError
from envspec.fsutil import cache_root

if TYPE_CHECKING:
    from packaging.pylock import Pylock
    from packaging.requirements import Requirement
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from envspec.lock import LockChange
    from envspec.pythons.discover import Interpreter
    from envspec.resolve import Resolution
    from envspec.spec import Spec
    from envspec.target import Target

__all__ = [
    "LOCK_FILENAME",
    "SPEC_FILENAME",
    "InitResult",
    "LockCheckResult",
    "LockResult",
    "PythonsResult",
    "find_spec",
    "init",
    "lock",
    "lock_check",
    "pythons",
]

SPEC_FILENAME = "envspec.toml"
LOCK_FILENAME = "pylock.toml"  # envspec.lockfile.LOCK_FILENAME, without importing the lock model

_STARTER_SPEC = """\
# envspec.toml: this project's Python environment, declared.
# `envspec lock` resolves it into pylock.toml; `envspec sync` makes .venv match that lock.
# Commit both files. Every key is described in envspec's schemas/envspec.schema.json.

python = "{python}"    # a PEP 440 specifier; a bare "3.12" means "==3.12.*"

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


def init(
    directory: Path,
    *,
    force: bool = False,
    python: str | None = None,
    cache_dir: str | None = None,
) -> InitResult:
    """Write a starter spec whose python is the newest interpreter found (``major.minor``)."""
    from packaging.specifiers import SpecifierSet

    from envspec.fsutil import atomic_write_text
    from envspec.pythons.discover import choose_interpreter

    target = directory / SPEC_FILENAME
    if target.exists() and not force:
        raise UserError(
            f"{target} already exists; not overwriting it.",
            hint="Use `envspec init --force` to replace it.",
        )
    explicit = Path(python) if python else None
    interpreter = choose_interpreter(
        SpecifierSet(">=3.8"), explicit=explicit, cache_dir=cache_root(cache_dir)
    )
    version = f"{interpreter.version.major}.{interpreter.version.minor}"
    atomic_write_text(target, _STARTER_SPEC.format(python=version), durable=True)
    return InitResult(path=target, python=version)


# ── lock ─────────────────────────────────────────────────────────────────────────────────────


class LockResult(NamedTuple):
    path: Path
    written: bool
    """False when the lock on disk was already exactly this (nothing rewritten)."""
    changes: tuple[LockChange, ...]
    package_count: int
    fresh_without_resolving: bool = False
    """True when the existing lock was fresh for the spec and nothing was resolved."""


class LockCheckResult(NamedTuple):
    path: Path
    package_count: int


def find_spec(directory: Path) -> Path:
    path = directory / SPEC_FILENAME
    if not path.is_file():
        raise UserError(
            f"No {SPEC_FILENAME} in {directory}.",
            hint="Run `envspec init` to write one, or use -C DIR to point at a project.",
        )
    return path


def _read_lock(path: Path) -> Pylock | None:
    from envspec import lockfile

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return lockfile.loads(text, path=path)


def lock_check(directory: Path, *, cache_dir: str | None = None) -> LockCheckResult:
    """``envspec lock --check``: exit 1 (DriftFound) when the lock is missing or stale."""
    from envspec.freshness import FreshnessMemo

    spec_path = find_spec(directory)
    lock_path = spec_path.parent / LOCK_FILENAME
    memo = FreshnessMemo(cache_root(cache_dir), spec_path)
    remembered = memo.recall(lock_path)
    if remembered is not None:
        return LockCheckResult(path=lock_path, package_count=remembered)
    from envspec.lock import stale_reasons
    from envspec.spec import load_spec

    spec = load_spec(spec_path)
    existing = _read_lock(lock_path)
    if existing is None:
        raise DriftFound(f"There is no {LOCK_FILENAME} for {spec.path}.", hint="Run `envspec lock`.")
    reasons = stale_reasons(spec, existing)
    if reasons:
        listing = "\n".join(f"  - {reason}" for reason in reasons)
        raise DriftFound(
            f"{lock_path} is stale for {spec.path}:\n{listing}", hint="Run `envspec lock`."
        )
    memo.remember(lock_path, len(existing.packages))
    return LockCheckResult(path=lock_path, package_count=len(existing.packages))


def lock(
    directory: Path,
    *,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    python: str | None = None,
    cache_dir: str | None = None,
    offline: bool = False,
) -> LockResult:
    """Resolve the spec and write pylock.toml, keeping locked versions while they still fit."""
    from envspec.freshness import FreshnessMemo

    spec_path = find_spec(directory)
    lock_path = spec_path.parent / LOCK_FILENAME
    memo = FreshnessMemo(cache_root(cache_dir), spec_path)
    freeing = upgrade or bool(upgrade_packages)
    if not freeing:
        remembered = memo.recall(lock_path)
        if remembered is not None:
            return LockResult(lock_path, False, (), remembered, fresh_without_resolving=True)

    from packaging.utils import canonicalize_name

    from envspec import lockfile
    from envspec.lock import LockInputs, build_lock, changes_between, locked_versions, stale_reasons
    from envspec.spec import load_spec

    spec = load_spec(spec_path)
    existing = _read_lock(lock_path)
    if existing is not None and not freeing and not stale_reasons(spec, existing):
        memo.remember(lock_path, len(existing.packages))
        return LockResult(lock_path, False, (), len(existing.packages), fresh_without_resolving=True)
    target = _target_for(spec, python=python, cache_dir=cache_dir)
    resolution = _resolve(
        spec,
        target,
        locked=locked_versions(existing) if existing is not None else {},
        upgrade=True if upgrade else frozenset(canonicalize_name(n) for n in upgrade_packages),
        cache_dir=cache_dir,
        offline=offline,
    )
    new = build_lock(resolution, LockInputs.from_spec(spec), target)
    text = lockfile.dumps(new)
    old_text = lock_path.read_text(encoding="utf-8") if existing is not None else None
    written = text != old_text
    if written:
        from envspec.fsutil import atomic_write_text

        atomic_write_text(lock_path, text, durable=True)
    memo.remember(lock_path, len(new.packages))
    return LockResult(
        path=lock_path,
        written=written,
        changes=tuple(changes_between(existing, new)),
        package_count=len(new.packages),
    )


def _target_for(spec: Spec, *, python: str | None, cache_dir: str | None) -> Target:
    from envspec.pythons.discover import choose_interpreter
    from envspec.pythons.probe import probe_interpreter

    root = cache_root(cache_dir)
    interpreter = choose_interpreter(
        spec.python, explicit=Path(python) if python else None, cache_dir=root
    )
    return probe_interpreter(interpreter.path, cache_dir=root).target


def _resolve(
    spec: Spec,
    target: Target,
    *,
    locked: Mapping[NormalizedName, Version],
    upgrade: bool | frozenset[NormalizedName],
    cache_dir: str | None,
    offline: bool,
) -> Resolution:
    from envspec.index.source import IndexSource
    from envspec.resolve import resolve

    requirements: dict[str | None, Sequence[Requirement]] = {None: spec.requirements}
    requirements.update({str(name): reqs for name, reqs in spec.groups.items()})
    with IndexSource(spec.indexes, cache_dir=cache_root(cache_dir), offline=offline) as source:
        return resolve(
            requirements,
            target=target,
            source=source,
            options=spec.resolution,
            locked=locked,
            upgrade=upgrade,
        )


# ── python ───────────────────────────────────────────────────────────────────────────────────


class PythonsResult(NamedTuple):
    interpreters: tuple[Interpreter, ...]
    chosen: Interpreter | None
    requested: str | None
    """The spec's python specifier, None when there is no spec here."""
    problem: str | None
    """Why nothing was chosen (no interpreter satisfies the spec), else None."""


def pythons(directory: Path, *, python: str | None = None, cache_dir: str | None = None) -> PythonsResult:
    """The interpreters found and which one the spec here (if any) selects."""
    from envspec.pythons.discover import InterpreterNotFound, choose_interpreter, find_interpreters
    from envspec.spec import load_spec

    root = cache_root(cache_dir)
    explicit = Path(python) if python else None
    found = tuple(find_interpreters(explicit=explicit, cache_dir=root))
    spec_path = directory / SPEC_FILENAME
    if not spec_path.is_file():
        return PythonsResult(found, None, None, None)
    spec = load_spec(spec_path)
    try:
        chosen = choose_interpreter(spec.python, explicit=explicit, cache_dir=root)
    except InterpreterNotFound as error:
        return PythonsResult(found, None, str(spec.python), str(error))
    return PythonsResult(found, chosen, str(spec.python), None)
