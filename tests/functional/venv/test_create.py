"""ensure_venv against real interpreters: create, keep, recreate on a version change or damage,
and never delete a directory that is not a venv."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

from envspec.errors import EXIT_OUTSIDE, EXIT_USER
from envspec.pythons.probe import Probe, probe_interpreter
from envspec.venv.create import (
    CREATING_MARKER,
    NotAVenv,
    VenvCreationFailed,
    ensure_venv,
    pyvenv_version,
)
from envspec.venv.layout import read_pyvenv_cfg
from tests.support.pythons import require_python

pytestmark = pytest.mark.slow

PY38, PY312 = "3.8", "3.12"


def _probe(version: str, tmp_path: Path) -> Probe:
    return probe_interpreter(require_python(version), cache_dir=tmp_path / "cache")


def _ensure(root: Path, probe: Probe) -> tuple[object, bool]:
    return ensure_venv(root, interpreter=probe.path, version=probe.version, scheme=probe.scheme)


def _venv_python_version(python: Path) -> str:
    done = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3], sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("interpreter", [PY38, PY312], ids=["3.8", "3.12"])
def test_creates_a_working_venv_then_keeps_it(tmp_path: Path, interpreter: str) -> None:
    probe = _probe(interpreter, tmp_path)
    root = tmp_path / ".venv"
    layout, created = ensure_venv(
        root, interpreter=probe.path, version=probe.version, scheme=probe.scheme
    )
    assert created
    assert _venv_python_version(layout.python) == f"{probe.version} {root}"
    assert layout.purelib.is_dir()
    assert not (root / CREATING_MARKER).exists()

    keepsake = layout.purelib / "keep.txt"
    keepsake.write_text("still here")
    again, created_again = ensure_venv(
        root, interpreter=probe.path, version=probe.version, scheme=probe.scheme
    )
    assert (again, created_again) == (layout, False)
    assert keepsake.read_text() == "still here"


def test_recreates_when_the_python_version_changes(tmp_path: Path) -> None:
    old, new = _probe(PY38, tmp_path), _probe(PY312, tmp_path)
    root = tmp_path / "venv"
    _ensure(root, old)
    layout, created = ensure_venv(
        root, interpreter=new.path, version=new.version, scheme=new.scheme
    )
    assert created
    assert _venv_python_version(layout.python).startswith(f"{new.version} ")
    config = read_pyvenv_cfg(root)
    assert config is not None and pyvenv_version(config) == new.version
    assert not (root / "lib" / "python3.8").exists()


def test_refuses_a_directory_that_is_not_a_venv(tmp_path: Path) -> None:
    probe = _probe(PY312, tmp_path)
    root = tmp_path / "project-data"
    root.mkdir()
    (root / "precious.txt").write_text("user work")
    with pytest.raises(NotAVenv) as caught:
        _ensure(root, probe)
    assert caught.value.exit_code == EXIT_USER
    assert repr(str(root)) in str(caught.value)
    assert sorted(p.name for p in root.iterdir()) == ["precious.txt"]


def test_an_empty_directory_becomes_the_venv(tmp_path: Path) -> None:
    probe = _probe(PY312, tmp_path)
    root = tmp_path / "empty"
    root.mkdir()
    _, created = _ensure(root, probe)
    assert created and (root / "pyvenv.cfg").is_file()


@pytest.mark.parametrize(
    "damage",
    ["site-packages", "python", "pyvenv.cfg-version", "interrupted-creation"],
)
def test_a_broken_venv_is_detected_and_recreated(tmp_path: Path, damage: str) -> None:
    probe = _probe(PY312, tmp_path)
    root = tmp_path / ".venv"
    layout, _ = ensure_venv(
        root, interpreter=probe.path, version=probe.version, scheme=probe.scheme
    )
    stray = layout.purelib / "stray.py"
    stray.write_text("")
    if damage == "site-packages":
        stray.unlink()
        layout.purelib.rmdir()
    elif damage == "python":
        layout.python.unlink()
    elif damage == "pyvenv.cfg-version":
        cfg = root / "pyvenv.cfg"
        lines = [line for line in cfg.read_text().splitlines() if not line.startswith("version")]
        cfg.write_text("\n".join(lines) + "\n")
    else:
        (root / CREATING_MARKER).write_bytes(b"")
    layout2, created = ensure_venv(
        root, interpreter=probe.path, version=probe.version, scheme=probe.scheme
    )
    assert created
    assert layout2.python.exists() and layout2.purelib.is_dir()
    assert not stray.exists()
    assert not (root / CREATING_MARKER).exists()


def test_a_venv_recording_version_info_like_uv_is_kept(tmp_path: Path) -> None:
    probe = _probe(PY312, tmp_path)
    root = tmp_path / ".venv"
    _ensure(root, probe)
    cfg = root / "pyvenv.cfg"
    text = "\n".join(line for line in cfg.read_text().splitlines() if not line.startswith("version"))
    cfg.write_text(text + f"\nversion_info = {probe.version}.final.0\n")
    _, created = _ensure(root, probe)
    assert not created


def test_pyvenv_version_reads_both_spellings() -> None:
    assert pyvenv_version({"version": "3.8.18"}) == Version("3.8.18")
    assert pyvenv_version({"version_info": "3.13.0.candidate.2"}) == Version("3.13.0")
    assert pyvenv_version({"home": "/usr/bin"}) is None


def test_an_interpreter_that_cannot_make_venvs_is_reported(tmp_path: Path) -> None:
    probe = _probe(PY312, tmp_path)
    fake = tmp_path / "fake-python"
    fake.write_text("#!/bin/sh\necho 'No module named venv' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(VenvCreationFailed) as caught:
        ensure_venv(tmp_path / "v", interpreter=fake, version=probe.version, scheme=probe.scheme)
    assert caught.value.exit_code == EXIT_OUTSIDE
    assert "No module named venv" in str(caught.value)
    # the half-made directory is recognised as ours, so a working interpreter can take it over
    _, created = _ensure(tmp_path / "v", probe)
    assert created
