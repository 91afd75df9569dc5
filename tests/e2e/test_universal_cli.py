"""One lock for the whole team (issue 14): made once, installed as it is by every covered
interpreter, by envspec and by uv, never rewritten because a machine differs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import Project
from tests.support.fixtures import IndexServerFactory
from tests.support.pythons import pyenv_python

pytestmark = pytest.mark.slow

SPEC = 'python = ">=3.9,<3.14"\nrequirements = ["uapp"]\n[groups]\ndev = ["tomli"]\n'


def installed(venv: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


def expected_for(minor: tuple[int, int]) -> dict[str, str]:
    found = {"uapp": "1.0.0", "fastlib": "2.0.0", "newpy": "1.0.0", "nomac": "1.0.0"}
    found["splitlib"] = "2.1.0" if minor >= (3, 12) else "1.5.0"
    if minor < (3, 11):
        found["tomli"] = "2.0.1"
    return found


@pytest.fixture
def team(tmp_path: Path, index_server: IndexServerFactory) -> Project:
    project = Project(tmp_path / "team", index_server("universal").url)
    project.write_spec(SPEC)
    return project


def pythons() -> list[tuple[tuple[int, int], Path]]:
    found = []
    for minor in (9, 10, 11, 12, 13):
        path = pyenv_python(f"3.{minor}")
        if path is not None:
            found.append(((3, minor), path))
    if len(found) < 2:
        pytest.skip("needs at least two of pyenv's CPython 3.9-3.13")
    return found


def test_one_lock_serves_every_interpreter_and_is_never_rewritten(team: Project) -> None:
    locked = team.envspec("lock")
    assert locked.returncode == 0, locked.stderr
    assert "environments" in locked.stderr  # "Resolved 7 packages for 28 environments (...)"
    before = team.lock_text
    for minor, python in pythons():
        done = team.envspec("sync", "--python", str(python))
        assert done.returncode == 0, (minor, done.stderr)
        assert installed(team.root / ".venv") == expected_for(minor), minor
        assert team.lock_text == before, f"sync with {minor} rewrote the lock"
        assert team.envspec("check").returncode == 0
        assert team.envspec("sync", "--locked", "--python", str(python)).returncode == 0
        assert team.envspec("lock", "--check").returncode == 0
    # the dev group: tomli everywhere it is asked for
    dev = team.envspec("sync", "--group", "dev", "--python", str(pythons()[-1][1]))
    assert dev.returncode == 0, dev.stderr
    assert "tomli" in installed(team.root / ".venv")
    assert team.lock_text == before


def test_lock_v_says_why_a_package_forked(team: Project) -> None:
    done = team.envspec("lock", "-v")
    assert done.returncode == 0, done.stderr
    assert "split: splitlib: 1.5.0 where python_version < '3.12'; 2.1.0 where" in done.stderr


def test_uv_installs_the_universal_lock_on_old_and_new_pythons(tmp_path: Path, team: Project) -> None:
    uv = pytest.importorskip("uv")
    assert team.envspec("lock").returncode == 0
    chosen = pythons()
    for minor, python in (chosen[0], chosen[-1]):
        venv = tmp_path / f"venv{minor[1]}"
        subprocess.run([str(python), "-m", "venv", "--without-pip", str(venv)], check=True)
        synced = subprocess.run(
            [uv.find_uv_bin(), "pip", "sync", "--python", str(venv / "bin" / "python"), "pylock.toml"],
            cwd=team.root, capture_output=True, text=True,
            env={"UV_CACHE_DIR": str(tmp_path / "uv-cache"), "PATH": "/usr/bin:/bin",
                 "NO_PROXY": "127.0.0.1"},
        )
        assert synced.returncode == 0, synced.stderr
        assert installed(venv) == expected_for(minor)


def test_a_narrowed_lock_refuses_a_machine_it_does_not_cover(team: Project) -> None:
    team.write_spec(SPEC.replace('requirements', 'environments = ["sys_platform == \'win32\'"]\nrequirements'))
    assert team.envspec("lock").returncode == 0
    assert "linux" not in team.lock_text.split("[[packages]]")[0]
    done = team.envspec("sync")
    assert done.returncode == 1
    assert "does not cover this machine" in done.stderr and "windows-amd64" in done.stderr


def test_a_python_version_request_and_python_version_file(team: Project) -> None:
    chosen = pythons()
    (minor_old, _), (minor_new, _) = chosen[0], chosen[-1]
    old, new = f"{minor_old[0]}.{minor_old[1]}", f"{minor_new[0]}.{minor_new[1]}"
    assert team.envspec("sync", "--python", old).returncode == 0
    assert installed(team.root / ".venv") == expected_for(minor_old)
    (team.root / ".python-version").write_text(f"{new}\n")
    done = team.envspec("sync")
    assert done.returncode == 0 and f"with Python {new}" in done.stderr, done.stderr
    assert installed(team.root / ".venv") == expected_for(minor_new)
    assert "nothing to do" in team.envspec("sync").stderr
    refused = team.envspec("sync", "--python", "3.8")
    assert refused.returncode == 2 and "does not allow" in refused.stderr


def test_environments_without_a_solution_are_left_out_said_and_stay_fresh(team: Project) -> None:
    team.write_spec('python = ">=3.11,<3.13"\nrequirements = ["posixonly"]\n')
    done = team.envspec("lock")
    assert done.returncode == 0, done.stderr
    assert "Not covered" in done.stderr and "cp311-windows-amd64: " in done.stderr
    assert "windows" not in team.lock_text.split("[[packages]]")[0].lower()
    assert team.envspec("lock", "--check").returncode == 0  # left out is not stale
    assert team.envspec("sync").returncode == 0
    team.write_spec(
        'python = ">=3.11,<3.13"\nrequired-environments = ["sys_platform == \'win32\'"]\n'
        'requirements = ["posixonly"]\n'
    )
    required = team.envspec("lock")
    assert required.returncode == 2 and "on Windows" in required.stderr
