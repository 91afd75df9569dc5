"""Built wheels and sdists: valid, installable, and the same bytes on every run."""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile
from packaging.metadata import Metadata

from tests.support.pythons import pyenv_python
from tests.support.universe import load_universe, universe_from_dict
from tests.support.wheels import (
    BUILDABLE_SDIST_MTIME,
    ArtifactCache,
    build_release,
    build_sdist,
    build_universe,
    build_wheel,
)

REPO = Path(__file__).resolve().parents[2]


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def test_wheel_record_lists_every_file_with_its_true_hash() -> None:
    release = load_universe("basic").release("greet", "1.1.0")
    archive = _zip(build_wheel(release).data)
    names = archive.namelist()
    record_name = "greet-1.1.0.dist-info/RECORD"
    assert names[-1] == record_name
    rows = list(csv.reader(io.StringIO(archive.read(record_name).decode())))
    assert sorted(row[0] for row in rows) == sorted(names)
    for path, digest, size in rows:
        if path == record_name:
            assert (digest, size) == ("", "")
            continue
        data = archive.read(path)
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert digest == f"sha256={expected}"
        assert int(size) == len(data)


def test_wheel_metadata_and_tags_match_the_release() -> None:
    release = load_universe("basic").release("speedups", "1.0.0")
    for tag in release.wheel_tags:
        artifact = build_wheel(release, tag)
        archive = _zip(artifact.data)
        metadata = archive.read("speedups-1.0.0.dist-info/METADATA")
        assert metadata == artifact.metadata
        parsed = Metadata.from_email(metadata, validate=True)
        assert (parsed.name, str(parsed.version)) == ("speedups", "1.0.0")
        wheel = archive.read("speedups-1.0.0.dist-info/WHEEL").decode()
        assert f"Tag: {tag}\n" in wheel
        assert "Root-Is-Purelib: false" in wheel  # platform wheels go to platlib
        assert f"__built_from__ = {tag!r}" in archive.read("speedups/__init__.py").decode()


def test_padding_makes_a_big_wheel_whose_metadata_sits_at_the_end() -> None:
    release = universe_from_dict("t", {"packages": {"big": {"1.0": {"padding": 100_000}}}}).release(
        "big", "1.0"
    )
    artifact = build_wheel(release)
    assert artifact.size > 100_000
    archive = _zip(artifact.data)
    assert len(archive.read("big/_padding.txt")) == 100_000
    # the dist-info comes last, so a tail Range request finds it
    metadata_offset = archive.getinfo("big-1.0.dist-info/METADATA").header_offset
    assert artifact.size - metadata_offset < 2_000


def test_zip_entries_have_fixed_dates_and_permissions() -> None:
    artifact = build_wheel(load_universe("basic").release("app", "1.0.0"))
    for info in _zip(artifact.data).infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        assert info.create_system == 3


def test_sdist_is_a_reproducible_tarball_with_declared_pkg_info() -> None:
    release = load_universe("basic").release("old-sdist", "1.0.0")
    artifact = build_sdist(release)
    assert artifact.filename == "old_sdist-1.0.0.tar.gz"
    assert artifact.data[4:8] == b"\0\0\0\0"  # gzip header mtime
    with tarfile.open(fileobj=io.BytesIO(artifact.data)) as archive:
        members = archive.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.uname == "" for m in members)
        names = {m.name for m in members}
        assert {"old_sdist-1.0.0/PKG-INFO", "old_sdist-1.0.0/pyproject.toml"} <= names
        assert "old_sdist-1.0.0/old_sdist/__init__.py" in names
        pkg_info = archive.extractfile("old_sdist-1.0.0/PKG-INFO")
        assert pkg_info is not None
        text = pkg_info.read()
    assert text == artifact.metadata
    assert text.startswith(b"Metadata-Version: 2.1\n")
    assert b"Requires-Dist: base" in text
    assert gzip.decompress(artifact.data)  # a valid gzip stream


def test_sdist_declares_dynamic_fields() -> None:
    release = load_universe("basic").release("dyn-sdist", "1.0.0")
    parsed = Metadata.from_email(build_sdist(release).metadata, validate=True)
    assert parsed.metadata_version == "2.2"
    assert parsed.dynamic == ["requires-dist"]


def test_building_twice_gives_identical_bytes() -> None:
    universe = load_universe("basic")
    for release in universe.all_releases():
        first = [a.sha256 for a in build_release(release)]
        assert first == [a.sha256 for a in build_release(release)]


def test_a_fresh_interpreter_with_another_umask_and_timezone_builds_the_same_bytes() -> None:
    script = (
        "import os, time; os.umask(0o077); time.tzset();"
        "from tests.support.universe import load_universe;"
        "from tests.support.wheels import build_universe;"
        "b = build_universe(load_universe('basic'));"
        "print('\\n'.join(f'{n} {a.sha256}' for n, a in sorted(b.artifacts.items())))"
    )
    env = {**os.environ, "TZ": "Pacific/Kiritimati", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    here = build_universe(load_universe("basic"))
    assert result.stdout.splitlines() == [
        f"{n} {a.sha256}" for n, a in sorted(here.artifacts.items())
    ]


def test_the_cache_builds_each_release_once_and_notices_changed_content(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path)
    universe = load_universe("basic")
    started = time.perf_counter()
    first = cache.build(universe)
    assert time.perf_counter() - started < 1.0, "building the basic universe must stay fast"
    again = cache.build(universe)
    assert all(again.artifacts[n] is a for n, a in first.artifacts.items())
    changed = universe_from_dict("basic", {"packages": {"app": {"1.0.0": {"requires": ["base"]}}}})
    rebuilt = cache.build(changed).artifacts["app-1.0.0-py3-none-any.whl"]
    assert rebuilt.sha256 != first.artifacts["app-1.0.0-py3-none-any.whl"].sha256
    directory = cache.directory(universe)
    assert sorted(p.name for p in directory.iterdir()) == sorted(first.artifacts)
    assert cache.directory(universe) == directory


def test_wheel_installs_with_installer_including_its_console_script(tmp_path: Path) -> None:
    artifact = build_wheel(load_universe("basic").release("greet", "1.1.0"))
    wheel_path = tmp_path / artifact.filename
    wheel_path.write_bytes(artifact.data)
    scheme = {
        key: str(tmp_path / key) for key in ("purelib", "platlib", "scripts", "headers", "data")
    }
    destination = SchemeDictionaryDestination(scheme, sys.executable, "posix")
    with WheelFile.open(wheel_path) as source:
        install(source, destination, {"INSTALLER": b"test"})
    init = (tmp_path / "purelib" / "greet" / "__init__.py").read_text()
    assert "__version__ = '1.1.0'" in init
    script = tmp_path / "scripts" / "greet"
    assert "from greet.cli import main" in script.read_text()
    run = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "PYTHONPATH": str(tmp_path / "purelib")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "greet 1.1.0"


# the sdist's in-tree backend must also run under the oldest Python envspec targets
OLDEST_PYTHON = pyenv_python("3.8")


@pytest.mark.slow
@pytest.mark.parametrize("python", [sys.executable, *([str(OLDEST_PYTHON)] if OLDEST_PYTHON else [])])
def test_pip_builds_and_installs_the_sdist_offline(tmp_path: Path, python: str) -> None:
    artifact = build_sdist(load_universe("basic").release("greet", "1.1.0"))
    sdist = tmp_path / artifact.filename
    sdist.write_bytes(artifact.data)
    target = tmp_path / "target"
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(sdist),
        ],
        check=True,
        capture_output=True,
    )
    init = (target / "greet" / "__init__.py").read_text()
    assert "__version__ = '1.1.0'" in init and "__built_from__ = 'sdist'" in init
    assert (target / "greet-1.1.0.dist-info" / "entry_points.txt").exists()


# ── buildable sdists and real files (issue 6) ──────────────────────────────────────────────────
def _sdist_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = archive.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert {m.mtime for m in members} == {BUILDABLE_SDIST_MTIME}  # after 1980: zip-safe
        return {
            m.name.split("/", 1)[1]: archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in members
        }


def _run_setup_py(source: bytes) -> dict[str, object]:
    """Execute a setup.py against a stand-in setuptools that records what setup() was given."""
    captured: dict[str, object] = {}
    fake = type(sys)("setuptools")
    fake.setup = lambda **kwargs: captured.update(kwargs)  # type: ignore[attr-defined]
    saved = sys.modules.get("setuptools")
    sys.modules["setuptools"] = fake
    try:
        exec(compile(source, "setup.py", "exec"), {"__name__": "__main__"})
    finally:
        if saved is None:
            del sys.modules["setuptools"]
        else:
            sys.modules["setuptools"] = saved
    return captured


def test_setuptools_sdist_is_a_pep_621_project_with_untrusted_pkg_info() -> None:
    release = load_universe("build").release("half-built", "1.0.0")
    files = _sdist_members(build_sdist(release).data)
    assert set(files) == {"PKG-INFO", "pyproject.toml", "half_built/__init__.py"}
    pyproject = tomllib.loads(files["pyproject.toml"].decode())
    assert pyproject["build-system"] == {
        "requires": ["setuptools>=40.8.0"],
        "build-backend": "setuptools.build_meta",
    }
    project = pyproject["project"]
    assert (project["name"], project["version"]) == ("half-built", "1.0.0")
    assert project["dependencies"] == ["wheel-dep"]
    assert b"__version__ = '1.0.0'" in files["half_built/__init__.py"]
    parsed = Metadata.from_email(files["PKG-INFO"], validate=True)
    assert parsed.metadata_version == "2.1"
    assert [str(r) for r in parsed.requires_dist or []] == ["wheel-dep"]


def test_setup_py_sdist_computes_its_dependencies_and_pkg_info_leaves_them_out() -> None:
    release = load_universe("build").release("sdist-setup", "1.0.0")
    files = _sdist_members(build_sdist(release).data)
    pyproject = tomllib.loads(files["pyproject.toml"].decode())
    assert set(pyproject) == {"build-system"}  # the metadata is setup.py's
    setup = _run_setup_py(files["setup.py"])
    assert setup["name"] == "sdist-setup" and setup["version"] == "1.0.0"
    assert setup["install_requires"] == ["wheel-dep>=1.1"]
    assert setup["packages"] == ["sdist_setup"]
    parsed = Metadata.from_email(files["PKG-INFO"], validate=True)
    assert (parsed.metadata_version, parsed.dynamic) == ("2.2", ["requires-dist"])
    assert parsed.requires_dist is None


def test_flit_and_legacy_sdists_and_a_failing_one() -> None:
    universe = load_universe("build")
    flit = _sdist_members(build_sdist(universe.release("sdist-flit", "1.0.0")).data)
    pyproject = tomllib.loads(flit["pyproject.toml"].decode())
    assert pyproject["build-system"] == {
        "requires": ["flit_core>=3.4,<4"],
        "build-backend": "flit_core.buildapi",
    }
    assert pyproject["project"]["optional-dependencies"] == {"setup": ["sdist-setup"]}
    assert pyproject["project"]["scripts"] == {"sdist-flit": "sdist_flit:main"}
    assert "setup.py" not in flit

    legacy = _sdist_members(build_sdist(universe.release("sdist-legacy", "1.0.0")).data)
    assert "pyproject.toml" not in legacy
    assert _run_setup_py(legacy["setup.py"])["install_requires"] == ["wheel-dep"]

    broken = universe.release("sdist-broken", "1.0.0")
    files = _sdist_members(build_sdist(broken).data)
    with pytest.raises(SystemExit) as caught:
        _run_setup_py(files["setup.py"])
    assert str(caught.value) == broken.build_fails


def test_a_real_wheel_is_served_as_the_file_and_its_own_metadata() -> None:
    path = REPO / "fixtures" / "wheels" / "setuptools-75.3.2-py3-none-any.whl"
    built = build_universe(load_universe("build"))
    [artifact] = built.for_project("setuptools")
    assert artifact.data == path.read_bytes()
    assert artifact.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert artifact.metadata == _zip(artifact.data).read("setuptools-75.3.2.dist-info/METADATA")
    assert sorted(built.artifacts) == sorted(
        f for r in built.universe.all_releases() for f in r.filenames()
    )


def test_a_real_file_changed_after_loading_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "flit_core-3.9.0-py3-none-any.whl"
    copy.write_bytes((REPO / "fixtures" / "wheels" / copy.name).read_bytes())
    universe = universe_from_dict(
        "t", {"packages": {"flit-core": {"3.9.0": {"wheel-file": str(copy)}}}}
    )
    copy.write_bytes(copy.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="changed since its universe was loaded"):
        ArtifactCache().build(universe)


def test_buildable_sdists_are_reproducible() -> None:
    for release in load_universe("build").all_releases():
        assert [a.sha256 for a in build_release(release)] == [
            a.sha256 for a in build_release(release)
        ]
