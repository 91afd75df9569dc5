"""Resolution: the spec's requirements → one exact set of packages for a target.

The base requirements and every group are resolved *together*, in one resolution, because one lock
serves them all: a group can never get a version of a package different from the base's. The result
records which packages each group names directly (``roots``) so that a sync of "base + dev" installs
exactly what those reach.

Import graph (core only; nothing here touches the network: the source does, behind a Protocol)::

    resolve/__init__  ──▶ provider ──▶ finder ──▶ select ──▶ source (PackageSource, values)
          │                  │            └──▶ candidates
          │                  └──▶ preferences
          └──▶ reporter, explain (ResolutionImpossible)

``PackageNotFound`` from the source propagates unchanged (a user error: a misspelt name).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version
from resolvelib import Resolver
from resolvelib.resolvers import ResolutionImpossible as ResolvelibImpossible
from resolvelib.resolvers import ResolutionTooDeep

from envspec.resolve.candidates import Candidate, Identifier, PackageCandidate, PackageRequirement
from envspec.resolve.candidates import Requirement as ResolverRequirement
from envspec.resolve.explain import ResolutionImpossible, explain_conflict
from envspec.resolve.finder import CandidateFinder
from envspec.resolve.provider import Provider
from envspec.resolve.reporter import RecordingReporter
from envspec.values.files import CandidateMetadata, FileInfo, ProjectFiles
from envspec.resolve.source import PackageSource
from envspec.spec.model import ResolutionOptions
from envspec.values.target import Target

if TYPE_CHECKING:
    from envspec.resolve.candidates import DirectPackage

__all__ = ["Resolution", "ResolutionImpossible", "ResolvedPackage", "SharedCaches", "resolve"]

MAX_ROUNDS = 20_000
"""resolvelib's backtracking budget; a spec that needs more is reported as impossible."""


@dataclass(frozen=True, slots=True)
class SharedCaches:
    """What resolutions for different targets can share: nothing in here depends on the target.
    (A version's metadata is read from one of its files and taken to hold for all of them, as
    every resolver does.)"""

    projects: dict[NormalizedName, ProjectFiles] = field(default_factory=dict)
    files_by_version: dict[NormalizedName, dict[Version, tuple[FileInfo, ...]]] = field(
        default_factory=dict
    )
    metadata: dict[tuple[NormalizedName, Version], CandidateMetadata] = field(default_factory=dict)
    sorted_versions: dict[NormalizedName, list[Version]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedPackage:
    name: NormalizedName
    version: Version
    files: tuple[FileInfo, ...]
    """Every file of this version eligible under the options (exclude-newer, yanked only when
    pinned, no sdist under only-binary), wheels for all platforms, sorted by filename."""
    requires_python: SpecifierSet | None
    dependencies: frozenset[NormalizedName]
    """Direct dependencies for the target (markers evaluated), the requested extras' folded in."""
    extras: frozenset[NormalizedName]
    """The extras of this package that something requested."""
    index_url: str
    """Empty for a project from a path or URL source (``direct``)."""
    direct: DirectPackage | None = None
    """The project's path or URL source, when it does not come from an index."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    packages: Mapping[NormalizedName, ResolvedPackage]
    roots: Mapping[str | None, frozenset[NormalizedName]]
    """Per group (None = the base requirements): the packages its requirements name."""
    _reachable: dict[str | None, frozenset[NormalizedName]] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )

    def reachable(self, group: str | None) -> frozenset[NormalizedName]:
        """Every package the group pulls in, transitively (the group's roots included)."""
        if group not in self._reachable:
            seen: set[NormalizedName] = set()
            pending = list(self.roots.get(group, frozenset()))
            while pending:
                name = pending.pop()
                if name in seen or name not in self.packages:
                    continue
                seen.add(name)
                pending.extend(self.packages[name].dependencies - seen)
            self._reachable[group] = frozenset(seen)
        return self._reachable[group]


def resolve(
    requirements: Mapping[str | None, Sequence[Requirement]],
    *,
    target: Target,
    source: PackageSource,
    options: ResolutionOptions = ResolutionOptions(),
    locked: Mapping[NormalizedName, Version] = MappingProxyType({}),
    upgrade: bool | Collection[NormalizedName] = False,
    direct: Mapping[NormalizedName, DirectPackage] = MappingProxyType({}),
    questions: dict[tuple[str, ...], object] | None = None,
    markers_asked: dict[str, Marker] | None = None,
    shared: SharedCaches | None = None,
) -> Resolution:
    """Resolve the base requirements (key None) and every group (key = its name) together.

    ``locked`` holds the versions of an existing lock: each is tried first while it still satisfies
    (minimal churn). ``upgrade=True`` ignores them all; a collection of names frees only those.
    Raises :class:`ResolutionImpossible` (exit 2) with a readable explanation, and lets
    ``PackageNotFound`` through.

    ``questions`` records what the resolution asked of the target (for a universal lock's replay
    check); ``shared`` lends it caches that do not depend on the target (project pages, versions,
    metadata), so that resolving for several environments fetches and parses each thing once.
    """
    caches = shared or SharedCaches()
    finder = CandidateFinder(
        source=source,
        target=target,
        options=options,
        locked=locked,
        upgrade=upgrade,
        fixed={name: (package.file, package.metadata) for name, package in direct.items()},
        questions=questions,
        markers_asked={} if markers_asked is None else markers_asked,
        _projects=caches.projects,
        _files_by_version=caches.files_by_version,
        _metadata=caches.metadata,
        _sorted_versions=caches.sorted_versions,
    )
    roots: dict[str | None, frozenset[NormalizedName]] = {}
    root_requirements: list[PackageRequirement] = []
    user_order: dict[Identifier, int] = {}
    for group, group_requirements in requirements.items():
        names: set[NormalizedName] = set()
        for requirement in group_requirements:
            if not finder.evaluate(requirement.marker):
                continue
            converted = finder.package_requirement(requirement, group=group, root=True)
            finder.roots.add(converted.name)
            root_requirements.append(converted)
            names.add(converted.name)
            user_order.setdefault(converted.identifier, len(user_order))
        roots[group] = frozenset(names)
    finder.prefetch({r.name for r in root_requirements})

    reporter = RecordingReporter()
    resolver: Resolver[ResolverRequirement, Candidate, Identifier] = Resolver(
        Provider(finder, user_order=user_order), reporter
    )
    try:
        result = resolver.resolve(root_requirements, max_rounds=MAX_ROUNDS)
    except ResolvelibImpossible as error:
        raise explain_conflict(
            error.causes,
            reporter=reporter,
            target=target,
            versions={name: finder.versions(name).keys() for name in finder.rejections},
            rejections=finder.rejections,
            sourced=frozenset(direct),
            missing=frozenset(finder.missing),
        ) from None
    except ResolutionTooDeep:
        raise ResolutionImpossible(
            f"Cannot resolve: gave up after {MAX_ROUNDS} rounds of backtracking; the "
            "requirements are too loose to settle. Add upper bounds to the packages that change "
            "most.",
            conflicting_names=(),
        ) from None

    candidates = [c for c in result.mapping.values() if isinstance(c, PackageCandidate)]
    extras: dict[NormalizedName, set[NormalizedName]] = {}
    dependencies: dict[NormalizedName, set[NormalizedName]] = {}
    for candidate in candidates:
        extras.setdefault(candidate.name, set()).update(candidate.extras)
        deps = dependencies.setdefault(candidate.name, set())
        for dependency in finder.dependencies(candidate):
            if isinstance(dependency, PackageRequirement) and dependency.name != candidate.name:
                deps.add(dependency.name)
    packages: dict[NormalizedName, ResolvedPackage] = {}
    for candidate in sorted(candidates, key=lambda c: c.name):
        if candidate.extras:
            continue
        packages[candidate.name] = ResolvedPackage(
            name=candidate.name,
            version=candidate.version,
            files=candidate.files,
            requires_python=finder.requires_python(candidate),
            dependencies=frozenset(dependencies[candidate.name]),
            extras=frozenset(extras[candidate.name]),
            index_url=candidate.index_url,
            direct=direct.get(candidate.name),
        )
    return Resolution(packages=MappingProxyType(packages), roots=MappingProxyType(roots))
