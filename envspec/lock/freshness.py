"""Freshness: whether a lock still serves its spec, decided without the network.

A lock is fresh when the inputs it recorded equal the spec's (compared semantically, so that
reformatting the spec never makes it stale), when it covers exactly the environments the spec asks
for today (so that a newly released Python minor makes it stale, once), and when, in every
environment it covers, its selection still satisfies each requirement that applies there. New
releases on an index never make a lock stale: they are not inputs. A lock cut short or edited
(its package record does not match) is stale too, and a lock directory entry that points outside
the project is refused before anything reads it.

Pure: the remembered verdict for unchanged bytes is ``envspec.lock.memo``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from packaging.pylock import Pylock
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envspec.errors import UserError
from envspec.lock.model import (
    LockInputs,
    locked_versions,
    packages_record,
    recorded_inputs,
)
from envspec.lock.tool import covered_ids, left_out, packages_record_table, requested_environment
from envspec.spec.model import Spec

if TYPE_CHECKING:
    from envspec.values.environments import Environment

__all__ = [
    "check_directories",
    "selected_versions",
    "stale_reasons",
    "truncation_problem",
]


def truncation_problem(lock: Pylock) -> str | None:
    """Why the lock's packages are not the ones envspec wrote (None: they are, or no record)."""
    record = packages_record_table(lock)
    if record is None:
        return None  # another tool's lock, or one from before envspec recorded its packages
    actual = packages_record(lock.packages)
    if record.get("count") != actual["count"]:
        return (
            f"the lock records {record.get('count')} packages but lists {actual['count']} "
            "(cut short or badly merged?)"
        )
    if record.get("sha256") != actual["sha256"]:
        return (
            "the lock's packages are not the ones envspec wrote (edited or badly merged?): "
            "their digest does not match [tool.envspec.packages]"
        )
    return None


def check_directories(spec: Spec, lock: Pylock) -> None:
    """Refuse (exit 2) a lock ``directory`` entry outside the project that the spec does not name.

    Reading a lock hashes its local directories (their digest decides freshness), so an entry
    ``../../../..`` would make even a read-only ``check`` walk the whole filesystem. A directory
    inside the project is fine; one outside it (``../libs/x``) only when the spec's ``[sources]``
    names that very directory for that package."""
    project = spec.project_dir.resolve()
    for package in lock.packages:
        if package.directory is None:
            continue
        written = package.directory.path
        where = Path(project, *PurePosixPath(written.replace("\\", "/")).parts).resolve()
        if where == project or where.is_relative_to(project):
            continue
        source = spec.sources.get(package.name)
        named = source.local_path(spec.project_dir) if source is not None else None
        if named is not None and named.resolve() == where:
            continue
        raise UserError(
            f"The lock's directory entry for {package.name!r} ({written!r}) points outside the "
            f"project ({project}), and the spec's [sources] does not name that directory.",
            hint="Run `envspec lock` to write the lock from the spec, or name the directory "
            "in [sources].",
        )


def stale_reasons(spec: Spec, lock: Pylock) -> list[str]:
    """Why ``lock`` does not serve ``spec`` (empty: it is fresh). Never touches the network.

    Raises :class:`UserError` for a lock directory entry that may not be read (see
    :func:`check_directories`): everything that compares a lock's local sources asks this first."""
    check_directories(spec, lock)
    damaged = truncation_problem(lock)
    if damaged is not None:
        return [damaged]
    recorded = recorded_inputs(lock)
    if recorded is None:
        return ["the lock was not written by envspec for this spec (no [tool.envspec] inputs)"]
    reasons = LockInputs.from_spec(spec).differences(recorded)
    if reasons:
        return reasons
    covered = covered_ids(lock)
    if covered is None:
        # a lock of one machine (envspec before universal locks): one version per name
        versions = locked_versions(lock)
        for requirement in _all_requirements(spec):
            name = canonicalize_name(requirement.name)
            version = versions.get(name)
            if version is not None and not requirement.specifier.contains(version, prereleases=True):
                reasons.append(f"locked {name} {version} does not satisfy {str(requirement)!r}")
        return reasons
    return _coverage_reasons(spec, lock, covered)


def _all_requirements(spec: Spec) -> list[Requirement]:
    return [*spec.requirements, *(r for reqs in spec.groups.values() for r in reqs)]


def _coverage_reasons(spec: Spec, lock: Pylock, covered: Sequence[str]) -> list[str]:
    """A universal lock is fresh when it covers exactly what the spec asks for today (a newly
    released Python minor counts, once) and, in every covered environment, its selection still
    satisfies each requirement that applies there."""
    from envspec.values.environments import covered_environments, environment_by_id

    requested = requested_environment(lock)
    if requested is not None:  # `lock --python-version/--python-platform`: that one, on purpose
        wanted = [e for e in (environment_by_id(requested),) if e is not None]
        wanted = [e for e in wanted if spec.python.contains(e.python, prereleases=True)]
    else:
        # environments the lock could not serve stay out until the spec changes (a release
        # that would serve them never makes a lock stale)
        unserved = left_out(lock)
        wanted = [
            e for e in covered_environments(spec.python, spec.environments) if e.id not in unserved
        ]
    ids = [e.id for e in wanted]
    if list(covered) != ids:
        added = [i for i in ids if i not in covered]
        dropped = [i for i in covered if i not in ids]
        words = []
        if added:
            words.append(f"now also {_shorten(added)}")
        if dropped:
            words.append(f"no longer {_shorten(dropped)}")
        return [f"the environments to cover changed: {'; '.join(words)}"]
    reasons: list[str] = []
    requirements = _all_requirements(spec)
    for environment in wanted:
        versions = selected_versions(lock, environment)
        for requirement in requirements:
            if not requirement.marker or requirement.marker.evaluate(
                {**environment.markers, "extra": ""}
            ):
                name = canonicalize_name(requirement.name)
                version = versions.get(name)
                if version is None and name not in _directories(lock):
                    reasons.append(f"{environment.id} selects no {name} ({str(requirement)!r})")
                elif version is not None and not requirement.specifier.contains(
                    version, prereleases=True
                ):
                    reasons.append(
                        f"locked {name} {version} does not satisfy {str(requirement)!r} "
                        f"({environment.id})"
                    )
        if len(reasons) >= 5:
            break
    return reasons


def _directories(lock: Pylock) -> set[NormalizedName]:
    return {p.name for p in lock.packages if p.version is None}


def _shorten(ids: Sequence[str]) -> str:
    return ", ".join(ids[:6]) + (f" and {len(ids) - 6} more" if len(ids) > 6 else "")


def selected_versions(lock: Pylock, environment: Environment) -> dict[NormalizedName, Version]:
    """The versions ``lock`` selects in ``environment`` with every dependency group on: what a
    re-lock keeps there while the spec allows it, and what freshness checks. Entries of a lock
    made for other environments, or by another tool, count where their markers hold."""
    groups = frozenset(str(g) for g in lock.dependency_groups or ())
    context = {**environment.markers, "dependency_groups": groups, "extras": frozenset()}
    found: dict[NormalizedName, Version] = {}
    for package in lock.packages:
        if package.version is None:
            continue
        if package.marker is not None and not package.marker.evaluate(
            context,  # type: ignore[arg-type]
            "lock_file",
        ):
            continue
        found.setdefault(package.name, package.version)
    return found
