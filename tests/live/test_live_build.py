"""The real path of building from source: an sdist-only package from PyPI (docopt publishes no
wheel) locks, builds with setuptools fetched from PyPI into its isolated build environment, syncs
and imports; the second sync takes the wheel from the built-wheel cache."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.cli import run_envspec

pytestmark = pytest.mark.network


def test_an_sdist_only_package_locks_builds_syncs_and_imports(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    project = tmp_path / "project"
    project.mkdir()
    (project / "envspec.toml").write_text(
        'python = ">=3.11,<3.13"\nrequirements = ["docopt==0.6.2"]\n'
    )
    done = run_envspec("--cache-dir", str(cache), "sync", cwd=project, timeout=300)
    assert done.returncode == 0, done.stderr
    lock = (project / "pylock.toml").read_text()
    assert 'name = "docopt"' in lock and "docopt-0.6.2.tar.gz" in lock
    assert "wheels" not in lock.split('name = "docopt"')[1].split("[[packages]]")[0]
    python = project / ".venv" / "bin" / "python"
    imported = subprocess.run(
        [str(python), "-c", "import docopt; print(docopt.__version__, docopt.__file__)"],
        capture_output=True, text=True,
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("0.6.2 ") and str(project / ".venv") in imported.stdout
    built = list((cache / "built-v1").rglob("docopt-0.6.2-*.whl"))
    assert len(built) == 1, built

    # a second venv of the same target builds nothing: the cached wheel is installed
    second = tmp_path / "second"
    second.mkdir()
    (second / "envspec.toml").write_text((project / "envspec.toml").read_text())
    (second / "pylock.toml").write_text(lock)
    again = run_envspec("--cache-dir", str(cache), "sync", "--frozen", cwd=second, timeout=300)
    assert again.returncode == 0, again.stderr
    assert list((cache / "built-v1").rglob("docopt-0.6.2-*.whl")) == built
    check = run_envspec("check", cwd=second)
    assert check.returncode == 0, check.stdout + check.stderr
