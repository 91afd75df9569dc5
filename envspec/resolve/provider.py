"""The resolvelib provider: thin, and only delegating.

Roles, as in pip's ``resolution/resolvelib`` (whose header comment this follows):

* **provider** (this module) answers resolvelib's questions and decides nothing itself;
* **finder** (:mod:`envspec.resolve.finder`) turns requirements into ordered candidates and
  candidates into dependencies, through the :class:`PackageSource`;
* **candidates / requirements** (:mod:`envspec.resolve.candidates`) are frozen values;
* **preferences** (:mod:`envspec.resolve.preferences`) is the documented order of work;
* **select** (:mod:`envspec.resolve.select`) says which files are eligible and why not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice

from resolvelib.providers import AbstractProvider
from resolvelib.structs import RequirementInformation

from envspec.resolve.candidates import (
    PYTHON_IDENTIFIER,
    Candidate,
    Identifier,
    PackageCandidate,
    PackageRequirement,
    PythonCandidate,
    PythonRequirement,
    Requirement,
)
from envspec.resolve.finder import CandidateFinder, MatchArguments
from envspec.resolve.preferences import COUNT_CAP, PreferenceKey, preference_key

__all__ = ["Provider"]


class Provider(AbstractProvider[Requirement, Candidate, Identifier]):
    def __init__(self, finder: CandidateFinder, *, user_order: Mapping[Identifier, int]) -> None:
        self.finder = finder
        self.user_order = user_order
        self._matched: dict[Identifier, MatchArguments] = {}
        """The last find_matches arguments per identifier: what a candidate count depends on."""

    def identify(self, requirement_or_candidate: Requirement | Candidate) -> Identifier:
        return requirement_or_candidate.identifier

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[Identifier],
        resolutions: Mapping[Identifier, Candidate],
        candidates: Mapping[Identifier, Iterator[Candidate]],
        information: Mapping[Identifier, Iterator[RequirementInformation[Requirement, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Requirement, Candidate]],
    ) -> Iterable[Identifier]:
        """The target Python alone when it is pending: one candidate, decides conflicts early."""
        identifiers = list(identifiers)
        if PYTHON_IDENTIFIER in identifiers:
            return [PYTHON_IDENTIFIER]
        return identifiers

    def get_preference(
        self,
        identifier: Identifier,
        resolutions: Mapping[Identifier, Candidate],
        candidates: Mapping[Identifier, Iterator[Candidate]],
        information: Mapping[Identifier, Iterator[RequirementInformation[Requirement, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Requirement, Candidate]],
    ) -> PreferenceKey:
        matched = self._matched.get(identifier)
        if matched is not None:
            count = self.finder.count_versions(*matched, cap=COUNT_CAP)
        else:  # the target Python: its one candidate, or none
            count = sum(1 for _ in islice(candidates[identifier], COUNT_CAP))
        return preference_key(
            identifier,
            candidate_count=count,
            information=information[identifier],
            backtrack_causes=backtrack_causes,
            user_order=self.user_order,
        )

    def find_matches(
        self,
        identifier: Identifier,
        requirements: Mapping[Identifier, Iterator[Requirement]],
        incompatibilities: Mapping[Identifier, Iterator[Candidate]],
    ) -> list[Candidate] | Callable[[], Iterator[Candidate]]:
        incompatible = list(incompatibilities[identifier])
        wanted = list(requirements[identifier])
        if identifier == PYTHON_IDENTIFIER:
            python = [r for r in wanted if isinstance(r, PythonRequirement)]
            return list(self.finder.find_python(python, incompatible))
        package = [r for r in wanted if isinstance(r, PackageRequirement)]
        first = package[0]
        if first.extras and first.name in requirements:
            # The base must resolve to the same version; narrowing here saves a backtrack.
            package += [
                r for r in requirements[first.name] if isinstance(r, PackageRequirement)
            ]
        finder = self.finder
        self._matched[identifier] = (first.name, first.extras, tuple(package), tuple(incompatible))

        def candidates() -> Iterator[Candidate]:
            return finder.iter_candidates(first.name, first.extras, package, incompatible)

        return candidates

    def is_satisfied_by(self, requirement: Requirement, candidate: Candidate) -> bool:
        if isinstance(requirement, PythonRequirement):
            return isinstance(candidate, PythonCandidate) and self.finder.allows_python(
                requirement.specifier
            )
        return isinstance(candidate, PackageCandidate) and requirement.specifier.contains(
            candidate.version, prereleases=True
        )

    def get_dependencies(self, candidate: Candidate) -> Sequence[Requirement]:
        if isinstance(candidate, PythonCandidate):
            return ()
        return self.finder.dependencies(candidate)
