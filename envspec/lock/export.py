"""Exporting a lock's selection for tools that do not read pylock.toml groups.

Two shapes, both derived from the committed lock alone (no index, no resolver), so what is exported
is exactly what ``envspec sync`` would install:

- ``requirements.txt`` for ``pip install --require-hashes --no-deps -r``: every package of the
  selection pinned ``name==version`` with the sha256 of *every* file of that version (all wheels and
  the sdist), so pip on any platform the lock allows finds a file it can verify. The lock was made
  for one target, so no environment markers are needed; group selection is done here.
- a ``pylock.toml`` holding one selection (base + chosen groups), group markers and the lock's
  ``dependency-groups`` dropped, for an installer that should get exactly that set.

Pure: a lock in, text or a lock out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock

from envspec.lock.tool import subset_tool
from envspec.errors import UserError
from envspec.lock.graph import select_groups, selected_packages
from envspec.values.urls import redact_url, strip_credentials
from envspec.lock.markers import marker_for
from envspec.lock.universal import covered_of, where_selected

__all__ = ["NotExportable", "to_pylock_subset", "to_requirements_txt"]

# The hash algorithms pip accepts in --hash, strongest last; sha256 is what indexes give.
_PIP_HASHES = ("sha256", "sha384", "sha512")
_PYPI_SIMPLE = ("https://pypi.org/simple", "https://pypi.org/simple/")


class NotExportable(UserError):
    """A locked package that a hash-checked requirements.txt cannot express."""

    def __init__(self, package: str, reason: str) -> None:
        super().__init__(
            f"{package!r} cannot be exported to requirements.txt: {reason}.",
            hint="Use `envspec export --format pylock.toml`, which keeps every kind of source.",
        )
        self.package = package
        self.reason = reason


def _hash_options(package: Package, file: PackageWheel | PackageSdist) -> list[str]:
    options = [
        f"--hash={algorithm}:{file.hashes[algorithm]}"
        for algorithm in _PIP_HASHES
        if algorithm in file.hashes
    ]
    if not options:
        raise NotExportable(
            package.name,
            f"the lock gives {file.filename!r} no sha256, sha384 or sha512 hash, "
            "which pip --require-hashes needs",
        )
    return options


def _package_lines(
    package: Package, environment_marker: str | None
) -> tuple[str, list[str]]:
    """The requirement and its ``--hash`` options for one package."""
    if package.vcs is not None or package.directory is not None:
        kind = "a VCS checkout" if package.vcs is not None else "a local directory"
        raise NotExportable(package.name, f"it is locked from {kind}, which has no hash to pin")
    hashes: list[str] = []
    if package.archive is not None:
        archive = package.archive
        if not archive.url:
            raise NotExportable(package.name, "its archive is a local path without a URL")
        hashes.extend(
            f"--hash={algorithm}:{archive.hashes[algorithm]}"
            for algorithm in _PIP_HASHES
            if algorithm in archive.hashes
        )
        if not hashes:
            raise NotExportable(package.name, "its archive has no sha256, sha384 or sha512 hash")
        # no userinfo at all: pip then asks its netrc or keyring, where a redacted password
        # ("user:***@") would be sent as the password
        requirement = f"{package.name} @ {strip_credentials(archive.url)}"
    else:
        if package.version is None:
            raise NotExportable(package.name, "the lock gives it no version")
        files: list[PackageWheel | PackageSdist] = sorted(
            package.wheels or (), key=lambda wheel: wheel.filename
        )
        if package.sdist is not None:
            files.append(package.sdist)
        if not files:
            raise NotExportable(package.name, "the lock lists no file for it")
        for file in files:
            for option in _hash_options(package, file):
                if option not in hashes:
                    hashes.append(option)
        requirement = f"{package.name}=={package.version}"
    if environment_marker:
        requirement += f" ; {environment_marker}"
    return requirement, hashes


def _index_options(packages: Sequence[Package]) -> list[str]:
    """``--index-url`` for the index the packages came from when it is not PyPI's (plus
    ``--extra-index-url`` for any other), so that plain ``pip install -r`` looks in the right
    place. Credentials were never in the lock; pip asks its keyring or netrc for them."""
    indexes = list(dict.fromkeys(strip_credentials(p.index) for p in packages if p.index))
    if not indexes or all(index in _PYPI_SIMPLE for index in indexes):
        return []
    first, *others = indexes
    options = [f"--index-url {first}"]
    options.extend(f"--extra-index-url {other}" for other in others)
    return options


def to_requirements_txt(
    lock: Pylock,
    *,
    target_environment: Mapping[str, str] | None = None,
    groups: Collection[str] | None = None,
) -> str:
    """The selection (base + ``groups``) as a hash-pinned requirements.txt, sorted by name.

    Package markers are evaluated with ``groups`` and ``target_environment``; envspec's own locks
    carry only group markers, so nothing else is needed. For a lock from another tool whose
    package markers name only environment variables (no groups or extras), and no
    ``target_environment`` given, the marker is written after the pin for pip to evaluate.
    """
    chosen = select_groups(lock, groups)
    covered = covered_of(lock) if target_environment is None else None
    if covered:
        # a universal lock: each entry where the chosen groups install it, as a marker pip reads
        entries = []
        for package in lock.packages:
            ids = where_selected(package, covered, chosen)
            if ids:
                entries.append((package, marker_for(ids, covered)))
        return _requirements_text(lock, [p for p, _ in entries], chosen, [m for _, m in entries])
    if target_environment is None:
        # Environment-only markers are left to pip: select as if each of them were true.
        deferred = {
            package.name: str(package.marker)
            for package in lock.packages
            if package.marker is not None and not _mentions_selection(str(package.marker))
        }
        unmarked = dataclasses.replace(
            lock,
            packages=[
                dataclasses.replace(p, marker=None) if p.name in deferred else p
                for p in lock.packages
            ],
        )
        packages = selected_packages(unmarked, chosen)
    else:
        deferred = {}
        packages = selected_packages(lock, chosen, environment=target_environment)

    ordered = sorted(packages, key=lambda p: p.name)
    return _requirements_text(lock, ordered, chosen, [deferred.get(p.name) for p in ordered])


def _requirements_text(
    lock: Pylock,
    packages: Sequence[Package],
    chosen: Sequence[str],
    markers: Sequence[str | None],
) -> str:
    selection = "the base requirements"
    if chosen:
        selection += " and group" + ("s " if len(chosen) > 1 else " ") + ", ".join(chosen)
    lines = [
        "# This file was generated by envspec from pylock.toml; do not edit it by hand.",
        f"# It pins {selection}, with the hash of every file of each version.",
        "# Install with: pip install --require-hashes --no-deps -r <this file>",
    ]
    lines.extend(_index_options(packages))
    for package, marker in sorted(zip(packages, markers), key=lambda pair: pair[0].name):
        requirement, hashes = _package_lines(package, marker)
        lines.append(requirement + " \\")
        for index, option in enumerate(hashes):
            last = index == len(hashes) - 1
            lines.append(f"    {option}" + ("" if last else " \\"))
    return "\n".join(lines) + "\n"


def _mentions_selection(marker: str) -> bool:
    return "dependency_groups" in marker or "extras" in marker or "extra " in marker


def to_pylock_subset(lock: Pylock, groups: Collection[str] | None = None) -> Pylock:
    """A lock holding only the base plus ``groups``: group markers and ``dependency-groups``
    gone, so that any PEP 751 installer installs exactly that set.

    envspec's recorded spec inputs are dropped (the subset no longer serves the whole spec, so it
    must never look fresh for it); ``[tool.envspec.export]`` says which selection it is. Render it
    with :func:`envspec.lock.text.dumps`.
    """
    chosen = select_groups(lock, groups)
    packages = [
        _without_secrets(dataclasses.replace(package, marker=_without_groups(package)))
        for package in selected_packages(lock, chosen)
    ]
    tool = subset_tool(lock, list(chosen))
    subset = dataclasses.replace(
        lock,
        packages=packages,
        dependency_groups=None,
        default_groups=None,
        tool=tool,
    )
    subset.validate()
    return subset


def _without_secrets(package: Package) -> Package:
    """The package with every URL's secret redacted (a lock written by another tool may carry
    one; envspec's own never do)."""
    changes: dict[str, Any] = {}
    if package.index:
        changes["index"] = strip_credentials(package.index)
    if package.archive is not None and package.archive.url:
        changes["archive"] = dataclasses.replace(
            package.archive, url=redact_url(package.archive.url)
        )
    if package.vcs is not None and package.vcs.url:
        changes["vcs"] = dataclasses.replace(package.vcs, url=redact_url(package.vcs.url))
    if package.sdist is not None and package.sdist.url:
        changes["sdist"] = dataclasses.replace(package.sdist, url=redact_url(package.sdist.url))
    if package.wheels:
        changes["wheels"] = [
            dataclasses.replace(wheel, url=redact_url(wheel.url)) if wheel.url else wheel
            for wheel in package.wheels
        ]
    return dataclasses.replace(package, **changes) if changes else package


def _without_groups(package: Package) -> Any:
    """The package's marker with envspec's group selection removed: group markers are dropped
    (the package is in the subset because its group was chosen); other markers are kept."""
    if package.marker is None or "dependency_groups" in str(package.marker):
        return None
    return package.marker
