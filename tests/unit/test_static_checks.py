"""The package type-checks under mypy --strict and lints clean: checked on every test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True)


def test_mypy_strict() -> None:
    pytest.importorskip("mypy")
    done = run("mypy", "--no-incremental", "--cache-dir", "/dev/null")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff() -> None:
    pytest.importorskip("ruff")
    done = run("ruff", "check", "--no-cache", "envspec", "tests")
    assert done.returncode == 0, done.stdout + done.stderr
