"""Files envspec writes for the user: the umask's mode (an existing file keeps its own), and a
write killed at any moment leaves nothing that ``git add -A`` would pick up; the next command
removes the leftovers."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from envspec.fsutil import (
    TEMP_DIR_PREFIX,
    atomic_copy,
    atomic_write_bytes,
    clean_stale_temp,
    write_user_file,
)
from envspec.commands.project import find_spec


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask")
def test_new_files_get_the_umask_mode(tmp_path: Path) -> None:
    write_user_file(tmp_path / "pylock.toml", "x = 1\n")
    atomic_write_bytes(tmp_path / "state.json", b"{}")
    atomic_copy(tmp_path / "state.json", tmp_path / "copy.json")
    assert _mode(tmp_path / "pylock.toml") == 0o644
    assert _mode(tmp_path / "state.json") == 0o644
    assert _mode(tmp_path / "copy.json") == 0o644
    os.umask(0o077)
    write_user_file(tmp_path / "private.toml", b"x = 1\n")
    assert _mode(tmp_path / "private.toml") == 0o600


@pytest.mark.usefixtures("umask")
def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "envspec.toml"
    target.write_text("old\n")
    target.chmod(0o664)
    write_user_file(target, "new\n")
    assert target.read_text() == "new\n" and _mode(target) == 0o664


def test_nothing_is_left_after_a_write(tmp_path: Path) -> None:
    write_user_file(tmp_path / "pylock.toml", "x = 1\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pylock.toml"]


def test_export_to_a_device_writes_through_it(tmp_path: Path) -> None:
    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null here")
    write_user_file(Path("/dev/null"), "x\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


_KILLED_WRITE = """
import os, sys
from pathlib import Path
import envspec.fsutil as fsutil
def killed(*args):
    os._exit(9)  # as SIGKILL: no finally, no clean-up
fsutil.os.replace = killed
fsutil.write_user_file(Path(sys.argv[1]) / "pylock.toml", "x = 1\\n" * 1000)
"""


def test_a_killed_write_leaves_nothing_git_would_add_and_the_next_command_cleans_up(
    tmp_path: Path,
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "envspec.toml").write_text('python = ">=3.8"\nrequirements = []\n')
    git = shutil.which("git")
    if git is not None:
        subprocess.run([git, "init", "-q", str(project)], check=True)
    killed = subprocess.run([sys.executable, "-c", _KILLED_WRITE, str(project)])
    assert killed.returncode == 9
    leftovers = [p for p in project.iterdir() if p.name.startswith(TEMP_DIR_PREFIX)]
    assert len(leftovers) == 1 and any(leftovers[0].iterdir())  # the half-done write is there
    assert not (project / "pylock.toml").exists()
    if git is not None:
        status = subprocess.run(
            [git, "-C", str(project), "status", "--porcelain", "--untracked-files=all"],
            capture_output=True, text=True, check=True,
        )
        assert status.stdout.splitlines() == ["?? envspec.toml"]
    find_spec(project)  # what every command does first
    assert sorted(p.name for p in project.iterdir() if p.name != ".git") == ["envspec.toml"]


def test_a_live_writers_directory_and_fresh_old_style_temps_are_kept(tmp_path: Path) -> None:
    live = tmp_path / f"{TEMP_DIR_PREFIX}{os.getppid()}-abc"
    live.mkdir()
    fresh = tmp_path / ".pylock.toml.abcd1234.tmp"
    fresh.write_text("")
    stale = tmp_path / ".envspec.toml.zz99yy88.tmp"
    stale.write_text("")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    unrelated = tmp_path / ".pylock.toml.notours"
    unrelated.write_text("")
    removed = clean_stale_temp(tmp_path)
    assert removed == [stale]
    assert live.exists() and fresh.exists() and unrelated.exists()
