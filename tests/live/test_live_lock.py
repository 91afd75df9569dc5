"""The real path: lock a small real spec against the live PyPI (run by .ci/run)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.support.cli import run_envspec

pytestmark = pytest.mark.network

REQUIREMENTS = ["rich>=13", "click>=8.1", "requests[socks]>=2.31", "packaging; python_version >= '3.8'"]


def test_lock_a_real_spec_against_pypi(tmp_path: Path) -> None:
    body = ",\n".join(f"  {r!r}" for r in REQUIREMENTS)
    (tmp_path / "envspec.toml").write_text(
        f'python = ">=3.11,<3.13"\nrequirements = [\n{body},\n]\n[groups]\ndev = ["pytest>=8"]\n'
    )
    done = run_envspec("lock", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    lock = tomllib.loads((tmp_path / "pylock.toml").read_text())
    packages = {p["name"]: p for p in lock["packages"]}

    for text in REQUIREMENTS + ["pytest>=8"]:
        requirement = Requirement(text)
        locked = packages[requirement.name]
        assert requirement.specifier.contains(Version(locked["version"]), prereleases=True)
    assert "pysocks" in packages  # the extra was followed
    assert packages["pytest"]["marker"] == '"dev" in dependency_groups'
    for package in packages.values():
        # every dependency recorded is itself locked, and every package has verifiable files
        assert {d["name"] for d in package.get("dependencies", [])} <= set(packages)
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert files and all(len(f["hashes"]["sha256"]) == 64 and f["size"] > 0 for f in files)
        assert package["index"] == "https://pypi.org/simple"

    again = run_envspec("lock", "--check", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
