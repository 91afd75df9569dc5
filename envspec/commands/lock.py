"""The lock family: ``envspec lock`` (resolve the spec, write pylock.toml), ``lock --check`` (exit
1 when the lock is missing or stale) and ``add``/``remove`` (edit the spec's text, re-lock, write
both or neither).

A lock that is fresh for its spec is answered from the freshness memo without parsing either file:
what that answer needs is imported at the top; everything a resolution needs is imported inside
the function, after the memo had its say (start-up time).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from envspec.commands.project import (
    LOCK_FILENAME,
    SPEC_FILENAME,
    find_spec,
    load_any_spec,
    local_source_changes,
    probe_for,
    read_lock,
)
from envspec.errors import DriftFound, UserError
from envspec.fsutil import cache_root, write_user_file
from envspec.lock.memo import FreshnessMemo

if TYPE_CHECKING:
    from packaging.pylock import Pylock

    from envspec.lock.model import LockChange

__all__ = ["EditResult", "LockCheckResult", "LockResult", "edit", "lock", "lock_check"]


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


class EditResult(NamedTuple):
    spec_path: Path
    lock: LockResult
    written: tuple[str, ...]
    """The requirement strings as written into the spec (bare names got their lower bound)."""


def lock_check(directory: Path, *, cache_dir: str | None = None) -> LockCheckResult:
    """``envspec lock --check``: exit 1 (DriftFound) when the lock is missing or stale."""
    spec_path = find_spec(directory)
    lock_path = spec_path.parent / LOCK_FILENAME
    memo = FreshnessMemo(cache_root(cache_dir), spec_path)
    remembered = memo.recall(lock_path)
    if remembered is not None:
        return LockCheckResult(path=lock_path, package_count=remembered)
    from envspec.lock.model import stale_reasons  # start-up: the memo answered without it

    spec = load_any_spec(spec_path)
    existing = read_lock(lock_path)
    if existing is None:
        raise DriftFound(f"There is no {LOCK_FILENAME} for {spec.path}.", hint="Run `envspec lock`.")
    reasons = stale_reasons(spec, existing) or local_source_changes(existing, lock_path.parent)
    if reasons:
        listing = "\n".join(f"  - {reason}" for reason in reasons)
        raise DriftFound(
            f"{lock_path} is stale for {spec.path}:\n{listing}", hint="Run `envspec lock`."
        )
    _remember_fresh(memo, lock_path, existing)
    return LockCheckResult(path=lock_path, package_count=len(existing.packages))


def lock(
    directory: Path,
    *,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    python: str | None = None,
    cache_dir: str | None = None,
    offline: bool = False,
    force: bool = False,
) -> LockResult:
    """Resolve the spec and write pylock.toml, keeping locked versions while they still fit.

    ``force`` resolves even when the lock is fresh for the spec: sync uses it when the lock was
    made for another interpreter or platform than this machine's."""
    spec_path = find_spec(directory)
    lock_path = spec_path.parent / LOCK_FILENAME
    memo = FreshnessMemo(cache_root(cache_dir), spec_path)
    freeing = upgrade or bool(upgrade_packages) or force
    if not freeing:
        remembered = memo.recall(lock_path)
        if remembered is not None:
            return LockResult(lock_path, False, (), remembered, fresh_without_resolving=True)

    # start-up: the memo answered without any of these
    from packaging.utils import canonicalize_name

    from envspec.commands.session import resolve_spec
    from envspec.lock import text as lockfile
    from envspec.lock.model import (
        LockInputs,
        build_lock,
        changes_between,
        locked_versions,
        stale_reasons,
    )

    spec = load_any_spec(spec_path)
    existing = read_lock(lock_path)
    if (
        existing is not None
        and not freeing
        and not stale_reasons(spec, existing)
        and not local_source_changes(existing, lock_path.parent)
    ):
        _remember_fresh(memo, lock_path, existing)
        return LockResult(lock_path, False, (), len(existing.packages), fresh_without_resolving=True)
    resolution, target = resolve_spec(
        spec,
        lambda: probe_for(spec, existing, python=python, cache_dir=cache_dir),
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
        write_user_file(lock_path, text)
    _remember_fresh(memo, lock_path, new)
    return LockResult(
        path=lock_path,
        written=written,
        changes=tuple(changes_between(existing, new)),
        package_count=len(new.packages),
    )


def _remember_fresh(memo: FreshnessMemo, lock_path: Path, lock: Pylock) -> None:
    """Remember that spec and lock agree, unless the lock has local directories: their files
    change without the spec or lock changing, so only a digest of them can tell."""
    if not any(package.directory is not None for package in lock.packages):
        memo.remember(lock_path, len(lock.packages))


def edit(
    directory: Path,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    group: str | None = None,
    python: str | None = None,
    cache_dir: str | None = None,
    offline: bool = False,
) -> EditResult:
    """``envspec add`` / ``remove``: edit the spec's text in place, re-lock, then write both.

    Nothing is written until the new spec has resolved: a requirement that cannot be satisfied
    leaves the spec and the lock byte-identical. A bare name gets a lower bound at the version
    the lock settled on (``rich`` → ``rich>=15.0.0``), as uv and Poetry do."""
    # start-up: this module is on the fresh-lock path, which needs none of these
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from envspec.commands.session import resolve_spec
    from envspec.lock import text as lockfile
    from envspec.lock.model import LockInputs, build_lock, changes_between, locked_versions
    from envspec.spec.edit import add_requirements, remove_requirements
    from envspec.spec.load import parse_spec

    spec_path = find_spec(directory)
    if spec_path.name != SPEC_FILENAME:
        raise UserError(
            f"envspec add and remove edit {SPEC_FILENAME}; this project's spec is "
            f"{spec_path.name}.",
            hint="Edit [project].dependencies or [dependency-groups] in pyproject.toml.",
        )
    before = spec_path.read_bytes().decode("utf-8")
    if add:
        after = add_requirements(before, list(add), group=group)
    else:
        after = remove_requirements(before, list(remove), group=group)
    spec = parse_spec(after, path=spec_path)
    lock_path = spec.project_dir / LOCK_FILENAME
    existing = read_lock(lock_path)
    resolution, target = resolve_spec(
        spec,
        lambda: probe_for(spec, existing, python=python, cache_dir=cache_dir),
        locked=locked_versions(existing) if existing is not None else {},
        upgrade=frozenset(),
        cache_dir=cache_dir,
        offline=offline,
    )
    written: list[str] = []
    bounded: list[str] = []
    for text in add:
        requirement = Requirement(text)
        package = resolution.packages.get(canonicalize_name(requirement.name))
        if requirement.specifier or requirement.url or package is None:
            written.append(text)
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f"; {requirement.marker}" if requirement.marker else ""
        bounded.append(f"{requirement.name}{extras}>={package.version}{marker}")
        written.append(bounded[-1])
    if bounded:
        # the locked version satisfies its own lower bound: no second resolution needed
        after = add_requirements(after, bounded, group=group)
        spec = parse_spec(after, path=spec_path)
    new = build_lock(resolution, LockInputs.from_spec(spec), target)
    text = lockfile.dumps(new)
    write_user_file(spec_path, after.encode("utf-8"))
    old_text = lock_path.read_text(encoding="utf-8") if existing is not None else None
    if text != old_text:
        write_user_file(lock_path, text)
    FreshnessMemo(cache_root(cache_dir), spec_path).remember(lock_path, len(new.packages))
    result = LockResult(
        lock_path, text != old_text, tuple(changes_between(existing, new)), len(new.packages)
    )
    return EditResult(spec_path, result, tuple(written))
