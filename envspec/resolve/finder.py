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

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.markers import Marker
from packaging.requirements import Requirement as PackagingRequirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envspec.errors import UserError
from envspec.resolve.candidates import (
    PackageCandidate,
    PackageRequirement,
    PythonCandidate,
    PythonRequirement,
    Requirement,
    is_pin,
)
from envspec.resolve.select import FileSelector, VersionFiles
from envspec.values.files import CandidateMetadata, FileInfo, InvalidMetadata, ProjectFiles
from envspec.resolve.source import PackageNotFound, PackageSource
from envspec.spec.model import ResolutionOptions
from envspec.values.target import Target
from envspec.values.urls import redact_text, redact_url

__all__ = ["CandidateFinder", "MatchArguments", "TransitiveDirectReference"]


_INTERNED: dict[str, SpecifierSet] = {}
"""One SpecifierSet object per spelling, so that candidates are checked once per distinct
specifier, told apart by identity: comparing and hashing SpecifierSets is not cheap, and thousands
of groups that require one project repeat the same specifier (quadratic before: 18 s to lock
5,000 single-requirement groups)."""

class TransitiveDirectReference(UserError):
    """A dependency names a URL: envspec takes direct references only from the spec, where the
    user chose them, never from a package's metadata (where they would bypass the indexes)."""

    def __init__(self, candidate: PackageCandidate, requirement: PackagingRequirement) -> None:
        name = canonicalize_name(requirement.name)
        super().__init__(
            f"{candidate.name} {candidate.version} depends on {redact_text(str(requirement))!r}, "
            "a direct reference; envspec follows direct references only when the spec itself "
            "names them.",
            hint=f"If you trust it, add it to the spec's [sources] ({name} = {{ url = "
            f"\"{redact_url(requirement.url or '')}\" }}) and {name!r} to the requirements.",
        )
        self.name = name


MatchArguments = tuple[
    NormalizedName, frozenset[NormalizedName], tuple["PackageRequirement", ...], tuple[object, ...]
]
"""What a candidate list depends on: name, extras, requirements, incompatible candidates."""


@dataclass(slots=True, kw_only=True)
class CandidateFinder:
    """Finds candidates for requirements and the dependencies of candidates, for one resolution."""

    source: PackageSource
    target: Target
    options: ResolutionOptions
    locked: Mapping[NormalizedName, Version] = field(default_factory=dict)
    upgrade: bool | Collection[NormalizedName] = False
    fixed: Mapping[NormalizedName, tuple[FileInfo, CandidateMetadata]] = field(default_factory=dict)
    """Projects from a path or URL source: their one file and its metadata, known beforehand."""

    questions: dict[tuple[str, ...], object] | None = None
    """When given, every environment-dependent question this resolution asks and its answer: a
    marker's value, a Requires-Python check, whether a version has an installable file, a
    preferred version. A universal lock re-asks them in another environment; the same answers mean
    the same resolution (see :mod:`envspec.resolve.universal`)."""
    markers_asked: dict[str, Marker] = field(default_factory=dict)
    """The markers behind the ``questions`` about markers, by their text."""

    roots: set[NormalizedName] = field(default_factory=set)
    """Projects the spec itself names: one no index has is an error at once (a typo)."""
    missing: set[NormalizedName] = field(default_factory=set)
    """Dependencies no index has: each rules out the versions that need it."""

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
    _sorted_versions: dict[NormalizedName, list[Version]] = field(default_factory=dict)
    _counts: dict[tuple[object, ...], int] = field(default_factory=dict)
    _python_answers: dict[int, tuple[SpecifierSet, bool]] = field(default_factory=dict)
    _walked: dict[NormalizedName, int] = field(default_factory=dict)
    """How many versions of each project needed their metadata fetched in this resolution."""

    def __post_init__(self) -> None:
        self.selector = FileSelector(target=self.target, options=self.options)
        constraints: dict[NormalizedName, list[SpecifierSet]] = {}
        for constraint in self.options.constraints:
            if self.evaluate(constraint.marker):
                name = canonicalize_name(constraint.name)
                constraints.setdefault(name, []).append(constraint.specifier)
        self.constraints = {name: tuple(specs) for name, specs in constraints.items()}

    # -- the environment's answers (recorded when ``questions`` is given) ------------------------
    def evaluate(self, marker: Marker | None, extras: Sequence[str] = ()) -> bool:
        answer = self.target.evaluate(marker, extras)
        if self.questions is not None and marker is not None:
            text = str(marker)
            self.markers_asked.setdefault(text, marker)
            self.questions[("marker", text, *extras)] = answer
        return answer

    def allows_python(self, specifier: SpecifierSet) -> bool:
        # asked for every pending Requires-Python at every step: memoised by identity (hashing a
        # SpecifierSet, or spelling it for the record, costs more than the answer)
        seen = self._python_answers.get(id(specifier))
        if seen is not None and seen[0] is specifier:
            return seen[1]
        answer = self.target.allows_python(specifier)
        self._python_answers[id(specifier)] = (specifier, answer)
        if self.questions is not None:
            self.questions[("python", str(specifier))] = answer
        return answer

    def count_versions(
        self,
        name: NormalizedName,
        extras: frozenset[NormalizedName],
        requirements: Sequence[PackageRequirement],
        incompatible: Sequence[object],
        *,
        cap: int,
    ) -> int:
        """How many versions (up to ``cap``) every requirement and constraint admits and no
        conflict ruled out, files unjudged: the resolver's "fewest candidates first" measure,
        the same in every environment."""
        if name in self.fixed:
            return sum(1 for _ in self._fixed_candidate(name, extras, requirements, incompatible))
        specifiers = list({id(r.specifier): r.specifier for r in requirements}.values())
        specifiers.extend(self.constraints.get(name, ()))
        excluded = {getattr(c, "version", None) for c in incompatible}
        # asked for every pending project at every step: the same question many times over
        key = (name, frozenset(map(id, specifiers)), frozenset(excluded), cap)
        if key in self._counts:
            return self._counts[key]
        self._counts[key] = found = self._count(name, specifiers, excluded, cap)
        return found

    def _count(
        self, name: NormalizedName, specifiers: list[SpecifierSet], excluded: set[object], cap: int
    ) -> int:
        found = 0
        for version in self.sorted_versions(name):
            if version in excluded:
                continue
            if all(s.contains(version, prereleases=True) for s in specifiers):
                found += 1
                if found >= cap:
                    break
        return found

    def preferred(self, name: NormalizedName) -> Version | None:
        """The version to try first: the lock's (or, in a universal lock, the one other
        environments chose), unless the project is being upgraded."""
        if self.is_upgraded(name):
            return None
        found = self.locked.get(name)
        if self.questions is not None:
            self.questions[("preferred", name)] = found
        return found

    # -- projects and versions ------------------------------------------------------------------
    def project(self, name: NormalizedName) -> ProjectFiles:
        """The project's files (raises PackageNotFound, which the caller lets through)."""
        if name not in self._projects:
            if name in self.fixed:
                file = self.fixed[name][0]
                self._projects[name] = ProjectFiles(name=name, index_url="", files=(file,))
            else:
                self._projects[name] = self.source.project(name)
        return self._projects[name]

    def prefetch(self, names: Iterable[NormalizedName]) -> None:
        """Start fetching the index pages of ``names`` (not of projects with a fixed source)."""
        wanted = sorted(name for name in names if name not in self.fixed)
        if wanted:
            self.source.prefetch(wanted, self.speculate_project)

    def versions(self, name: NormalizedName) -> dict[Version, tuple[FileInfo, ...]]:
        """Every version the index lists for ``name``, with its files (any eligibility)."""
        if name not in self._files_by_version and name in self.fixed:
            file, metadata = self.fixed[name]
            self._files_by_version[name] = {metadata.version: (file,)}
        if name not in self._files_by_version:
            try:
                files = self.project(name).files
            except PackageNotFound:
                if name in self.roots:
                    raise  # the spec names it: a misspelt name, said as such
                # A dependency no index has rules out the versions that need it, not the lock:
                # the resolver backtracks to versions that do without it (as uv does).
                self.missing.add(name)
                files = ()
            grouped: dict[Version, list[FileInfo]] = {}
            for file in files:
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
        found = self._verdicts[key]
        if self.questions is not None:
            self.questions[("installable", name, str(version), str(pinned))] = (
                found.rejection is None
            )
        return found

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
        if all(self.allows_python(r.specifier) for r in requirements):
            return [candidate]
        return []

    def sorted_versions(self, name: NormalizedName) -> list[Version]:
        """Every version of ``name``, newest first (sorted once per resolution)."""
        if name not in self._sorted_versions:
            self._sorted_versions[name] = sorted(self.versions(name), reverse=True)
        return self._sorted_versions[name]

    def iter_candidates(
        self,
        name: NormalizedName,
        extras: frozenset[NormalizedName],
        requirements: Sequence[PackageRequirement],
        incompatible: Collection[object],
    ) -> Iterator[PackageCandidate]:
        """The candidates satisfying every requirement and constraint, best first, lazily.

        Order: the locked version first (while it satisfies and the project is not being
        upgraded), then newest first. Pre-releases follow ``options.prereleases``; with
        ``if-necessary`` they come only after it is clear that no final release qualifies. A yanked
        file is offered only for a version some requirement pins with ``==``/``===``.

        Lazy because a popular project lists thousands of versions and the resolver almost always
        takes one of the first few: each version's files are judged only when it is reached.
        """
        if name in self.fixed:
            yield from self._fixed_candidate(name, extras, requirements, incompatible)
            return
        # distinct ones: thousands of groups requiring the same project repeat one specifier, and
        # every candidate is checked against each (quadratic in groups before)
        specifiers = list({id(r.specifier): r.specifier for r in requirements}.values())
        constraints = self.constraints.get(name, ())
        pins = [s for s in specifiers if is_pin(s)]
        policy = self.options.prereleases
        names_prerelease = any(spec.prereleases for s in specifiers for spec in s)
        always_pre = policy == "allow" or (policy == "if-necessary" and names_prerelease)
        log = self.rejections.setdefault(name, {})
        if not self.versions(name) and name in self.missing:
            return
        index_url = self.project(name).index_url
        order = self.sorted_versions(name)
        locked = self.preferred(name)
        if locked is not None and locked in self.versions(name):
            order = [locked, *(v for v in order if v != locked)]

        def admissible(version: Version) -> VersionFiles | None:
            if not all(s.contains(version, prereleases=True) for s in specifiers):
                return None
            failed = next(
                (c for c in constraints if not c.contains(version, prereleases=True)), None
            )
            if failed is not None:
                log[version] = f"excluded by the constraint {name}{failed}"
                return None
            pinned = any(p.contains(version, prereleases=True) for p in pins)
            verdict = self.verdict(name, version, pinned=pinned)
            if verdict.rejection is not None:
                log[version] = verdict.rejection
                return None
            return verdict

        def candidate(verdict: VersionFiles) -> PackageCandidate | None:
            assert verdict.best_file is not None
            made = PackageCandidate(
                name=name,
                version=verdict.version,
                extras=extras,
                files=verdict.files,
                best_file=verdict.best_file,
                index_url=index_url,
            )
            return None if made in incompatible else made

        prefetched = False
        finals_fit = False
        held_back: list[Version] = []
        for version in order:
            if version.is_prerelease and not always_pre:
                held_back.append(version)
                continue
            verdict = admissible(version)
            if verdict is None:
                continue
            finals_fit = finals_fit or not version.is_prerelease
            made = candidate(verdict)
            if made is not None:
                if not prefetched:
                    self.source.prefetch_metadata([made.best_file], self.speculate_metadata)
                    prefetched = True
                yield made
        offer_held = policy == "if-necessary" and not finals_fit
        for version in held_back:
            if not offer_held:
                if all(s.contains(version, prereleases=True) for s in specifiers):
                    log[version] = "pre-release, not allowed"
                continue
            verdict = admissible(version)
            if verdict is None:
                continue
            made = candidate(verdict)
            if made is not None:
                yield made

    def _next_files(
        self,
        name: NormalizedName,
        versions: Sequence[Version],
        specifiers: Sequence[SpecifierSet],
        pins: Sequence[SpecifierSet],
        *,
        ahead: int = 8,
    ) -> list[FileInfo]:
        """The files the next ``ahead`` candidates would read their metadata from (judged
        without being recorded: this only warms the cache)."""
        found: list[FileInfo] = []
        for version in versions:
            if len(found) >= ahead:
                break
            if version.is_prerelease or not all(
                s.contains(version, prereleases=True) for s in specifiers
            ):
                continue
            pinned = any(p.contains(version, prereleases=True) for p in pins)
            key = (name, version, pinned)
            verdict = self._verdicts.get(key)
            if verdict is None:
                verdict = self.selector.select_version(
                    name, version, self.versions(name)[version], pinned=pinned
                )
                self._verdicts[key] = verdict
            if verdict.best_file is not None and (name, version) not in self._metadata:
                found.append(verdict.best_file)
        return found

    def _fixed_candidate(
        self,
        name: NormalizedName,
        extras: frozenset[NormalizedName],
        requirements: Sequence[PackageRequirement],
        incompatible: Collection[object],
    ) -> Iterator[PackageCandidate]:
        """The one candidate of a project with a path or URL source, if every requirement and
        constraint admits its version (pre-releases included: the user chose this source)."""
        file, metadata = self.fixed[name]
        version = metadata.version
        specifiers = [r.specifier for r in requirements]
        specifiers.extend(self.constraints.get(name, ()))
        failed = next((s for s in specifiers if not s.contains(version, prereleases=True)), None)
        if failed is not None:
            self.rejections.setdefault(name, {})[version] = (
                f"its source ({file.url}) provides {version}, which {name}{failed} excludes"
            )
            return
        made = PackageCandidate(
            name=name, version=version, extras=extras, files=(file,), best_file=file, index_url=""
        )
        if made not in incompatible:
            yield made

    # -- get_dependencies -----------------------------------------------------------------------
    def metadata(self, candidate: PackageCandidate) -> CandidateMetadata:
        key = (candidate.name, candidate.version)
        if key not in self._metadata and candidate.name in self.fixed:
            self._metadata[key] = self.fixed[candidate.name][1]
        if key not in self._metadata:
            self._look_ahead(candidate)
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

    def _look_ahead(self, candidate: PackageCandidate) -> None:
        """A second version of one project needing its metadata means the resolver is walking
        down its versions (backtracking), one round trip per step: start fetching the next few
        older ones at once, so that the walk waits for the network once, not at every step."""
        walked = self._walked.setdefault(candidate.name, 0) + 1
        self._walked[candidate.name] = walked
        if walked != 2 and walked % 12 != 0:
            return
        older = [v for v in self.sorted_versions(candidate.name) if v < candidate.version]
        self.source.prefetch_metadata(self._next_files(candidate.name, older, (), (), ahead=16))

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
            if self.evaluate(requirement.marker, sorted(candidate.extras)):
                if candidate.extras and self.evaluate(requirement.marker):
                    continue  # the base candidate already depends on it
                if requirement.url and canonicalize_name(requirement.name) not in self.fixed:
                    raise TransitiveDirectReference(candidate, requirement)
                found.append(self.package_requirement(requirement))
        if metadata.requires_python is not None and not candidate.extras:
            found.append(PythonRequirement(specifier=metadata.requires_python))
        result = tuple(found)
        self._dependencies[candidate] = result
        names = {r.name for r in result if isinstance(r, PackageRequirement)}
        names.discard(candidate.name)
        self.prefetch(names)
        return result

    # -- speculation (runs in the source's background threads) -----------------------------------
    def speculate_project(self, project: ProjectFiles) -> None:
        """A page arrived: start fetching the metadata of the version most likely to be chosen.

        The guess is the newest final release with a file for the target, ignoring specifiers
        (unknown here); it is usually right, and a wrong guess costs one request. Must not touch
        the finder's caches: it runs in another thread while the resolver uses them.
        """
        grouped: dict[Version, list[FileInfo]] = {}
        for file in project.files:
            parsed = file.name_and_version()
            if parsed is not None and parsed[0] == project.name and not parsed[1].is_prerelease:
                grouped.setdefault(parsed[1], []).append(file)
        for version in sorted(grouped, reverse=True)[:5]:
            verdict = self.selector.select_version(
                project.name, version, grouped[version], pinned=False
            )
            if verdict.best_file is not None:
                self.source.prefetch_metadata([verdict.best_file], self.speculate_metadata)
                return

    def speculate_metadata(self, metadata: CandidateMetadata) -> None:
        """Metadata arrived: start fetching the pages of what it requires on the target."""
        names = {
            canonicalize_name(requirement.name)
            for requirement in metadata.requires_dist
            if self.target.evaluate(requirement.marker)
        }
        names.discard(metadata.name)
        self.prefetch(names)

    @staticmethod
    def package_requirement(
        requirement: PackagingRequirement, *, group: str | None = None, root: bool = False
    ) -> PackageRequirement:
        return PackageRequirement(
            name=canonicalize_name(requirement.name),
            extras=frozenset(canonicalize_name(e) for e in requirement.extras),
            specifier=_INTERNED.setdefault(str(requirement.specifier), requirement.specifier),
            group=group,
            root=root,
        )
