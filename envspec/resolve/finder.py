"""Turning requirements into ordered candidates, and candidates into their dependencies.

This is the "factory" of pip's resolvelib integration, kept free of error wording and of I/O other
than the :class:`PackageSource` it is given. It owns the per-resolution caches (project pages, the
verdict on each version, metadata) and the policy decisions that depend on the spec's options:
pre-releases, constraints, yanked pins, and the minimal-churn order of a locked version.

It also keeps a log of *why* versions were passed over (``rejections``), which the conflict
explanation quotes: resolvelib only reports the last conflict, never the versions that were filtered
out before it began.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.requirements import Requirement as PackagingRequirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envspec.resolve.candidates import (
    PackageCandidate,
    PackageRequirement,
    PythonCandidate,
    PythonRequirement,
    Requirement,
    is_pin,
)
from envspec.resolve.select import FileSelector, VersionFiles
from envspec.resolve.source import (
    CandidateMetadata,
    FileInfo,
    InvalidMetadata,
    PackageSource,
    ProjectFiles,
)
from envspec.spec import ResolutionOptions
from envspec.target import Target

__all__ = ["CandidateFinder"]


@dataclass(slots=True, kw_only=True)
class CandidateFinder:
    """Finds candidates for requirements and the dependencies of candidates, for one resolution."""

    source: PackageSource
    target: Target
    options: ResolutionOptions
    locked: Mapping[NormalizedName, Version] = field(default_factory=dict)
    upgrade: bool | Collection[NormalizedName] = False

    rejections: dict[NormalizedName, dict[Version, str]] = field(default_factory=dict)
    """name → version → why it was not offered (the last reason seen)."""
    constraints: dict[NormalizedName, tuple[SpecifierSet, ...]] = field(init=False)
    selector: FileSelector = field(init=False)
    _projects: dict[NormalizedName, ProjectFiles] = field(default_factory=dict)
    _files_by_version: dict[NormalizedName, dict[Version, tuple[FileInfo, ...]]] = field(
        default_factory=dict
    )
    _verdicts: dict[tuple[NormalizedName, Version, bool], VersionFiles] = field(
        default_factory=dict
    )
    _metadata: dict[tuple[NormalizedName, Version], CandidateMetadata] = field(
        default_factory=dict
    )
    _dependencies: dict[PackageCandidate, tuple[Requirement, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.selector = FileSelector(target=self.target, options=self.options)
        constraints: dict[NormalizedName, list[SpecifierSet]] = {}
        for constraint in self.options.constraints:
            if self.target.evaluate(constraint.marker):
                name = canonicalize_name(constraint.name)
                constraints.setdefault(name, []).append(constraint.specifier)
        self.constraints = {name: tuple(specs) for name, specs in constraints.items()}

    # -- projects and versions ------------------------------------------------------------------
    def project(self, name: NormalizedName) -> ProjectFiles:
        """The project's files (raises PackageNotFound, which the caller lets through)."""
        if name not in self._projects:
            self._projects[name] = self.source.project(name)
        return self._projects[name]

    def versions(self, name: NormalizedName) -> dict[Version, tuple[FileInfo, ...]]:
        """Every version the index lists for ``name``, with its files (any eligibility)."""
        if name not in self._files_by_version:
            grouped: dict[Version, list[FileInfo]] = {}
            for file in self.project(name).files:
                parsed = file.name_and_version()
                if parsed is None or parsed[0] != name:
                    continue
                grouped.setdefault(parsed[1], []).append(file)
            self._files_by_version[name] = {v: tuple(fs) for v, fs in grouped.items()}
        return self._files_by_version[name]

    def verdict(self, name: NormalizedName, version: Version, *, pinned: bool) -> VersionFiles:
        key = (name, version, pinned)
        if key not in self._verdicts:
            self._verdicts[key] = self.selector.select_version(
                name, version, self.versions(name)[version], pinned=pinned
            )
        return self._verdicts[key]

    def is_upgraded(self, name: NormalizedName) -> bool:
        if isinstance(self.upgrade, bool):
            return self.upgrade
        return name in self.upgrade

    # -- find_matches ---------------------------------------------------------------------------
    def find_python(
        self, requirements: Iterable[PythonRequirement], incompatible: Collection[object]
    ) -> list[PythonCandidate]:
        candidate = PythonCandidate(version=self.target.python_version)
        if candidate in incompatible:
            return []
        if all(self.target.allows_python(r.specifier) for r in requirements):
            return [candidate]
        return []

    def find_candidates(
        self,
        name: NormalizedName,
        extras: frozenset[NormalizedName],
        requirements: Sequence[PackageRequirement],
        incompatible: Collection[object],
    ) -> list[PackageCandidate]:
        """The candidates satisfying every requirement and constraint, best first.

        Order: the locked version first (while it satisfies and the project is not being
        upgraded), then newest first. Pre-releases follow ``options.prereleases``; a yanked file is
        offered only for a version some requirement pins with ``==``/``===``.
        """
        specifiers = [r.specifier for r in requirements]
        constraints = self.constraints.get(name, ())
        pins = [s for s in specifiers if is_pin(s)]
        policy = self.options.prereleases
        names_prerelease = any(spec.prereleases for s in specifiers for spec in s)
        offered: list[tuple[VersionFiles, bool]] = []
        finals_fit = False
        log = self.rejections.setdefault(name, {})
        for version in sorted(self.versions(name), reverse=True):
            if not all(s.contains(version, prereleases=True) for s in specifiers):
                continue
            failed = next(
                (c for c in constraints if not c.contains(version, prereleases=True)), None
            )
            if failed is not None:
                log[version] = f"excluded by the constraint {name}{failed}"
                continue
            pinned = any(p.contains(version, prereleases=True) for p in pins)
            verdict = self.verdict(name, version, pinned=pinned)
            if verdict.rejection is not None:
                log[version] = verdict.rejection
                continue
            if not version.is_prerelease:
                finals_fit = True
            offered.append((verdict, version.is_prerelease))
        allow_pre = policy == "allow" or (
            policy == "if-necessary" and (names_prerelease or not finals_fit)
        )
        index_url = self.project(name).index_url
        candidates: list[PackageCandidate] = []
        for verdict, is_pre in offered:
            if is_pre and not allow_pre:
                log[verdict.version] = "pre-release, not allowed"
                continue
            assert verdict.best_file is not None
            candidate = PackageCandidate(
                name=name,
                version=verdict.version,
                extras=extras,
                files=verdict.files,
                best_file=verdict.best_file,
                index_url=index_url,
            )
            if candidate not in incompatible:
                candidates.append(candidate)
        locked = self.locked.get(name)
        if locked is not None and not self.is_upgraded(name):
            candidates.sort(key=lambda c: c.version != locked)  # stable: the rest stay newest first
        if candidates:
            self.source.prefetch_metadata([candidates[0].best_file])
        return candidates

    # -- get_dependencies -----------------------------------------------------------------------
    def metadata(self, candidate: PackageCandidate) -> CandidateMetadata:
        key = (candidate.name, candidate.version)
        if key not in self._metadata:
            metadata = self.source.metadata(candidate.best_file)
            if canonicalize_name(metadata.name) != candidate.name or (
                metadata.version != candidate.version
            ):
                raise InvalidMetadata(
                    candidate.best_file.url,
                    f"it describes {metadata.name} {metadata.version}, "
                    f"not {candidate.name} {candidate.version}",
                )
            self._metadata[key] = metadata
        return self._metadata[key]

    def requires_python(self, candidate: PackageCandidate) -> SpecifierSet | None:
        """The candidate's Requires-Python: its metadata's, else what the index said of its file."""
        metadata = self.metadata(candidate)
        if metadata.requires_python is not None:
            return metadata.requires_python
        text = candidate.best_file.requires_python
        return SpecifierSet(text) if text else None

    def dependencies(self, candidate: PackageCandidate) -> tuple[Requirement, ...]:
        """Requires-Dist for the target (extras turned on), the base pin, and Requires-Python."""
        if candidate in self._dependencies:
            return self._dependencies[candidate]
        metadata = self.metadata(candidate)
        found: list[Requirement] = []
        if candidate.extras:
            found.append(
                PackageRequirement(
                    name=candidate.name, specifier=SpecifierSet(f"=={candidate.version}")
                )
            )
        for requirement in metadata.requires_dist:
            if self.target.evaluate(requirement.marker, sorted(candidate.extras)):
                if candidate.extras and self.target.evaluate(requirement.marker):
                    continue  # the base candidate already depends on it
                found.append(self.package_requirement(requirement))
        if metadata.requires_python is not None and not candidate.extras:
            found.append(PythonRequirement(specifier=metadata.requires_python))
        result = tuple(found)
        self._dependencies[candidate] = result
        names = {r.name for r in result if isinstance(r, PackageRequirement)}
        names.discard(candidate.name)
        if names:
            self.source.prefetch(sorted(names))
        return result

    @staticmethod
    def package_requirement(
        requirement: PackagingRequirement, *, group: str | None = None, root: bool = False
    ) -> PackageRequirement:
        return PackageRequirement(
            name=canonicalize_name(requirement.name),
            extras=frozenset(canonicalize_name(e) for e in requirement.extras),
            specifier=requirement.specifier,
            group=group,
            root=root,
        )
