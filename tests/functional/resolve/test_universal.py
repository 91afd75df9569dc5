"""One resolution for every covered environment: correct per environment, shared where possible."""

from __future__ import annotations

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envspec.resolve import ResolutionImpossible, resolve
from envspec.resolve.universal import resolve_universal
from envspec.values.environments import covered_environments
from tests.support.memory_source import MemorySource
from tests.support.universe import load_universe

UNIVERSE = load_universe("universal")


def universal(requirements: list[str], python: str = ">=3.9,<3.14", **kwargs):  # type: ignore[no-untyped-def]
    environments = covered_environments(SpecifierSet(python), kwargs.pop("markers", ()))
    source = MemorySource(UNIVERSE)
    result = resolve_universal(
        {None: [Requirement(r) for r in requirements]},
        environments=environments,
        source=source,
        **kwargs,
    )
    return result, source


def test_versions_agree_everywhere_unless_something_forces_them_apart() -> None:
    result, _ = universal(["uapp"])
    assert [str(v) for v in result.versions("fastlib")] == ["2.0.0"]
    assert [str(v) for v in result.versions("newpy")] == ["1.0.0"]  # 2.0 would split on 3.12
    assert [str(v) for v in result.versions("nomac")] == ["1.0.0"]  # 2.0 has no Intel-mac wheel
    split = result.versions("splitlib")
    assert {str(v): sorted({i[:5] for i in ids}) for v, ids in split.items()} == {
        "1.5.0": ["cp310", "cp311", "cp39-"],
        "2.1.0": ["cp312", "cp313"],
    }


def test_each_environment_gets_what_a_resolver_for_it_alone_accepts() -> None:
    result, _ = universal(["uapp"])
    for environment in result.environments:
        packages = result.resolutions[environment.id].packages
        windows = environment.platform.sys_platform == "win32"
        assert ("colorama" in packages) == windows, environment.id
        assert ("tomli" in packages) == (environment.minor < (3, 11)), environment.id
        alone = resolve(
            {None: [Requirement(f"{name}=={package.version}") for name, package in packages.items()]},
            target=environment.target(),
            source=MemorySource(UNIVERSE),
        )
        assert {n: p.version for n, p in alone.packages.items()} == {
            n: p.version for n, p in packages.items()
        }


def test_environments_that_answer_alike_share_one_resolution_and_fetch_once() -> None:
    result, source = universal(["newpy", "nomac"])
    assert len(result.environments) == 28 and result.resolved <= 2  # the first has no preferences yet
    # nothing fetched more than once, however many environments
    assert len(source.metadata_calls) == len(set(source.metadata_calls))
    full, _ = universal(["uapp"])
    assert 1 < full.resolved < len(full.environments)


def test_the_lock_s_own_versions_are_kept_per_environment() -> None:
    result, _ = universal(["fastlib"], preferred=lambda e: {"fastlib": Version("1.0.0")})
    kept = result.versions("fastlib")
    assert sorted(str(v) for v in kept) == ["1.0.0", "2.0.0"]
    # 1.0.0 has no Windows-on-ARM wheel: there, and only there, the lock's version cannot stay
    assert {i.split("-", 1)[1] for i in kept[Version("2.0.0")]} == {"windows-arm64"}
    upgraded, _ = universal(["fastlib"], preferred=lambda e: {"fastlib": Version("1.0.0")}, upgrade=True)
    assert [str(v) for v in upgraded.versions("fastlib")] == ["2.0.0"]


def test_an_environment_without_a_solution_is_left_out_and_said_unless_required() -> None:
    result, _ = universal(["posixonly"])
    assert result.environments and all(
        e.platform.sys_platform != "win32" for e in result.environments
    )
    assert set(result.left_out) == {
        f"cp3{m}-windows-amd64" for m in (9, 10, 11, 12, 13)
    } | {f"cp3{m}-windows-arm64" for m in (11, 12, 13)}
    assert "posixonly" in result.left_out["cp312-windows-amd64"]
    assert "no wheel for this platform" in result.left_out["cp312-windows-amd64"]
    with pytest.raises(ResolutionImpossible) as caught:
        universal(["posixonly"], required=[Marker("sys_platform == 'win32'")])
    assert "on Windows" in caught.value.message and "cp3" in caught.value.message
    assert "environments" in (caught.value.hint or "")
    narrowed, _ = universal(["posixonly"], markers=[Marker("sys_platform != 'win32'")])
    assert all(e.platform.sys_platform != "win32" for e in narrowed.environments)
    assert not narrowed.left_out


def test_a_conflict_everywhere_is_an_error_not_an_empty_lock() -> None:
    with pytest.raises(ResolutionImpossible):
        universal(["splitlib==1.5.0", "newpy==2.0.0"])  # 1.5.0 needs <3.12, newpy 2 >=3.12
