"""`envspec lock` end to end: real CLI, real loopback index, real interpreters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import Project
from tests.support.fixtures import IndexServerFactory
from tests.support.universe import load_universe, merge_universes, universe_from_dict

pytestmark = pytest.mark.slow

SPEC = """\
python = ">=3.11,<3.13"
requirements = ["app", "http-client[socks]"]
[groups]
dev = ["top"]
"""


@pytest.fixture
def project(tmp_path: Path, index_server: IndexServerFactory) -> Project:
    server = index_server("basic")
    proj = Project(tmp_path / "proj", server.url)
    proj.server = server  # type: ignore[attr-defined]
    proj.write_spec(SPEC)
    return proj


def test_lock_writes_a_lock_then_a_fresh_lock_is_left_alone(project: Project) -> None:
    done = project.envspec("lock")
    assert done.returncode == 0, done.stderr
    assert "Resolved 9 packages" in done.stderr
    assert "+ app 2.0.0" in done.stderr
    first = project.lock_text
    assert project.locked()["app"] == "2.0.0"
    assert project.locked()["top"] == "1.0.0"  # the dev group is in the same lock

    project.server.log.clear()  # type: ignore[attr-defined]
    again = project.envspec("lock")
    assert again.returncode == 0
    assert "fresh" in again.stderr
    assert project.lock_text == first
    assert project.server.log.records() == []  # type: ignore[attr-defined]  # no network at all

    check = project.envspec("lock", "--check")
    assert check.returncode == 0, check.stderr


def test_reformatting_the_spec_keeps_the_lock_fresh(project: Project) -> None:
    assert project.envspec("lock").returncode == 0
    project.write_spec(
        "# reordered, re-spelled, commented\n"
        "requirements = [ 'HTTP_Client[SOCKS]' , 'App' ]\n"
        "python = '<3.13, >=3.11'\n"
        "[groups]\nDev = ['top']   # same group\n"
    )
    assert project.envspec("lock", "--check").returncode == 0


def test_lock_check_says_what_changed_and_writes_nothing(project: Project) -> None:
    assert project.envspec("lock").returncode == 0
    before = project.lock_text
    project.write_spec(SPEC.replace('"app"', '"app<2"'))
    done = project.envspec("lock", "--check")
    assert done.returncode == 1
    assert "stale" in done.stderr
    assert "added 'app<2'" in done.stderr and "removed 'app'" in done.stderr
    assert "envspec lock" in done.stderr
    assert project.lock_text == before


def test_lock_check_without_a_lock_exits_1(project: Project) -> None:
    done = project.envspec("lock", "--check")
    assert done.returncode == 1
    assert "no pylock.toml" in done.stderr.lower()
    assert not (project.root / "pylock.toml").exists()


def test_relock_is_minimal_churn_and_upgrades_on_request(
    tmp_path: Path, index_server: IndexServerFactory
) -> None:
    old = index_server("basic")
    proj = Project(tmp_path / "proj", old.url)
    proj.write_spec('python = ">=3.11,<3.13"\nrequirements = ["lib-a"]\n')
    assert proj.envspec("lock").returncode == 0
    assert proj.locked() == {"lib-a": "2.0.0", "lib-b": "1.1.0"}

    # The index gains newer releases; the spec gains a requirement.
    newer = universe_from_dict(
        "newer",
        {"packages": {"lib-b": {"1.2.0": {}}, "lib-a": {"2.1.0": {"requires": ["lib-b>=1.1"]}}}},
    )
    new = index_server(merge_universes(load_universe("basic"), newer))
    proj.write_spec('python = ">=3.11,<3.13"\nrequirements = ["lib-a", "app"]\n', index_url=new.url)
    assert proj.envspec("lock").returncode == 0
    assert proj.locked() == {"lib-a": "2.0.0", "lib-b": "1.1.0", "app": "2.0.0"}

    done = proj.envspec("lock", "--upgrade-package", "lib-b")
    assert done.returncode == 0, done.stderr
    assert "~ lib-b 1.1.0 -> 1.2.0" in done.stderr
    assert proj.locked()["lib-a"] == "2.0.0"

    assert proj.envspec("lock", "--upgrade").returncode == 0
    assert proj.locked() == {"lib-a": "2.1.0", "lib-b": "1.2.0", "app": "2.0.0"}


def test_unsatisfiable_spec_explains_and_exits_2(project: Project) -> None:
    project.write_spec('python = ">=3.11,<3.13"\nrequirements = ["left", "base>=3"]\n')
    done = project.envspec("lock")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "base>=3" in done.stderr and "left 1.0.0 requires base" in done.stderr
    assert not (project.root / "pylock.toml").exists()


def test_unknown_package_exits_2(project: Project) -> None:
    project.write_spec('python = ">=3.11,<3.13"\nrequirements = ["no-such-thing"]\n')
    done = project.envspec("lock")
    assert done.returncode == 2
    assert "no-such-thing" in done.stderr


def test_index_down_exits_3_naming_the_url(tmp_path: Path) -> None:
    proj = Project(tmp_path / "proj", "http://127.0.0.1:9/simple")
    proj.write_spec('python = ">=3.11,<3.13"\nrequirements = ["app"]\n')
    done = proj.envspec("lock")
    assert done.returncode == 3, done.stderr
    assert "127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


def test_offline_lock_from_the_cache(project: Project) -> None:
    assert project.envspec("lock").returncode == 0
    first = project.lock_text
    (project.root / "pylock.toml").unlink()
    project.server.stop()  # type: ignore[attr-defined]
    done = project.envspec("lock", "--offline")
    assert done.returncode == 0, done.stderr
    assert project.lock_text == first

    project.write_spec(SPEC.replace('"app"', '"app", "greet"'))
    missing = project.envspec("lock", "--offline")
    assert missing.returncode == 3
    assert "greet" in missing.stderr and "offline" in missing.stderr.lower()


def test_lock_for_one_environment_that_is_not_this_machine(project: Project) -> None:
    done = project.envspec("lock", "--python-version", "3.11", "--python-platform", "windows")
    assert done.returncode == 0, done.stderr
    text = project.lock_text
    assert 'sys_platform == "win32" and platform_machine == "AMD64" and python_version == "3.11"' in text
    assert 'requested-environment = "cp311-windows-amd64"' in text
    # it stays a lock of that one environment: fresh, and a plain lock keeps it
    assert project.envspec("lock", "--check").returncode == 0
    again = project.envspec("lock")
    assert again.returncode == 0 and project.lock_text == text
    # until asked for every environment again
    assert project.envspec("lock", "--universal").returncode == 0
    assert "requested-environment" not in project.lock_text
    bad = project.envspec("lock", "--python-platform", "solaris")
    assert bad.returncode == 2 and "windows-arm64" in bad.stderr
