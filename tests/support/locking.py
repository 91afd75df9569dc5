"""Locks made in memory: a spec resolved over a universe with the real resolver and lock writer,
without an index server or an interpreter (tests of the lock, the graph and the export)."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement

from envspec.lock import text as lockfile
from envspec.lock.model import LockInputs, build_lock
from envspec.resolve import resolve
from envspec.resolve.source import PackageSource
from envspec.spec.load import parse_spec
from tests.support.memory_source import MemorySource, make_target
from tests.support.universe import load_universe

__all__ = ["lock_text_for"]


def lock_text_for(
    spec_text: str,
    *,
    python: str = "3.11.7",
    platform: str = "linux",
    source: PackageSource | None = None,
) -> str:
    """The pylock.toml text envspec writes for ``spec_text`` (default: the basic universe)."""
    spec = parse_spec(spec_text, path=Path("/p/envspec.toml"))
    target = make_target(python, platform)
    requirements: dict[str | None, list[Requirement]] = {None: list(spec.requirements)}
    requirements.update({str(k): list(v) for k, v in spec.groups.items()})
    resolution = resolve(
        requirements,
        target=target,
        source=source or MemorySource(load_universe("basic")),
        options=spec.resolution,
    )
    lock = build_lock(resolution, LockInputs.from_spec(spec), target)
    lock.validate()  # what envspec builds is a valid PEP 751 lock
    return lockfile.dumps(lock)
