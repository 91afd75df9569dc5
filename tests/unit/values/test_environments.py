"""Covered environments are described without an interpreter, and never take the host's values."""

from __future__ import annotations

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.tags import sys_tags
from packaging.version import Version

from envspec.values.environments import (
    PLATFORMS,
    Environment,
    covered_environments,
    environment_for_markers,
)

LINUX, _, MAC_INTEL, MAC_ARM, WINDOWS, WINDOWS_ARM = PLATFORMS


def test_every_minor_the_spec_allows_on_every_platform_that_ships_it() -> None:
    found = covered_environments(SpecifierSet(">=3.10,<3.13"))
    assert [e.id for e in found] == [
        "cp310-linux-x86_64", "cp310-linux-aarch64", "cp310-macos-x86_64", "cp310-macos-arm64",
        "cp310-windows-amd64",  # no Windows-on-ARM build of 3.10
        "cp311-linux-x86_64", "cp311-linux-aarch64", "cp311-macos-x86_64", "cp311-macos-arm64",
        "cp311-windows-amd64", "cp311-windows-arm64",
        "cp312-linux-x86_64", "cp312-linux-aarch64", "cp312-macos-x86_64", "cp312-macos-arm64",
        "cp312-windows-amd64", "cp312-windows-arm64",
    ]


def test_the_spec_environments_narrow_the_coverage() -> None:
    markers = [Marker("sys_platform == 'linux'"), Marker("sys_platform == 'darwin' and platform_machine == 'arm64'")]
    found = covered_environments(SpecifierSet("==3.12.*"), markers)
    assert [e.id for e in found] == ["cp312-linux-x86_64", "cp312-linux-aarch64", "cp312-macos-arm64"]


def test_the_representative_version_is_the_lowest_micro_the_spec_allows() -> None:
    found = covered_environments(SpecifierSet(">=3.8.1,<3.9"))
    assert {str(e.python) for e in found} == {"3.8.1"}
    assert found[0].markers["python_full_version"] == "3.8.1"


def test_windows_markers_are_windows_whatever_the_host() -> None:
    windows = Environment(WINDOWS, Version("3.12.0"))
    assert len(windows.markers) == 11  # Marker.evaluate would fill a missing key from the host
    assert Marker("os_name == 'nt' and platform_machine == 'AMD64'").evaluate(windows.markers)
    assert Marker("sys_platform == 'win32'").evaluate(windows.markers)
    assert [str(t) for t in windows.tags][:2] == ["cp312-cp312-win_amd64", "cp312-abi3-win_amd64"]
    assert all("linux" not in str(t) and "macosx" not in str(t) for t in windows.tags)


def test_mac_arm_accepts_universal2_and_never_intel_only_wheels() -> None:
    tags = {str(t) for t in Environment(MAC_ARM, Version("3.12.0")).tags}
    assert "cp312-cp312-macosx_11_0_arm64" in tags
    assert "cp312-cp312-macosx_10_9_universal2" in tags
    assert not any(t.endswith("_x86_64") for t in tags)


def test_the_abi_is_the_minor_s_never_the_host_interpreter_s() -> None:
    tags = Environment(LINUX, Version("3.9.0")).tags
    assert str(tags[0]) == "cp39-cp39-linux_x86_64"
    assert {t.abi for t in tags} <= {"cp39", "abi3", "none"}


@pytest.mark.skipif(
    not str(next(iter(sys_tags()))).endswith("linux_x86_64"), reason="compares with an x86-64 Linux host"
)
def test_a_linux_host_s_own_tags_are_an_ordered_part_of_its_environment_s() -> None:
    import sys

    host = [str(t) for t in sys_tags()]
    environment = Environment(LINUX, Version("%d.%d.0" % sys.version_info[:2]))
    position = {str(t): i for i, t in enumerate(environment.tags)}
    assert all(t in position for t in host)
    indexes = [position[t] for t in host]
    assert indexes == sorted(indexes)


def test_a_real_machine_falls_into_its_covered_environment_or_none() -> None:
    covered = covered_environments(SpecifierSet(">=3.11,<3.13"))
    probed = {"sys_platform": "linux", "platform_machine": "x86_64", "python_version": "3.12",
              "implementation_name": "cpython"}
    found = environment_for_markers(covered, probed)
    assert found is not None and found.id == "cp312-linux-x86_64"
    assert environment_for_markers(covered, {**probed, "python_version": "3.13"}) is None
    assert environment_for_markers(covered, {**probed, "implementation_name": "pypy"}) is None
