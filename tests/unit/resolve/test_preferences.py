"""The preference key (envspec.resolve.preferences): which project the resolver pins first."""

from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from resolvelib.structs import RequirementInformation

from envspec.resolve.candidates import (
    PYTHON_IDENTIFIER,
    Candidate,
    PackageRequirement,
    Requirement,
)
from envspec.resolve.preferences import PreferenceKey, preference_key

Info = RequirementInformation[Requirement, Candidate]


def _key(
    identifier: str,
    specifier: str = "",
    *,
    root: bool = True,
    count: int = 3,
    causes: tuple[Info, ...] = (),
    order: dict[str, int] | None = None,
) -> PreferenceKey:
    requirement = PackageRequirement(
        name=canonicalize_name(identifier), specifier=SpecifierSet(specifier), root=root
    )
    parent = None if root else object()
    return preference_key(
        identifier,
        candidate_count=count,
        information=[RequirementInformation(requirement, parent)],  # type: ignore[arg-type]
        backtrack_causes=causes,
        user_order=order or {},
    )


def _first(*keys: PreferenceKey) -> str:
    return min(keys).identifier


def test_python_first_then_direct_pins() -> None:
    python = preference_key(
        PYTHON_IDENTIFIER, candidate_count=0, information=[], backtrack_causes=(), user_order={}
    )
    assert _first(_key("a", "==1.0"), python) == PYTHON_IDENTIFIER
    assert _first(_key("a"), _key("b", "==1.0")) == "b"


def test_backtrack_causes_before_other_direct_requirements() -> None:
    cause = RequirementInformation(
        PackageRequirement(name=canonicalize_name("b")), None
    )
    assert _first(_key("a"), _key("b", causes=(cause,))) == "b"


def test_direct_before_transitive_and_bounded_before_open() -> None:
    assert _first(_key("a", root=False), _key("b")) == "b"
    assert _first(_key("a", ">=1"), _key("b", "<2")) == "b"


def test_fewest_candidates_then_user_order_then_name() -> None:
    assert _first(_key("a", count=5), _key("b", count=1)) == "b"
    order = {"b": 0, "a": 1}
    assert _first(_key("a", order=order), _key("b", order=order)) == "b"
    assert _first(_key("b"), _key("a")) == "a"
