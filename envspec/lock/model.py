"""The lock model: a standard PEP 751 ``Pylock`` plus envspec's own record under ``[tool.envspec]``.

The lock *is* a ``packaging.pylock.Pylock`` so that any PEP 751 installer can read what envspec
writes and envspec can install what uv or pip wrote. What envspec adds is the record of the inputs
that produced it (:class:`LockInputs`): comparing those semantically with the spec is how freshness
is decided, so reformatting the spec never makes a lock stale while any real change always does, and
a new release on the index never does (it is not an input).

Pure: builds and compares values; reading and writing TOML is ``envspec.lock.text``'s job.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from packaging.markers import Marker
from packaging.pylock import (
    Package,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageWheel,
    Pylock,
)
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envspec.errors import OutsideWorldError
from envspec.lock.tool import (
    inputs_table,
    package_source_digest,
)
from envspec.spec.model import Spec
from envspec.values.target import Target
from envspec.values.urls import redact_text, redact_url, strip_credentials

if TYPE_CHECKING:
    from envspec.resolve import Resolution, ResolvedPackage
    from envspec.values.files import FileInfo

__all__ = [
    "assemble_lock",
    "CREATED_BY",
    "LockChange",
    "LockInputs",
    "build_lock",
    "changes_between",
    "from_lock_relative",
    "lock_relative",
    "locked_versions",
    "normalize_requirement",
    "packages_record",
    "recorded_inputs",
    "source_digests",
    "target_environment",
]

CREATED_BY = "envspec"
LOCK_VERSION = Version("1.0")
# The marker variables a resolution depends on beyond the python version: the lock is valid for
# targets that agree on all of them.
_ENVIRONMENT_KEYS = ("implementation_name", "sys_platform", "platform_machine")


def normalize_requirement(requirement: Requirement) -> str:
    """One canonical spelling per meaning: ``Requests >= 2.31`` and ``requests>=2.31`` are equal.

    A URL's secret is redacted (the lock records this): both sides of a freshness comparison are
    spelt this way, so a new password alone never makes a lock stale, while another URL does."""
    text: str = canonicalize_name(requirement.name)
    if requirement.extras:
        text += "[" + ",".join(sorted(canonicalize_name(e) for e in requirement.extras)) + "]"
    if requirement.url:
        text += f" @ {redact_url(requirement.url)}"
        if requirement.marker:
            text += " "
    elif requirement.specifier:
        text += ",".join(sorted(str(s) for s in requirement.specifier))
    if requirement.marker:
        text += f"; {requirement.marker}"
    return text


def _normalize_specifier(specifier: SpecifierSet) -> str:
    return ",".join(sorted(str(s) for s in specifier))


@dataclass(frozen=True, slots=True, kw_only=True)
class LockInputs:
    """Everything in the spec that can change a resolution, in canonical form."""

    python: str
    requirements: tuple[str, ...]
    groups: Mapping[str, tuple[str, ...]]
    indexes: tuple[Mapping[str, Any], ...]
    resolution: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)
    """Project → where it comes from instead of an index (``Source.describe()``)."""
    environments: tuple[str, ...] = ()
    """The spec's ``environments`` markers, normalised (none: every supported environment)."""
    required_environments: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, spec: Spec) -> LockInputs:
        options = spec.resolution
        resolution: dict[str, Any] = {"prereleases": options.prereleases}
        if options.exclude_newer is not None:
            instant = options.exclude_newer.astimezone(UTC)
            resolution["exclude-newer"] = instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(
                ".000000Z", "Z"
            )
        if options.constraints:
            resolution["constraints"] = sorted(
                normalize_requirement(c) for c in options.constraints
            )
        if options.only_binary:
            resolution["only-binary"] = sorted(options.only_binary)
        indexes = []
        for index in spec.indexes:
            entry: dict[str, Any] = {"name": index.name, "url": strip_credentials(index.url)}
            if index.packages is not None:
                entry["packages"] = sorted(index.packages)
            indexes.append(entry)
        return cls(
            python=_normalize_specifier(spec.python),
            requirements=tuple(sorted(normalize_requirement(r) for r in spec.requirements)),
            groups={
                str(name): tuple(sorted(normalize_requirement(r) for r in reqs))
                for name, reqs in sorted(spec.groups.items())
            },
            indexes=tuple(indexes),
            resolution=resolution,
            sources={str(name): source.describe() for name, source in spec.sources.items()},
            environments=tuple(sorted(str(m) for m in spec.environments)),
            required_environments=tuple(sorted(str(m) for m in spec.required_environments)),
        )

    def to_toml(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "python": self.python,
            "requirements": list(self.requirements),
            "groups": {name: list(reqs) for name, reqs in self.groups.items()},
            "indexes": [dict(index) for index in self.indexes],
            "resolution": dict(self.resolution),
        }
        if self.sources:
            data["sources"] = dict(sorted(self.sources.items()))
        if self.environments:
            data["environments"] = list(self.environments)
        if self.required_environments:
            data["required-environments"] = list(self.required_environments)
        return data

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> LockInputs:
        return cls(
            python=str(data.get("python", "")),
            requirements=tuple(data.get("requirements", ())),
            groups={str(k): tuple(v) for k, v in dict(data.get("groups", {})).items()},
            indexes=tuple(dict(i) for i in data.get("indexes", ())),
            resolution=dict(data.get("resolution", {})),
            sources={str(k): str(v) for k, v in dict(data.get("sources", {})).items()},
            environments=tuple(map(str, data.get("environments", ()))),
            required_environments=tuple(map(str, data.get("required-environments", ()))),
        )

    def redacted(self) -> LockInputs:
        """These inputs with every URL's secret redacted, as envspec records them; a lock written
        before that holds the password itself."""
        return LockInputs(
            python=self.python,
            requirements=tuple(redact_text(r) for r in self.requirements),
            groups={name: tuple(redact_text(r) for r in reqs) for name, reqs in self.groups.items()},
            indexes=self.indexes,
            resolution=self.resolution,
            sources={name: redact_text(where) for name, where in self.sources.items()},
            environments=self.environments,
            required_environments=self.required_environments,
        )

    def differences(self, recorded: LockInputs) -> list[str]:
        """What changed from ``recorded`` (the lock's) to ``self`` (the spec's), in words (any
        secret a lock recorded is never repeated)."""
        clean = recorded.redacted()
        if clean != recorded and not self._differences(clean):
            return ["the lock records a password in a URL; re-locking writes it redacted"]
        return self._differences(clean)

    def _differences(self, recorded: LockInputs) -> list[str]:
        found: list[str] = []
        if self.python != recorded.python:
            found.append(f"python changed from {recorded.python!r} to {self.python!r}")
        found.extend(_list_changes("requirements", recorded.requirements, self.requirements))
        for name in sorted(set(self.groups) | set(recorded.groups)):
            if name not in recorded.groups:
                found.append(f"group {name!r} was added")
            elif name not in self.groups:
                found.append(f"group {name!r} was removed")
            else:
                found.extend(
                    _list_changes(f"group {name!r}", recorded.groups[name], self.groups[name])
                )
        if list(self.indexes) != list(recorded.indexes):
            found.append("the [[index]] entries changed")
        for key in sorted(set(self.resolution) | set(recorded.resolution)):
            old, new = recorded.resolution.get(key), self.resolution.get(key)
            if old != new:
                found.append(f"resolution option {key!r} changed from {old!r} to {new!r}")
        for name in sorted(set(self.sources) | set(recorded.sources)):
            was, now = recorded.sources.get(name), self.sources.get(name)
            if was != now:
                found.append(
                    f"the source of {name!r} changed from {was or 'an index'} to {now or 'an index'}"
                )
        found.extend(_list_changes("environments", recorded.environments, self.environments))
        found.extend(
            _list_changes(
                "required-environments",
                recorded.required_environments,
                self.required_environments,
            )
        )
        return found


def _list_changes(what: str, old: Sequence[str], new: Sequence[str]) -> list[str]:
    added = [r for r in new if r not in old]
    removed = [r for r in old if r not in new]
    changes = [f"{what}: added {r!r}" for r in added]
    changes.extend(f"{what}: removed {r!r}" for r in removed)
    return changes


def recorded_inputs(lock: Pylock) -> LockInputs | None:
    """The inputs envspec recorded in a lock, or None for a lock another tool wrote."""
    inputs = inputs_table(lock)
    return LockInputs.from_toml(inputs) if inputs is not None else None


def packages_record(packages: Sequence[Package]) -> dict[str, Any]:
    """What envspec records of a lock's package list, so that a list cut short is noticed.

    A lock truncated at a package boundary (what a bad merge or a half-copied file leaves) is still
    a valid PEP 751 file, and would install a subset of the environment without a word. The count
    and a digest of the (name, version) pairs are recorded under ``[tool.envspec.packages]``; file
    hashes are left out, so that a tampered hash is still caught (and named) at download time."""
    lines = sorted(
        f"{package.name} "
        f"{package.version if package.version is not None else _directory_label(package)}"
        for package in packages
    )
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return {"count": len(lines), "sha256": digest}


def _directory_label(package: Package) -> str:
    return f"({package.directory.path})" if package.directory is not None else "-"


def locked_versions(lock: Pylock) -> dict[NormalizedName, Version]:
    return {p.name: p.version for p in lock.packages if p.version is not None}


def _locked_labels(lock: Pylock) -> dict[NormalizedName, Version | str]:
    """Name → its version, or every version a universal lock splits it into ("1.5.0 | 2.1.0"),
    or a local directory's path."""
    versions: dict[NormalizedName, list[Version]] = {}
    labels: dict[NormalizedName, Version | str] = {}
    for package in lock.packages:
        if package.version is not None:
            versions.setdefault(package.name, []).append(package.version)
        elif package.directory is not None:
            labels[package.name] = f"({package.directory.path})"
    for name, found in versions.items():
        ordered = sorted(set(found))
        labels[name] = ordered[0] if len(ordered) == 1 else " | ".join(map(str, ordered))
    return labels


def target_environment(target: Target) -> Marker:
    """The PEP 751 ``environments`` entry for a lock resolved for ``target``."""
    clauses = [f"{key} == {target.markers[key]!r}" for key in _ENVIRONMENT_KEYS]
    clauses.append(f"python_version == {target.markers['python_version']!r}")
    return Marker(" and ".join(clauses))


def _file_entry_fields(file: FileInfo) -> dict[str, Any]:
    if not file.sha256:
        raise OutsideWorldError(
            f"The index gave no sha256 for {file.filename}; a lock needs one for every file."
        )
    fields: dict[str, Any] = {
        "url": redact_url(file.url),  # an index may list files with a userinfo
        "size": file.size,
        "upload_time": file.upload_time,
        "hashes": {"sha256": file.sha256},
    }
    if not file.url.endswith("/" + file.filename) and (
        urlsplit(file.url).path.rsplit("/", 1)[-1] != file.filename
    ):
        fields["name"] = file.filename
    return fields


def _group_marker(groups: Iterable[str]) -> Marker:
    return Marker(" or ".join(f"{group!r} in dependency_groups" for group in sorted(groups)))


def _package(resolved: ResolvedPackage, marker: Marker | None) -> Package:
    if resolved.direct is not None:
        return _direct_package(resolved, marker)
    wheels = [
        PackageWheel(**_file_entry_fields(f)) for f in resolved.files if f.kind == "wheel"
    ]
    sdists = [f for f in resolved.files if f.kind == "sdist"]
    sdist = PackageSdist(**_file_entry_fields(sdists[0])) if sdists else None
    return Package(
        name=resolved.name,
        version=resolved.version,
        marker=marker,
        requires_python=resolved.requires_python,
        dependencies=[{"name": dep} for dep in sorted(resolved.dependencies)] or None,
        index=strip_credentials(resolved.index_url),
        sdist=sdist,
        wheels=wheels or None,
    )


def _direct_package(resolved: ResolvedPackage, marker: Marker | None) -> Package:
    """A PEP 751 ``archive`` or ``directory`` entry. A directory has no version (PEP 751: it
    cannot be guaranteed to match the code); envspec records its inputs' digest instead."""
    direct = resolved.direct
    assert direct is not None
    dependencies = [{"name": dep} for dep in sorted(resolved.dependencies)] or None
    if direct.kind == "directory":
        return Package(
            name=resolved.name,
            marker=marker,
            requires_python=resolved.requires_python,
            dependencies=dependencies,
            directory=PackageDirectory(path=direct.location, editable=direct.editable),
            tool={"envspec": {"source-digest": direct.digest}} if direct.digest else None,
        )
    file = direct.file
    archive = PackageArchive(
        url=None if direct.local else redact_url(direct.location),
        path=direct.location if direct.local else None,
        size=file.size,
        hashes={"sha256": file.sha256 or ""},
    )
    return Package(
        name=resolved.name,
        version=resolved.version,
        marker=marker,
        requires_python=resolved.requires_python,
        dependencies=dependencies,
        archive=archive,
    )


def lock_relative(path: Path, base: Path) -> str:
    """``path`` relative to the lock's directory, with forward slashes (PEP 751), or absolute
    when there is no relative way (another drive on Windows)."""
    try:
        relative = os.path.relpath(path, base)
    except ValueError:
        return path.as_posix()
    return PurePosixPath(*Path(relative).parts).as_posix() if relative != "." else "."


def from_lock_relative(path: str, base: Path) -> Path:
    """The inverse of :func:`lock_relative`: a lock's forward-slash path, on this system."""
    return Path(base, *PurePosixPath(path).parts)


def source_digests(lock: Pylock) -> dict[NormalizedName, tuple[str, bool, str]]:
    """Each local directory package of the lock → (its path as locked, editable, the digest the
    lock recorded); what ``check`` and ``lock`` compare with the directory as it is now."""
    found: dict[NormalizedName, tuple[str, bool, str]] = {}
    for package in lock.packages:
        if package.directory is None:
            continue
        found[package.name] = (
            package.directory.path,
            bool(package.directory.editable),
            package_source_digest(package) or "",
        )
    return found


def build_lock(resolution: Resolution, inputs: LockInputs, target: Target) -> Pylock:
    """The lock for a resolution: one file serving the base requirements and every group."""
    groups = sorted(str(g) for g in resolution.roots if g is not None)
    base = resolution.reachable(None)
    needed_by = {g: resolution.reachable(g) for g in groups}
    packages = []
    for name in sorted(resolution.packages):
        if name in base:
            marker = None
        else:
            marker = _group_marker(g for g in groups if name in needed_by[g])
        packages.append(_package(resolution.packages[name], marker))
    return assemble_lock(
        packages,
        environments=[target_environment(target)],
        inputs=inputs,
        groups=groups,
        record={"target": {"python-version": str(target.python_version)}},
    )


def assemble_lock(
    packages: list[Package],
    *,
    environments: list[Marker],
    inputs: LockInputs,
    groups: Sequence[str],
    record: Mapping[str, Any],
) -> Pylock:
    """The one place a lock is put together: PEP 751's fields, then ``[tool.envspec]`` with the
    inputs, ``record`` (what this kind of lock adds) and the record of its package list."""
    return Pylock(
        lock_version=LOCK_VERSION,
        environments=environments,
        requires_python=SpecifierSet(inputs.python),
        dependency_groups=list(groups) or None,
        created_by=CREATED_BY,
        packages=packages,
        tool={
            "envspec": {
                "inputs": inputs.to_toml(),
                **record,
                "packages": packages_record(packages),
            }
        },
    )


@dataclass(frozen=True, slots=True)
class LockChange:
    """One package that differs between two locks: added (old None), removed (new None) or moved."""

    name: NormalizedName
    old: Version | str | None
    new: Version | str | None
    """A version, or for a local directory (which PEP 751 locks without one) its path."""

    def __str__(self) -> str:
        if self.old is None:
            return f"+ {self.name} {self.new}"
        if self.new is None:
            return f"- {self.name} {self.old}"
        return f"~ {self.name} {self.old} -> {self.new}"


def changes_between(old: Pylock | None, new: Pylock) -> list[LockChange]:
    before = _locked_labels(old) if old is not None else {}
    after = _locked_labels(new)
    changes = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            changes.append(LockChange(name, before.get(name), after.get(name)))
    return changes

