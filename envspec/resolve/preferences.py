"""Which project the resolver should pin next: the preference key.

resolvelib pins the identifier with the *smallest* key first. A good order makes most resolutions
linear and keeps backtracking short; pip's order is the baseline. The key is a tuple, compared
element by element (False sorts before True):

1. ``not is_python``      -- the target interpreter first: it has one candidate and decides early
                             whether a Requires-Python conflict exists.
2. ``not direct_pinned``  -- a spec requirement pinned with ``==``/``===`` has one possible answer.
3. ``not backtrack_cause``-- a project involved in the last conflict: resolving it first lets the
                             resolver give up the right thing sooner.
4. ``not direct``         -- requirements the user wrote before transitive ones.
5. ``not upper_bounded``  -- ``<``, ``<=``, ``~=``, ``==`` leave few versions to try.
6. ``candidate_count``    -- fewest remaining versions first, counted up to a small cap: the
                             versions every requirement and constraint admits and no conflict
                             ruled out. Counted without judging their files, which is cheaper
                             and the same for every environment, so that a universal lock's
                             resolutions for different platforms take the same path.
7. ``user_order``         -- the order the spec lists requirements in (base, then groups).
8. ``identifier``         -- the name, so that the result never depends on hash or dict order.

The function is called O(n) times per step, so every element is cheap: the candidate count stops
at ``COUNT_CAP``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from resolvelib.structs import RequirementInformation

from envspec.resolve.candidates import (
    PYTHON_IDENTIFIER,
    Candidate,
    Identifier,
    PackageRequirement,
    Requirement,
)

__all__ = ["COUNT_CAP", "PreferenceKey", "preference_key"]

COUNT_CAP = 4
_UPPER_BOUNDING = frozenset({"<", "<=", "~=", "==", "==="})


class PreferenceKey(NamedTuple):
    not_python: bool
    not_direct_pinned: bool
    not_backtrack_cause: bool
    not_direct: bool
    not_upper_bounded: bool
    candidate_count: int
    user_order: int
    identifier: str


def preference_key(
    identifier: Identifier,
    *,
    candidate_count: int,
    information: Iterable[RequirementInformation[Requirement, Candidate]],
    backtrack_causes: Sequence[RequirementInformation[Requirement, Candidate]],
    user_order: Mapping[Identifier, int],
) -> PreferenceKey:
    direct = False
    direct_pinned = False
    upper_bounded = False
    for requirement, parent in information:
        if not isinstance(requirement, PackageRequirement):
            continue
        if parent is None:
            direct = True
            direct_pinned = direct_pinned or requirement.pinned
        upper_bounded = upper_bounded or any(
            spec.operator in _UPPER_BOUNDING for spec in requirement.specifier
        )
    cause_identifiers = _identifiers_of(backtrack_causes)
    return PreferenceKey(
        not_python=identifier != PYTHON_IDENTIFIER,
        not_direct_pinned=not direct_pinned,
        not_backtrack_cause=identifier not in cause_identifiers,
        not_direct=not direct,
        not_upper_bounded=not upper_bounded,
        candidate_count=min(candidate_count, COUNT_CAP),
        user_order=user_order.get(identifier, len(user_order)),
        identifier=identifier,
    )


def _identifiers_of(
    causes: Sequence[RequirementInformation[Requirement, Candidate]],
) -> set[Any]:
    found: set[Any] = set()
    for requirement, parent in causes:
        found.add(requirement.identifier)
        if parent is not None:
            found.add(parent.identifier)
    return found
