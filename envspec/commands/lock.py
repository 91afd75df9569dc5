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

    from envspec.resolve.universal import UniversalResolution

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
    environments: int = 0
    """How many environments the lock covers (0: not resolved now)."""
    resolutions: int = 0
    """How many resolutions that took (environments that answer alike share one)."""
    splits: tuple[str, ...] = ()
    """Packages locked at several versions, each with where: "splitlib: 1.5.0 where ...; ..."."""
    left_out: tuple[str, ...] = ()
    """Environments the spec allows that have no solution: "cp311-windows-arm64: why"."""


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
    from envspec.lock.freshness import stale_reasons  # start-up: the memo answered without it

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
    python_version: str | None = None,
    python_platform: str | None = None,
    universal: bool = False,
    cache_dir: str | None = None,
    offline: bool = False,
) -> LockResult:
    """Resolve the spec for every environment it covers and write pylock.toml, keeping locked
    versions while they still fit.

    ``python_version`` / ``python_platform`` (``lock --python-version 3.11 --python-platform
    windows-amd64``) lock for that one environment instead, whatever this machine is; ``python``
    only chooses the interpreter that builds sdists' metadata. A lock made for one environment
    stays so on the next lock, unless ``universal`` asks for every environment again."""
    spec_path = find_spec(directory)
    lock_path = spec_path.parent / LOCK_FILENAME
    memo = FreshnessMemo(cache_root(cache_dir), spec_path)
    one = python_version is not None or python_platform is not None
    freeing = upgrade or bool(upgrade_packages)
    if not freeing and not one and not universal:
        remembered = memo.recall(lock_path)
        if remembered is not None:
            return LockResult(lock_path, False, (), remembered, fresh_without_resolving=True)

    # start-up: the memo answered without any of these
    from packaging.utils import canonicalize_name

    from envspec.commands.project import covered_for
    from envspec.commands.session import resolve_spec
    from envspec.lock import text as lockfile
    from envspec.lock.freshness import selected_versions, stale_reasons
    from envspec.lock.model import LockInputs, changes_between
    from envspec.lock.tool import requested_environment
    from envspec.lock.universal import build_universal_lock

    spec = load_any_spec(spec_path)
    existing = read_lock(lock_path)
    if not one and not universal and existing is not None:
        # a lock made for one environment on purpose stays so until asked otherwise
        kept = requested_environment(existing)
        if kept is not None:
            python_version, python_platform = _split_id(kept)
    covered, requested = covered_for(spec, python_version, python_platform)
    same_request = existing is None or requested_environment(existing) == requested
    if (
        existing is not None
        and not freeing
        and same_request
        and not stale_reasons(spec, existing)
        and not local_source_changes(existing, lock_path.parent)
    ):
        _remember_fresh(memo, lock_path, existing)
        return LockResult(lock_path, False, (), len(existing.packages), fresh_without_resolving=True)
    resolved = resolve_spec(
        spec,
        lambda: probe_for(spec, existing, python=python, cache_dir=cache_dir),
        environments=covered,
        preferred=lambda e: selected_versions(existing, e) if existing is not None else {},
        upgrade=True if upgrade else frozenset(canonicalize_name(n) for n in upgrade_packages),
        cache_dir=cache_dir,
        offline=offline,
    )
    new = build_universal_lock(resolved, LockInputs.from_spec(spec), requested=requested)
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
        environments=len(covered),
        resolutions=resolved.resolved,
        splits=tuple(_splits(resolved)),
        left_out=tuple(f"{ident}: {why}" for ident, why in resolved.left_out.items()),
    )


def _split_id(identifier: str) -> tuple[str, str]:
    """``cp311-linux-x86_64`` → ("3.11", "linux-x86_64")."""
    head, _, platform = identifier.partition("-")
    return f"3.{head.removeprefix('cp3')}", platform


def _splits(universal: UniversalResolution) -> list[str]:
    """Each package locked at more than one version, and where: what ``lock -v`` explains."""
    from envspec.lock.markers import marker_for

    names = {n for r in universal.resolutions.values() for n in r.packages}
    found = []
    for name in sorted(names):
        versions = universal.versions(name)
        if len(versions) > 1:
            parts = [
                f"{version} where {marker_for(ids, universal.environments) or 'everywhere'}"
                for version, ids in sorted(versions.items())
            ]
            found.append(f"{name}: " + "; ".join(parts))
    return found


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

    from envspec.commands.project import covered_for
    from envspec.commands.session import resolve_spec
    from envspec.lock import text as lockfile
    from envspec.lock.freshness import selected_versions
    from envspec.lock.model import LockInputs, changes_between
    from envspec.lock.universal import build_universal_lock
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
    covered, requested = covered_for(spec, None, None)
    universal = resolve_spec(
        spec,
        lambda: probe_for(spec, existing, python=python, cache_dir=cache_dir),
        environments=covered,
        preferred=lambda e: selected_versions(existing, e) if existing is not None else {},
        upgrade=frozenset(),
        cache_dir=cache_dir,
        offline=offline,
    )
    written: list[str] = []
    bounded: list[str] = []
    for text in add:
        requirement = Requirement(text)
        versions = universal.versions(canonicalize_name(requirement.name))
        if requirement.specifier or requirement.url or not versions:
            written.append(text)
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f"; {requirement.marker}" if requirement.marker else ""
        # the oldest version locked anywhere: every environment's choice satisfies the bound
        bounded.append(f"{requirement.name}{extras}>={min(versions)}{marker}")
        written.append(bounded[-1])
    if bounded:
        # the locked version satisfies its own lower bound: no second resolution needed
        after = add_requirements(after, bounded, group=group)
        spec = parse_spec(after, path=spec_path)
    new = build_universal_lock(universal, LockInputs.from_spec(spec), requested=requested)
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
