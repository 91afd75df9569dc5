"""Interoperability: another PEP 751 installer (uv) installs the lock envspec writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.cli import Project
from tests.support.fixtures import IndexServerFactory
from tests.support.pythons import require_python

pytestmark = pytest.mark.slow



def test_uv_pip_sync_installs_an_envspec_lock(tmp_path: Path, index_server: IndexServerFactory) -> None:
    uv = pytest.importorskip("uv")
    python = require_python("3.12")
    server = index_server("basic")
    project = Project(tmp_path / "proj", server.url)
    project.write_spec(
        'python = "3.12"\nrequirements = ["app", "http-client[socks]", "speedups"]\n'
        '[groups]\ndev = ["top"]\n'
    )
    done = project.envspec("lock")
    assert done.returncode == 0, done.stderr

    venv = tmp_path / "venv"
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(venv)], check=True)
    synced = subprocess.run(
        [uv.find_uv_bin(), "pip", "sync", "--python", str(venv / "bin" / "python"), "pylock.toml"],
        cwd=project.root, capture_output=True, text=True,
        env={"UV_CACHE_DIR": str(tmp_path / "uv-cache"), "PATH": "/usr/bin:/bin",
             "NO_PROXY": "127.0.0.1"},
    )
    assert synced.returncode == 0, synced.stderr
    # uv selected the base environment (no dev group) from the lock's markers
    for name in ["app==2.0.0", "base==2.1.0", "pysocks==1.7.1", "speedups==1.0.0"]:
        assert name in synced.stderr
    assert "top" not in synced.stderr and "left" not in synced.stderr
    built_from = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import speedups; print(speedups.__built_from__)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert built_from.startswith("cp312-cp312-manylinux")
