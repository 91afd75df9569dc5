"""Why a resolution is impossible, as one paragraph a user can act on.

Input: the causes of resolvelib's last conflict, the reporter's record of who asked for what, and
the finder's log of versions passed over. Output: requirement chains walked back to the spec lines
that started them, then, for each project in the conflict whose versions were filtered out, which
versions exist and why each was not usable. For example::

    Cannot resolve: the spec requires a>=2; a 2.0 requires b<1; the spec's group 'dev' requires
    b>=1.5.

    Cannot resolve: the spec requires b; b 2.0 requires Python >=3.12, but the target is Python
    3.11.7. Versions of b: 2.0 (requires Python >=3.12, but the target is Python 3.11.7).

Only strings are built here; nothing is printed (the CLI prints).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from packaging.utils import NormalizedName
from packaging.version import Version
from resolvelib.structs import RequirementInformation

from envspec.errors import UserError
from envspec.resolve.candidates import (
    Candidate,
    PackageCandidate,
    PackageRequirement,
    PythonRequirement,
    Requirement,
)
from envspec.resolve.reporter import RecordingReporter
from envspec.values.target import Target

__all__ = ["ResolutionImpossible", "explain_conflict"]

Information = RequirementInformation[Requirement, Candidate]

_MAX_VERSIONS_SHOWN = 8


class ResolutionImpossible(UserError):
    """The requirements cannot all be satisfied together; ``str()`` says why in one paragraph."""

    def __init__(self, message: str, *, conflicting_names: Iterable[NormalizedName]) -> None:
        super().__init__(
            message,
            hint="Relax one of the requirements named above, or pin a version that fits them all.",
        )
        self.conflicting_names: frozenset[NormalizedName] = frozenset(conflicting_names)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Explainer:
    reporter: RecordingReporter
    target: Target
    versions: Mapping[NormalizedName, Iterable[Version]]
    rejections: Mapping[NormalizedName, Mapping[Version, str]]
    sourced: frozenset[NormalizedName] = frozenset()
    missing: frozenset[NormalizedName] = frozenset()
    """Dependencies no index has."""
    """Projects from a path or URL source: they have one version, not an index's list."""

    def python_mismatch(self, requirement: PythonRequirement) -> str:
        return (
            f"requires Python {requirement.specifier}, "
            f"but the target is Python {self.target.python_version}"
        )

    def describe(self, requirement: Requirement, parent: Candidate | None) -> str:
        if isinstance(requirement, PythonRequirement):
            who = str(parent) if parent is not None else "the spec"
            return f"{who} {self.python_mismatch(requirement)}"
        if parent is None:
            if requirement.group is None:
                return f"the spec requires {requirement}"
            return f"the spec's group {requirement.group!r} requires {requirement}"
        return f"{parent} requires {requirement}"

    def introducer(self, candidate: Candidate, seen: set[str]) -> Information | None:
        """The requirement that brought ``candidate`` in, preferring one written in the spec."""
        entries = self.reporter.introduced_by.get(candidate.identifier, [])
        fitting = [
            info
            for info in entries
            if isinstance(info.requirement, PackageRequirement)
            and info.requirement.specifier.contains(candidate.version, prereleases=True)
            and (info.parent is None or info.parent.identifier not in seen)
        ]
        for info in fitting:
            if info.parent is None:
                return info
        return fitting[0] if fitting else None

    def chain(self, information: Information) -> tuple[list[str], Information]:
        """Segments from the spec line down to ``information``'s requirement, and the spec line."""
        segments = [self.describe(information.requirement, information.parent)]
        top = information
        parent = information.parent
        seen: set[str] = set()
        while parent is not None and parent.identifier not in seen:
            seen.add(parent.identifier)
            via = self.introducer(parent, seen)
            if via is None:
                break
            segments.append(self.describe(via.requirement, via.parent))
            top = via
            parent = via.parent
        segments.reverse()
        return segments, top

    def version_reasons(self, name: NormalizedName) -> dict[Version, str]:
        reasons = dict(self.rejections.get(name, {}))
        for rejection in self.reporter.rejections:
            if rejection.candidate.name != name:
                continue
            for requirement, parent in rejection.causes:
                if isinstance(requirement, PythonRequirement) and parent == rejection.candidate:
                    reasons[rejection.candidate.version] = self.python_mismatch(requirement)
        return reasons

    def versions_sentence(self, name: NormalizedName) -> str:
        versions = sorted(self.versions.get(name, ()), reverse=True)
        if name in self.missing:
            return f"No index has a project named {name!r}."
        if not versions:
            return f"{name} has no installable files on the index."
        reasons = self.version_reasons(name)
        shown = [
            f"{version} ({reasons[version]})" if version in reasons else str(version)
            for version in versions[:_MAX_VERSIONS_SHOWN]
        ]
        more = len(versions) - _MAX_VERSIONS_SHOWN
        if more > 0:
            shown.append(f"and {more} older")
        if name in self.sourced:
            return f"{name} comes from its source in the spec: {', '.join(shown)}."
        return f"Versions of {name} on the index: {', '.join(shown)}."


def explain_conflict(
    causes: Iterable[Information],
    *,
    reporter: RecordingReporter,
    target: Target,
    versions: Mapping[NormalizedName, Iterable[Version]],
    rejections: Mapping[NormalizedName, Mapping[Version, str]],
    sourced: frozenset[NormalizedName] = frozenset(),
    missing: frozenset[NormalizedName] = frozenset(),
) -> ResolutionImpossible:
    """Build the error for resolvelib's ``ResolutionImpossible(causes)``."""
    explainer = _Explainer(
        reporter=reporter,
        target=target,
        versions=versions,
        rejections=rejections,
        sourced=sourced,
        missing=missing,
    )
    chains = [(explainer.chain(information), information) for information in causes]
    # Chains that start at the base requirements first, then groups in the order they were written.
    chains.sort(key=lambda item: _group_rank(item[0][1]))
    segments: list[str] = []
    names: list[NormalizedName] = []
    requirements_by_name: dict[NormalizedName, set[PackageRequirement]] = {}
    for (chain_segments, _), information in chains:
        for segment in chain_segments:
            if segment not in segments:
                segments.append(segment)
        requirement, parent = information
        if isinstance(requirement, PackageRequirement):
            requirements_by_name.setdefault(requirement.name, set()).add(requirement)
        for name in _chain_names(explainer, information):
            if name not in names:
                names.append(name)
    sentences = [f"Cannot resolve: {'; '.join(segments)}."]
    for name, requirements in requirements_by_name.items():
        if explainer.version_reasons(name) or len(requirements) == 1:
            sentences.append(explainer.versions_sentence(name))
    return ResolutionImpossible(" ".join(sentences), conflicting_names=names)


def _group_rank(top: Information) -> int:
    requirement = top.requirement
    if top.parent is None and isinstance(requirement, PackageRequirement):
        return 0 if requirement.group is None else 1
    return 2


def _chain_names(explainer: _Explainer, information: Information) -> list[NormalizedName]:
    """The projects along a chain, from the conflicting requirement up to the spec."""
    found: list[NormalizedName] = []
    if isinstance(information.requirement, PackageRequirement):
        found.append(information.requirement.name)
    parent = information.parent
    seen: set[str] = set()
    while isinstance(parent, PackageCandidate) and parent.identifier not in seen:
        seen.add(parent.identifier)
        found.append(parent.name)
        via = explainer.introducer(parent, seen)
        parent = via.parent if via is not None else None
    return found
