"""`envspec sync` end to end: real CLI, real loopback index, real venvs from pyenv interpreters."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import Project
from tests.support.fixtures import IndexServerFactory
from tests.support.pythons import require_python
from tests.support.universe import load_universe, merge_universes

pytestmark = pytest.mark.slow

python = require_python


def installed(project: Project) -> dict[str, str]:
    """What the venv's own interpreter sees installed (importlib.metadata), name → version."""
    venv_python = project.root / ".venv" / "bin" / "python"
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
    )
    done = subprocess.run([str(venv_python), "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def venv_version(project: Project) -> str:
    done = subprocess.run(
        [str(project.root / ".venv" / "bin" / "python"), "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def project(tmp_path: Path, index_server: IndexServerFactory) -> Project:
    server = index_server(merge_universes(load_universe("basic"), load_universe("conflict-lib")))
    return Project(tmp_path / "proj", server.url)


def sync_ok(project: Project, *args: str) -> str:
    done = project.envspec("sync", *args)
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_create_then_every_kind_of_change(project: Project, version: str) -> None:
    project.write_spec(f'python = "{version}"\nrequirements = ["lib-a<2", "greet"]\n')
    out = sync_ok(project)
    assert "Created" in out and "+3 −0 ~0 packages" in out
    assert "source " in out and ".venv/bin/activate" in out
    assert venv_version(project).startswith(version)
    assert installed(project) == {"lib-a": "1.0.0", "lib-b": "1.1.0", "greet": "1.1.0"}
    greet = subprocess.run([str(project.root / ".venv/bin/greet")], capture_output=True, text=True)
    assert greet.stdout.strip() == "greet 1.1.0"

    # add a requirement
    project.write_spec(f'python = "{version}"\nrequirements = ["lib-a<2", "greet", "app<2"]\n')
    out = sync_ok(project)
    assert "+ app 1.0.0" in out  # the lock changes are shown
    assert installed(project)["app"] == "1.0.0"

    # loosening the spec keeps what is locked (minimal churn); upgrading is asked for
    project.write_spec(f'python = "{version}"\nrequirements = ["lib-a", "greet", "app"]\n')
    sync_ok(project)
    assert installed(project)["lib-a"] == "1.0.0" and installed(project)["app"] == "1.0.0"
    assert project.envspec("lock", "--upgrade").returncode == 0
    out = sync_ok(project)
    assert "~2" in out
    assert installed(project)["lib-a"] == "2.0.0" and installed(project)["app"] == "2.0.0"

    # downgrade
    project.write_spec(f'python = "{version}"\nrequirements = ["lib-a<2", "greet", "lib-b==1.0.0"]\n')
    sync_ok(project)
    assert installed(project) == {"lib-a": "1.0.0", "lib-b": "1.0.0", "greet": "1.1.0"}

    # remove: nothing of the removed packages stays behind
    project.write_spec(f'python = "{version}"\nrequirements = ["lib-b==1.0.0"]\n')
    sync_ok(project)
    assert installed(project) == {"lib-b": "1.0.0"}
    site = next((project.root / ".venv/lib").glob("python3.*/site-packages"))
    leftovers = sorted(p.name for p in site.iterdir() if not p.name.startswith(("_", "lib_b")))
    assert leftovers == []
    assert not (project.root / ".venv/bin/greet").exists()


def test_nothing_to_do_is_answered_from_the_state(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["app"]\n')
    sync_ok(project)
    out = sync_ok(project)
    assert "nothing to do" in out
    # a reformatted spec is not a change either (the lock is still fresh)
    project.write_spec('python = "3.12"   # same\nrequirements = [ "App" ]\n')
    out = sync_ok(project)
    assert "+0 −0 ~0" in out or "nothing to do" in out
    assert installed(project) == {"app": "2.0.0", "lib-a": "2.0.0", "lib-b": "1.1.0"}


def test_extraneous_package_installed_by_hand_is_removed(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["lib-b"]\n')
    sync_ok(project)
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(project.root / ".venv/bin/python"),
         "install", "--no-deps", "--index-url", project.index_url, "pysocks==1.7.1"],
        capture_output=True, text=True,
    )
    assert pip.returncode == 0, pip.stderr
    assert "pysocks" in installed(project)
    out = sync_ok(project)
    assert "−1" in out
    assert installed(project) == {"lib-b": "1.1.0"}


def test_python_version_change_recreates_the_venv(project: Project) -> None:
    project.write_spec('python = "3.11"\nrequirements = ["app"]\n')
    sync_ok(project)
    assert venv_version(project).startswith("3.11")
    project.write_spec('python = "3.12"\nrequirements = ["app"]\n')
    out = sync_ok(project)
    assert "Created" in out
    assert venv_version(project).startswith("3.12")
    assert installed(project) == {"app": "2.0.0", "lib-a": "2.0.0", "lib-b": "1.1.0"}


def test_oldest_target_python_38(project: Project) -> None:
    explicit = python("3.8")
    project.write_spec('python = "3.8"\nrequirements = ["app", "http-client"]\n')
    out = sync_ok(project, "--python", str(explicit))
    assert venv_version(project).startswith("3.8")
    got = installed(project)
    assert got["app"] == "2.0.0" and got["compat"] == "1.0.0"  # compat: python_version < '3.11'
    del out


def test_an_explicit_other_python_is_never_nothing_to_do(project: Project) -> None:
    py311, py312 = python("3.11"), python("3.12")
    project.write_spec('python = ">=3.11,<3.13"\nrequirements = ["lib-b"]\n')
    out = sync_ok(project, "--python", str(py311))
    assert "with Python 3.11" in out and str(py311) in out  # which interpreter, said once
    assert venv_version(project).startswith("3.11")
    same = sync_ok(project, "--python", str(py311))
    assert "nothing to do" in same
    switched = sync_ok(project, "--python", str(py312))
    assert "nothing to do" not in switched and "Created" in switched
    assert venv_version(project).startswith("3.12")
    back = project.envspec("sync", env={"ENVSPEC_PYTHON": str(py311)})
    assert back.returncode == 0, back.stderr
    assert venv_version(project).startswith("3.11")
    assert installed(project) == {"lib-b": "1.1.0"}


def test_a_lock_for_another_machine_is_drift_under_locked_and_frozen(project: Project) -> None:
    py312 = python("3.12")
    project.write_spec('python = ">=3.11,<3.13"\nrequirements = ["lib-b"]\n')
    assert project.envspec("lock", "--python-version", "3.11").returncode == 0
    before = project.lock_text
    for flags in (("--locked",), ("--frozen",), ()):  # a plain sync never re-targets it either
        done = project.envspec("sync", *flags, "--python", str(py312))
        assert done.returncode == 1, (flags, done.stderr)
        assert "does not cover this machine: cpython 3.12" in done.stderr
        assert "CPython 3.11 on linux-x86_64" in done.stderr and "environments" in done.stderr
    assert project.lock_text == before
    assert not (project.root / ".venv").exists()


def test_groups_on_and_off(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["lib-b"]\n[groups]\ndev = ["app"]\ndocs = ["greet"]\n')
    sync_ok(project)
    assert installed(project) == {"lib-b": "1.1.0"}
    sync_ok(project, "--group", "dev")
    assert set(installed(project)) == {"lib-b", "app", "lib-a"}
    sync_ok(project, "--all-groups")
    assert set(installed(project)) == {"lib-b", "app", "lib-a", "greet"}
    sync_ok(project)
    assert installed(project) == {"lib-b": "1.1.0"}
    wrong = project.envspec("sync", "--group", "nope")
    assert wrong.returncode == 2 and "no group 'nope'" in wrong.stderr and "'dev'" in wrong.stderr


def test_two_projects_side_by_side_each_import_their_own_lib(
    tmp_path: Path, index_server: IndexServerFactory
) -> None:
    server = index_server("conflict-lib")
    versions = {}
    for app, pin in [("app-a", "lib==1.0.0"), ("app-b", "lib==2.0.0")]:
        project = Project(tmp_path / app, server.url)
        project.write_spec(f'python = "3.12"\nrequirements = ["{pin}"]\n')
        sync_ok(project)
        done = subprocess.run(
            [str(project.root / ".venv/bin/python"), "-c", "import lib; print(lib.__version__)"],
            capture_output=True, text=True, check=True,
        )
        versions[app] = done.stdout.strip()
    assert versions == {"app-a": "1.0.0", "app-b": "2.0.0"}


def test_dry_run_changes_nothing(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["app"]\n')
    done = project.envspec("sync", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "would create" in done.stdout and "+ app==2.0.0" in done.stdout
    assert not (project.root / ".venv").exists()


def test_locked_and_frozen(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["lib-b"]\n')
    sync_ok(project)
    project.write_spec('python = "3.12"\nrequirements = ["lib-b", "pysocks"]\n')
    stale = project.envspec("sync", "--locked")
    assert stale.returncode == 1 and "stale" in stale.stderr
    frozen = project.envspec("sync", "--frozen")
    assert frozen.returncode == 0, frozen.stderr
    assert installed(project) == {"lib-b": "1.1.0"}  # the lock as it is
    (project.root / "pylock.toml").unlink()
    missing = project.envspec("sync", "--frozen")
    assert missing.returncode == 2 and "--frozen needs one" in missing.stderr


def test_tampered_download_is_refused_and_nothing_installed(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["app"]\n')
    assert project.envspec("lock").returncode == 0
    text = project.lock_text
    start = text.index("lib_b-1.1.0-py3-none-any.whl")
    at = text.index('sha256 = "', start) + len('sha256 = "')
    real = text[at : at + 64]
    fake = ("0" if real[0] != "0" else "1") + real[1:]
    (project.root / "pylock.toml").write_text(text[:at] + fake + text[at + 64 :])
    done = project.envspec("sync", "--frozen")
    assert done.returncode == 3, done.stderr
    assert fake in done.stderr and real in done.stderr
    site = list((project.root / ".venv/lib").glob("python3.*/site-packages/*.dist-info"))
    assert site == []


def test_a_foreign_venv_directory_is_never_touched(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["app"]\n')
    (project.root / ".venv").mkdir()
    (project.root / ".venv" / "precious.txt").write_text("keep me")
    done = project.envspec("sync")
    assert done.returncode == 2
    assert "not a venv" in done.stderr.lower() or "pyvenv.cfg" in done.stderr
    assert sorted(p.name for p in (project.root / ".venv").iterdir()) == ["precious.txt"]


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
@pytest.mark.parametrize("delay", [0.05, 0.25, 0.45, 0.7])
def test_sync_killed_at_any_moment_is_repaired_by_the_next(project: Project, delay: float) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["app", "http-client[socks]", "greet", "speedups"]\n')
    assert project.envspec("lock").returncode == 0
    child = subprocess.Popen(
        [sys.executable, "-m", "envspec", "sync", "--frozen"], cwd=project.root,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    sync_ok(project, "--frozen")
    expected = {
        "app": "2.0.0", "lib-a": "2.0.0", "lib-b": "1.1.0", "http-client": "1.0.0",
        "base": "3.0.0", "pysocks": "1.7.1", "greet": "1.1.0", "speedups": "1.0.0",
    }
    assert installed(project) == expected
    assert "nothing to do" in sync_ok(project, "--frozen")


def test_two_concurrent_syncs(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["app", "greet"]\n')
    assert project.envspec("lock").returncode == 0
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "envspec", "sync", "--frozen"], cwd=project.root,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    results = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0, 0], results
    assert installed(project) == {"app": "2.0.0", "lib-a": "2.0.0", "lib-b": "1.1.0", "greet": "1.1.0"}


def test_run_syncs_then_runs_inside_the_venv(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["greet"]\n')
    done = project.envspec(
        "run", "--", "python", "-c",
        "import os, sys, greet; print(sys.prefix == os.environ['VIRTUAL_ENV'], greet.__version__)",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True 1.1.0"
    script = project.envspec("run", "--frozen", "--", "greet")
    assert script.returncode == 0 and script.stdout.strip() == "greet 1.1.0"
    failing = project.envspec("run", "--frozen", "--", "python", "-c", "raise SystemExit(7)")
    assert failing.returncode == 7
    missing = project.envspec("run", "--frozen", "--", "no-such-command-here")
    assert missing.returncode == 127 and "command not found" in missing.stderr
