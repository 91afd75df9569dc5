"""resolve() as the lock writer sees it: the Resolution it returns and the source calls it makes."""

from __future__ import annotations

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
import pytest

from envspec.errors import EXIT_USER
from envspec.resolve import ResolutionImpossible, resolve
from envspec.resolve.source import PackageNotFound
from envspec.spec.model import ResolutionOptions
from tests.support.memory_source import MemorySource, make_target
from tests.support.universe import universe_from_dict

UNIVERSE = universe_from_dict(
    "api",
    {
        "packages": {
            "App": {
                "1.0": {
                    "requires": ["lib[fast]>=1", "winonly; sys_platform == 'win32'"],
                    "requires-python": ">=3.9",
                }
            },
            "lib": {
                "1.0": {
                    "extras": {"fast": ["speed"]},
                    "wheels": ["cp311-cp311-win_amd64", "cp311-cp311-manylinux_2_17_x86_64"],
                    "sdist": True,
                },
                "2.0": {"extras": {"fast": ["speed"]}, "yanked": "oops"},
            },
            "speed": {"1.0": {}},
            "winonly": {"1.0": {}},
            "tool": {"1.0": {"requires": ["speed"]}},
            "old": {"1.0": {}, "2.0": {}, "3.0": {"requires-python": ">=3.13"}},
        }
    },
)
TARGET = make_target("3.11.7", "linux")


def _resolve(source: MemorySource, **kwargs: object):  # type: ignore[no-untyped-def]
    requirements = kwargs.pop(
        "requirements", {None: [Requirement("app")], "dev": [Requirement("tool")]}
    )
    return resolve(requirements, target=TARGET, source=source, **kwargs)  # type: ignore[arg-type]


def test_packages_carry_what_the_lock_records() -> None:
    resolution = _resolve(MemorySource(UNIVERSE))
    assert set(resolution.packages) == {"app", "lib", "speed", "tool"}
    app, lib = resolution.packages["app"], resolution.packages["lib"]
    assert app.requires_python == SpecifierSet(">=3.9")
    assert app.dependencies == {"lib"}  # the Windows-only dependency is not for this target
    assert lib.version == Version("1.0")  # 2.0 is yanked and not pinned
    assert lib.extras == {"fast"}
    assert lib.dependencies == {"speed"}  # the extra's requirements are folded in
    assert [f.filename for f in lib.files] == [
        "lib-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "lib-1.0-cp311-cp311-win_amd64.whl",  # every platform: one lock serves every machine
        "lib-1.0.tar.gz",
    ]
    assert lib.index_url == "https://example.test/simple"


def test_only_binary_keeps_the_sdist_out_of_the_lock() -> None:
    options = ResolutionOptions(only_binary=frozenset({":all:"}))
    lib = _resolve(MemorySource(UNIVERSE), options=options).packages["lib"]
    assert not any(f.filename.endswith(".tar.gz") for f in lib.files)


def test_roots_and_reachable_per_group() -> None:
    resolution = _resolve(MemorySource(UNIVERSE))
    assert resolution.roots == {None: {"app"}, "dev": {"tool"}}
    assert resolution.reachable(None) == {"app", "lib", "speed"}
    assert resolution.reachable("dev") == {"tool", "speed"}


def test_metadata_is_read_only_for_pinned_versions_and_prefetch_hints_are_sent() -> None:
    source = MemorySource(UNIVERSE)
    _resolve(source)
    assert sorted(source.metadata_calls) == sorted(
        [
            "app-1.0-py3-none-any.whl",
            "lib-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",  # the best file for the target
            "speed-1.0-py3-none-any.whl",
            "tool-1.0-py3-none-any.whl",
        ]
    )
    assert ("app", "tool") in source.prefetch_calls  # the spec's names, before anything else
    assert ("lib",) in source.prefetch_calls  # app's dependencies, once known
    assert "app-1.0-py3-none-any.whl" in {f for call in source.prefetch_metadata_calls for f in call}
    assert len(set(source.project_calls)) == len(source.project_calls), "each page fetched once"


def test_locked_version_kept_until_upgraded() -> None:
    requirements = {None: [Requirement("old")]}
    locked = {"old": Version("1.0")}
    kept = _resolve(MemorySource(UNIVERSE), requirements=requirements, locked=locked)
    assert kept.packages["old"].version == Version("1.0")
    freed = _resolve(
        MemorySource(UNIVERSE), requirements=requirements, locked=locked, upgrade={"old"}
    )
    assert freed.packages["old"].version == Version("2.0")  # 3.0 needs Python >=3.13


def test_unknown_project_is_package_not_found() -> None:
    with pytest.raises(PackageNotFound) as raised:
        _resolve(MemorySource(UNIVERSE), requirements={None: [Requirement("nope")]})
    assert raised.value.exit_code == EXIT_USER


def test_conflict_names_the_projects_and_the_python_mismatch() -> None:
    with pytest.raises(ResolutionImpossible) as raised:
        _resolve(MemorySource(UNIVERSE), requirements={None: [Requirement("old>=3")]})
    assert raised.value.conflicting_names == {"old"}
    assert "3.0 (requires Python >=3.13, but the target is Python 3.11.7)" in str(raised.value)
    assert raised.value.exit_code == EXIT_USER
