"""What a lock selects for one machine: each package of the PEP 751 selection for a target and
groups, with the file to install it from, as the planner's :class:`~envspec.plan.Wanted` values.

Pure: reads the lock model only. Shared by ``sync``, ``check`` and the build environments, so that
all three agree on what "the lock, here" means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast
from urllib.parse import unquote, urlsplit

from packaging.pylock import (
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageWheel,
    Pylock,
    PylockSelectError,
)
from packaging.utils import canonicalize_name

from envspec.errors import UserError
from envspec.lock.model import from_lock_relative
from envspec.lock.tool import package_source_digest
from envspec.plan import Wanted
from envspec.values.urls import redact_url

if TYPE_CHECKING:
    from packaging.markers import Environment

    from envspec.values.target import Target

__all__ = ["select_wanted"]


def select_wanted(
    lock: Pylock, target: Target, groups: Sequence[str], lock_path: Path
) -> list[Wanted] | None:
    """What the lock selects for ``target`` and ``groups``, each with the file to install it from;
    None when the lock was made for another environment (its ``environments`` or
    ``requires-python`` exclude the target)."""
    environment = dict(target.markers)
    if lock.environments and not any(m.evaluate(environment) for m in lock.environments):
        return None
    if lock.requires_python and not lock.requires_python.contains(
        target.python_version, prereleases=True
    ):
        return None
    try:
        chosen = list(
            lock.select(
                environment=cast("Environment", environment),
                tags=target.tags,
                dependency_groups=groups,
            )
        )
    except PylockSelectError as error:
        raise UserError(f"{lock_path} cannot be installed here: {error}.") from None
    base = lock_path.parent
    wanted = []
    for package, dist in chosen:
        if isinstance(dist, PackageDirectory):
            directory = from_lock_relative(dist.path, base).resolve()
            digest = package_source_digest(package)
            wanted.append(
                Wanted(
                    name=package.name,
                    version=None,
                    url=directory.as_uri(),
                    filename=directory.name,
                    sha256=None,
                    kind="directory",
                    editable=bool(dist.editable),
                    direct_url=directory.as_uri(),
                    source_digest=digest,
                    source_label=dist.path,
                )
            )
            continue
        if not isinstance(dist, PackageWheel | PackageSdist | PackageArchive):
            kind = type(dist).__name__.removeprefix("Package").lower()
            raise UserError(
                f"{package.name} is locked as a {kind} source, which envspec cannot install "
                "(version-control sources are not supported)."
            )
        if package.version is None:
            raise UserError(f"{lock_path} gives no version for {package.name}.")
        sha256 = dist.hashes.get("sha256")
        if not sha256:
            raise UserError(
                f"{lock_path} gives no sha256 for {package.name}; envspec installs only files "
                "it can verify."
            )
        if dist.url:
            url = dist.url
        elif dist.path:
            url = from_lock_relative(dist.path, base).resolve().as_uri()
        else:
            raise UserError(f"{lock_path} gives no url or path for {package.name}.")
        if isinstance(dist, PackageArchive):
            filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
            kind_of: Literal["wheel", "sdist"] = "wheel" if filename.endswith(".whl") else "sdist"
            # redacted as direct_url.json records it, so that drift compares like with like
            direct_url: str | None = redact_url(url)
            label: str | None = dist.path or (redact_url(dist.url) if dist.url else None)
        else:
            filename = dist.filename
            kind_of = "wheel" if isinstance(dist, PackageWheel) else "sdist"
            direct_url = None
            label = None
        wanted.append(
            Wanted(
                name=package.name,
                version=package.version,
                url=url,
                filename=filename,
                sha256=sha256,
                size=dist.size,
                kind=kind_of,
                direct_url=direct_url,
                source_label=label,
                dependencies=_locked_dependencies(package.dependencies),
            )
        )
    return wanted


def _locked_dependencies(dependencies: object) -> tuple[str, ...] | None:
    if not isinstance(dependencies, list):
        return None
    names = {
        canonicalize_name(entry["name"])
        for entry in dependencies
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str)
    }
    return tuple(sorted(names))
