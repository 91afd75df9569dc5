"""An empty lock round-trips and empties the venv; a lock cut short is never installed."""

from __future__ import annotations

from tests.e2e.test_sync_cli import installed, project, sync_ok
from tests.support.cli import Project

__all__ = ["project"]  # the fixture, shared with the sync tests


def test_removing_the_last_requirement_empties_the_venv(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["lib-b"]\n')
    sync_ok(project)
    assert installed(project) == {"lib-b": "1.1.0"}
    project.write_spec('python = "3.12"\nrequirements = []\n')
    sync_ok(project)
    assert "packages = []" in project.lock_text
    assert installed(project) == {}
    check = project.envspec("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert project.envspec("lock", "--check").returncode == 0


def test_a_lock_cut_at_a_package_boundary_is_stale_and_never_installed(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["app"]\n')
    assert project.envspec("lock").returncode == 0
    text = project.lock_text
    cut = text[: text.rindex("[[packages]]")] + text[text.index("[tool"):]
    (project.root / "pylock.toml").write_text(cut, encoding="utf-8")
    frozen = project.envspec("sync", "--frozen")
    assert frozen.returncode == 1 and "damaged" in frozen.stderr
    assert not list((project.root / ".venv").glob("lib/python3.*/site-packages/*.dist-info"))
    stale = project.envspec("lock", "--check")
    assert stale.returncode == 1 and "records" in stale.stderr
    relocked = project.envspec("lock")
    assert relocked.returncode == 0, relocked.stderr
    assert project.lock_text == text  # envspec lock repairs it


def test_a_non_utf8_lock_is_bad_input(project: Project) -> None:
    project.write_spec('python = "3.12"\nrequirements = ["app"]\n')
    (project.root / "pylock.toml").write_bytes(b'lock-version = "1.0"\n# \xff\n')
    done = project.envspec("sync", "--frozen")
    assert done.returncode == 2 and "not UTF-8" in done.stderr and "Traceback" not in done.stderr
