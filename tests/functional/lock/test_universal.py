"""The universal lock: one PEP 751 file whose selection is right in every covered environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.pylock import PylockSelectError
from packaging.requirements import Requirement

from envspec.lock import text as lockfile
from envspec.lock.model import LockInputs
from envspec.lock.freshness import selected_versions as preferred_versions
from envspec.lock.universal import build_universal_lock
from envspec.resolve.universal import resolve_universal
from envspec.spec.load import parse_spec
from envspec.values.environments import Environment, covered_environments
from tests.support.memory_source import MemorySource
from tests.support.universe import load_universe

SPEC = 'python = ">=3.9,<3.14"\nrequirements = ["uapp"]\n[groups]\ndev = ["posixonly; sys_platform != \'win32\'"]\n'


def universal_lock(spec_text: str = SPEC) -> tuple[str, list[Environment]]:
    spec = parse_spec(spec_text, path=Path("/p/envspec.toml"))
    covered = covered_environments(spec.python)
    requirements: dict[str | None, list[Requirement]] = {None: list(spec.requirements)}
    requirements.update({str(k): list(v) for k, v in spec.groups.items()})
    universal = resolve_universal(
        requirements, environments=covered, source=MemorySource(load_universe("universal"))
    )
    lock = build_universal_lock(universal, LockInputs.from_spec(spec))
    lock.validate()
    return lockfile.dumps(lock), covered


def selected(text: str, environment: Environment, groups: tuple[str, ...] = ()) -> dict[str, str]:
    lock = lockfile.loads(text)
    chosen = lock.select(
        environment=environment.markers,  # type: ignore[arg-type]
        tags=environment.tags,
        dependency_groups=groups,
    )
    return {package.name: str(package.version) for package, _ in chosen}


def test_every_covered_environment_selects_a_complete_consistent_set() -> None:
    text, covered = universal_lock()
    assert len(covered) == 28
    for environment in covered:
        got = selected(text, environment)
        expected = {"uapp", "fastlib", "newpy", "splitlib", "nomac"}
        if environment.platform.sys_platform == "win32":
            expected.add("colorama")
        if environment.minor < (3, 11):
            expected.add("tomli")
        assert set(got) == expected, environment.id
        assert got["splitlib"] == ("2.1.0" if environment.minor >= (3, 12) else "1.5.0")
        assert got["fastlib"] == "2.0.0" and got["nomac"] == "1.0.0"


def test_markers_are_short_and_say_where_a_package_applies() -> None:
    text, _ = universal_lock()
    lock = lockfile.loads(text)
    markers = {(p.name, str(p.version)): str(p.marker) if p.marker else None for p in lock.packages}
    assert markers[("colorama", "0.4.6")] == 'sys_platform == "win32"'
    assert markers[("tomli", "2.0.1")] == 'python_version < "3.11"'
    assert markers[("splitlib", "1.5.0")] == 'python_version < "3.12"'
    assert markers[("splitlib", "2.1.0")] == 'python_version >= "3.12"'
    assert markers[("fastlib", "2.0.0")] is None
    assert markers[("posixonly", "1.0.0")] == "'dev' in dependency_groups and sys_platform != \"win32\"".replace("'dev'", '"dev"')


def test_a_group_is_selected_only_with_the_group_and_only_where_it_applies() -> None:
    text, covered = universal_lock()
    mac = next(e for e in covered if e.id == "cp312-macos-arm64")
    windows = next(e for e in covered if e.id == "cp312-windows-amd64")
    assert "posixonly" not in selected(text, mac)
    assert "posixonly" in selected(text, mac, ("dev",))
    assert "posixonly" not in selected(text, windows, ("dev",))


def test_the_lock_refuses_what_it_does_not_cover() -> None:
    text, covered = universal_lock('python = ">=3.11,<3.13"\nrequirements = ["newpy"]\n')
    outside = Environment(covered[0].platform, __import__("packaging.version").version.Version("3.13.0"))
    with pytest.raises(PylockSelectError):
        selected(text, outside)
    rows = [str(m) for m in lockfile.loads(text).environments or []]
    assert any('python_version >= "3.11" and python_version < "3.13"' in row for row in rows)


def test_preferences_for_a_relock_are_per_environment() -> None:
    text, covered = universal_lock()
    lock = lockfile.loads(text)
    old = next(e for e in covered if e.minor == (3, 10))
    new = next(e for e in covered if e.minor == (3, 13))
    assert str(preferred_versions(lock, old)["splitlib"]) == "1.5.0"
    assert str(preferred_versions(lock, new)["splitlib"]) == "2.1.0"


def test_the_same_inputs_give_the_same_bytes() -> None:
    assert universal_lock()[0] == universal_lock()[0]


def test_tree_why_and_export_show_where_each_package_applies() -> None:
    from envspec.lock.export import to_requirements_txt
    from envspec.lock.graph import LockGraph, render_tree, render_why

    text, _ = universal_lock()
    lock = lockfile.loads(text)
    tree = render_tree(LockGraph.from_lock(lock))
    assert "├── colorama 0.4.6 (marker: sys_platform == 'win32')" in tree
    assert any(
        line.endswith("splitlib 1.5.0 | 2.1.0 (marker: 1.5.0 where python_version < '3.12'; "
                      "2.1.0 where python_version >= '3.12')")
        for line in tree
    )
    why = render_why(LockGraph.from_lock(lock), "splitlib")
    assert "uapp 1.0.0 → splitlib 1.5.0 | 2.1.0" in why[-1]
    exported = to_requirements_txt(lock, groups=["dev"])
    assert "splitlib==1.5.0 ; python_version < '3.12' \\" in exported
    assert "splitlib==2.1.0 ; python_version >= '3.12' \\" in exported
    assert "posixonly==1.0.0 ; sys_platform != 'win32' \\" in exported
    assert "posixonly" not in to_requirements_txt(lock)  # the base alone
