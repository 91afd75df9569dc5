"""The real path end to end: sync a small real spec from PyPI into a real venv and use it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.cli import run_envspec

pytestmark = pytest.mark.network


def test_sync_a_real_spec_and_import_its_packages(tmp_path: Path) -> None:
    (tmp_path / "envspec.toml").write_text(
        'python = ">=3.11,<3.13"\nrequirements = ["rich>=13", "click>=8.1"]\n'
    )
    done = run_envspec("sync", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    python = tmp_path / ".venv" / "bin" / "python"
    imported = subprocess.run(
        [str(python), "-c", "import rich, click, pygments; print(rich.__file__)"],
        capture_output=True, text=True,
    )
    assert imported.returncode == 0, imported.stderr
    assert str(tmp_path / ".venv") in imported.stdout
    check = run_envspec("lock", "--check", cwd=tmp_path)
    assert check.returncode == 0
    again = run_envspec("sync", cwd=tmp_path)
    assert again.returncode == 0 and "nothing to do" in again.stderr
