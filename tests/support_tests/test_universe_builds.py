"""The build universe really builds: pip, with build isolation, against the loopback index only.

``fixtures/universe/build.toml`` promises sdists that setuptools and flit_core really build and the
backends themselves, served from their real wheels. The proof is a real frontend: pip fetches the
sdist and, in its isolated build environment, the backend, both from the loopback index and from
nowhere else (no config file, a black-hole proxy, ``--no-cache-dir``). The fixture projects under
``fixtures/projects/`` are built the same way, from ``fixtures/wheels/`` alone.
"""

from __future__ import annotations

import configparser
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from envspec.index import IndexSource
from envspec.spec.model import Index

from tests.support.fixtures import IndexServerFactory
from tests.support.index_server import JSON_V1, IndexServer
from tests.support.pythons import pyenv_python
from tests.support.universe import FIXTURES_DIR

PIP_PYTHON = "python3"
"""The system Python (3.11, pip 23.2): the frontend most users have."""
NEWER_PIP_PYTHON = pyenv_python("3.13")
"""pip >= 24.1 no longer adds ``wheel`` to a setup.py-only project's build requirements."""


@pytest.fixture
def build_index(index_server: IndexServerFactory) -> IndexServer:
    return index_server("build")


def pip(python: str | Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m pip ARGS`` in the hermetic environment conftest sets up (black-hole proxy,
    loopback exempt), reading no pip configuration file, so only the given index is seen."""
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "NO_PROXY": "127.0.0.1,localhost"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "--no-cache-dir",
         "--no-input", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def pip_wheel(server: IndexServer, name: str, out: Path,
              python: str | Path = PIP_PYTHON) -> subprocess.CompletedProcess[str]:
    return pip(python, "wheel", "--no-deps", "--index-url", f"{server.url}/", "-w", str(out),
               name, cwd=out.parent)


def wheel_metadata(wheel: Path) -> tuple[str, list[str], list[str]]:
    """(version, Requires-Dist, the archive's member names) of a built wheel."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata_path] = [n for n in names if n.endswith(".dist-info/METADATA")]
        message = BytesParser(policy=compat32).parsebytes(archive.read(metadata_path))
    requires = [str(Requirement(r)) for r in message.get_all("Requires-Dist") or []]
    return str(message["Version"]), requires, names


def only_wheel(directory: Path) -> Path:
    [wheel] = directory.glob("*.whl")
    return wheel


@pytest.fixture
def out(tmp_path: Path) -> Path:
    directory = tmp_path / "wheelhouse"
    directory.mkdir()
    return directory


def test_index_serves_the_real_backend_wheels_byte_for_byte(build_index: IndexServer) -> None:
    real = FIXTURES_DIR / "wheels" / "setuptools-75.3.2-py3-none-any.whl"
    data = real.read_bytes()
    with zipfile.ZipFile(real) as archive:
        metadata = archive.read("setuptools-75.3.2.dist-info/METADATA")
    with httpx.Client() as client:
        page = client.get(f"{build_index.url}/setuptools/", headers={"Accept": JSON_V1}).json()
        [entry] = page["files"]
        assert entry["filename"] == real.name
        assert entry["hashes"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
        assert entry["requires-python"] == ">=3.8"
        assert entry["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
        assert client.get(f"{entry['url']}.metadata").content == metadata
        tail = client.get(entry["url"], headers={"Range": "bytes=-100"})
        assert tail.status_code == 206 and tail.content == data[-100:]
        flit = client.get(f"{build_index.url}/flit-core/", headers={"Accept": JSON_V1}).json()
        assert [f["filename"] for f in flit["files"]] == ["flit_core-3.9.0-py3-none-any.whl"]


def test_pip_builds_the_setuptools_sdist_whose_dependencies_only_the_build_knows(
    build_index: IndexServer, out: Path
) -> None:
    done = pip_wheel(build_index, "sdist-setup", out)
    assert done.returncode == 0, done.stdout + done.stderr
    version, requires, names = wheel_metadata(only_wheel(out))
    assert version == "1.0.0"
    assert requires == ["wheel-dep>=1.1"]  # computed by setup.py, absent from the sdist's PKG-INFO
    assert "sdist_setup/__init__.py" in names
    # build isolation fetched the backend from this index
    fetched = [r.path for r in build_index.log.downloads()]
    assert "/files/setuptools-75.3.2-py3-none-any.whl" in fetched
    assert "/files/sdist_setup-1.0.0.tar.gz" in fetched


def test_pip_builds_the_flit_sdist_with_the_served_flit_core(
    build_index: IndexServer, out: Path
) -> None:
    done = pip_wheel(build_index, "sdist-flit", out)
    assert done.returncode == 0, done.stdout + done.stderr
    wheel = only_wheel(out)
    version, requires, names = wheel_metadata(wheel)
    assert version == "1.0.0"
    assert requires == ["wheel-dep>=1", 'sdist-setup; extra == "setup"']
    with zipfile.ZipFile(wheel) as archive:
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        parser = configparser.ConfigParser(delimiters=("=",))
        parser.read_string(archive.read(entry_points).decode())
    assert dict(parser["console_scripts"]) == {"sdist-flit": "sdist_flit:main"}
    fetched = [r.path for r in build_index.log.downloads()]
    assert "/files/flit_core-3.9.0-py3-none-any.whl" in fetched
    assert not any("setuptools" in path for path in fetched)


def test_a_broken_sdist_fails_to_build_with_its_message(
    build_index: IndexServer, out: Path
) -> None:
    done = pip_wheel(build_index, "sdist-broken", out)
    assert done.returncode != 0
    assert "this machine has no Fortran compiler" in done.stdout + done.stderr
    assert list(out.iterdir()) == []


@pytest.mark.skipif(NEWER_PIP_PYTHON is None, reason="needs pyenv's CPython 3.13 (pip 24.2), not here")
def test_pip_builds_the_setup_py_only_sdist_through_the_legacy_backend(
    build_index: IndexServer, out: Path
) -> None:
    done = pip_wheel(build_index, "sdist-legacy", out, python=NEWER_PIP_PYTHON)
    assert done.returncode == 0, done.stdout + done.stderr
    version, requires, names = wheel_metadata(only_wheel(out))
    assert (version, requires) == ("1.0.0", ["wheel-dep"])
    assert "sdist_legacy/__init__.py" in names


@pytest.mark.parametrize(
    ("project", "version", "requires", "expected"),
    [
        ("mylib", "1.0.0", ["wheel-dep>=1.1"], "hello from mylib 1.0.0"),
        ("flitlib", "0.3.0", [], "hello from flitlib 0.3.0"),
    ],
)
def test_the_fixture_projects_build_offline_from_fixtures_wheels(
    tmp_path: Path, out: Path, project: str, version: str, requires: list[str], expected: str
) -> None:
    # a copy, as the e2e tests will use them: setuptools builds in the tree (build/, egg-info)
    source = shutil.copytree(FIXTURES_DIR / "projects" / project, tmp_path / project)
    done = pip(
        PIP_PYTHON, "wheel", "--no-deps", "--no-index", "--find-links",
        str(FIXTURES_DIR / "wheels"), "-w", str(out), str(source), cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    wheel = only_wheel(out)
    assert wheel.name == f"{project}-{version}-py3-none-any.whl"
    built_version, built_requires, _ = wheel_metadata(wheel)
    assert (built_version, built_requires) == (version, requires)
    greeting = subprocess.run(
        [sys.executable, "-c", f"import {project}; print({project}.greeting())"],
        env={**os.environ, "PYTHONPATH": str(wheel)}, capture_output=True, text=True, check=True,
    )
    assert greeting.stdout.strip() == expected


def test_envspec_reads_the_real_wheels_metadata_by_range_without_downloading_it(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    server = index_server("build", metadata=False, serve_once=True)
    indexes = [Index(name="loopback", url=server.url)]
    with IndexSource(indexes, cache_dir=tmp_path / "cache") as source:
        [wheel] = source.project(canonicalize_name("setuptools")).files
        metadata = source.metadata(wheel)
    assert metadata.version == Version("75.3.2")
    assert str(metadata.requires_python) == ">=3.8"
    assert "core" in metadata.provides_extra
    full = [r for r in server.log.downloads() if r.path == f"/files/{wheel.filename}"]
    ranged = [r for r in server.log if r.path == f"/files/{wheel.filename}" and r.status == 206]
    assert full == [] and ranged
