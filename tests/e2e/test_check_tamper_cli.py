"""Tampering after a sync, end to end: every change that alters what the venv's Python runs is
reported by `envspec check` (exit 1, the kind named), and the exact fix command it prints makes
the next check clean (exit 0).

Each test syncs its own project (a venv's paths are absolute: a copy would not be a venv); the
cache is shared across the module, so a sync is a handful of hard links.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support.cli import Project
from tests.support.fixtures import IndexServerFactory

pytestmark = pytest.mark.slow

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "check-report.schema.json").read_text()
)
SPEC = 'python = "3.12"\nrequirements = ["app"]\n'


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tamper-cache")


@pytest.fixture
def project(tmp_path: Path, index_server: IndexServerFactory, cache_dir: Path) -> Project:
    server = index_server("basic")
    proj = Project(tmp_path / "proj", server.url)
    proj.write_spec(SPEC)
    done = proj.envspec("--cache-dir", str(cache_dir), "sync")
    assert done.returncode == 0, done.stderr
    assert _check(proj, cache_dir)[0] == 0
    return proj


def _check(project: Project, cache_dir: Path) -> tuple[int, dict[str, Any], str]:
    as_json = project.envspec("--cache-dir", str(cache_dir), "check", "--json")
    assert "Traceback" not in as_json.stderr, as_json.stderr
    document = json.loads(as_json.stdout)
    jsonschema.validate(document, SCHEMA)
    text = project.envspec("--cache-dir", str(cache_dir), "check")
    assert text.returncode == as_json.returncode
    return as_json.returncode, document, text.stdout + text.stderr


def site_packages(project: Project) -> Path:
    return next((project.root / ".venv" / "lib").glob("python3.*/site-packages"))


def tampered_then_fixed(
    project: Project, cache_dir: Path, tamper: Callable[[], object], kind: str
) -> dict[str, Any]:
    """Tamper, see check name ``kind`` and fail, run the fix it printed, see check pass."""
    tamper()
    code, document, text = _check(project, cache_dir)
    assert code == 1, text
    assert kind in [finding["kind"] for finding in document["findings"]], text
    fix = document["fix"]
    assert fix is not None and f"Fix: {fix}" in text
    command = shlex.split(fix)
    assert command[0] == "envspec"
    done = project.envspec("--cache-dir", str(cache_dir), *command[1:])
    assert done.returncode == 0, done.stderr
    assert "nothing to do" not in (done.stdout + done.stderr).lower(), done.stderr
    code, after, text = _check(project, cache_dir)
    assert code == 0, text
    return document


def test_a_planted_pth_file(project: Project, cache_dir: Path) -> None:
    pth = site_packages(project) / "zzz-evil.pth"
    document = tampered_then_fixed(
        project, cache_dir, lambda: pth.write_text("import os\n"), "startup-file"
    )
    assert document["findings"][0]["path"].endswith("site-packages/zzz-evil.pth")
    assert not pth.exists()


def test_a_planted_sitecustomize(project: Project, cache_dir: Path) -> None:
    module = site_packages(project) / "sitecustomize.py"
    tampered_then_fixed(
        project, cache_dir, lambda: module.write_text("print('hi')\n"), "startup-file"
    )
    assert not module.exists()


def test_a_module_dropped_into_site_packages(project: Project, cache_dir: Path) -> None:
    def tamper() -> None:
        (site_packages(project) / "requests").mkdir()
        (site_packages(project) / "requests" / "__init__.py").write_text("x = 1\n")

    tampered_then_fixed(project, cache_dir, tamper, "unowned-file")
    assert not (site_packages(project) / "requests").exists()


def test_a_file_added_inside_a_package(project: Project, cache_dir: Path) -> None:
    added = site_packages(project) / "app" / "patch.py"
    document = tampered_then_fixed(
        project, cache_dir, lambda: added.write_text("x = 1\n"), "unowned-file"
    )
    assert document["fix"] == "envspec sync --reinstall"
    assert not added.exists()


def test_system_site_packages_switched_on(project: Project, cache_dir: Path) -> None:
    cfg = project.root / ".venv" / "pyvenv.cfg"

    def tamper() -> None:
        text = cfg.read_text().replace(
            "include-system-site-packages = false", "include-system-site-packages = true"
        )
        cfg.write_text(text)

    document = tampered_then_fixed(project, cache_dir, tamper, "modified-venv")
    assert document["fix"] == "envspec sync"
    assert "include-system-site-packages = false" in cfg.read_text()


def test_home_changed_in_pyvenv_cfg(project: Project, cache_dir: Path, tmp_path: Path) -> None:
    cfg = project.root / ".venv" / "pyvenv.cfg"

    def tamper() -> None:
        lines = [
            f"home = {tmp_path}" if line.startswith("home") else line
            for line in cfg.read_text().splitlines()
        ]
        cfg.write_text("\n".join(lines) + "\n")

    document = tampered_then_fixed(project, cache_dir, tamper, "modified-venv")
    (finding,) = [f for f in document["findings"] if f["kind"] == "modified-venv"]
    assert finding["actual"] == str(tmp_path) and "home" in finding["detail"]


def test_a_replaced_interpreter(project: Project, cache_dir: Path) -> None:
    python = project.root / ".venv" / "bin" / "python"
    real = os.path.realpath(python)

    def tamper() -> None:
        python.unlink()
        python.write_text(f'#!/bin/sh\nexport PLANTED=1\nexec "{real}" "$@"\n')
        python.chmod(0o755)

    document = tampered_then_fixed(project, cache_dir, tamper, "modified-venv")
    assert any(f["path"] == "bin/python" for f in document["findings"])
    assert python.is_symlink()


def test_a_file_made_unreadable(project: Project, cache_dir: Path) -> None:
    module = site_packages(project) / "app" / "__init__.py"
    tampered_then_fixed(project, cache_dir, lambda: module.chmod(0), "changed-mode")
    assert stat.S_IMODE(module.stat().st_mode) & 0o400


def _pyc(project: Project, name: str) -> Path:
    cache = site_packages(project) / "app" / "__pycache__"
    cache.mkdir(exist_ok=True)
    return cache / name


def _header(flags: int, rest: bytes) -> bytes:
    return importlib.util.MAGIC_NUMBER + flags.to_bytes(4, "little") + rest


def test_bytecode_without_a_source(project: Project, cache_dir: Path) -> None:
    pyc = _pyc(project, "evil.cpython-312.pyc")
    tampered_then_fixed(
        project, cache_dir, lambda: pyc.write_bytes(_header(0, bytes(8)) + b"junk"),
        "stray-bytecode",
    )
    assert not pyc.exists()


def test_bytecode_whose_header_does_not_match_its_source(
    project: Project, cache_dir: Path
) -> None:
    pyc = _pyc(project, "__init__.cpython-312.pyc")
    tampered_then_fixed(
        project, cache_dir,
        lambda: pyc.write_bytes(_header(0, (12345).to_bytes(4, "little") + bytes(4)) + b"junk"),
        "stray-bytecode",
    )
    assert not pyc.exists()


def test_unchecked_hash_based_bytecode(project: Project, cache_dir: Path) -> None:
    pyc = _pyc(project, "__init__.cpython-312.pyc")
    tampered_then_fixed(
        project, cache_dir, lambda: pyc.write_bytes(_header(0b01, bytes(8)) + b"junk"),
        "stray-bytecode",
    )


def test_bytecode_beside_the_package_that_python_imports_sourceless(
    project: Project, cache_dir: Path
) -> None:
    pyc = site_packages(project) / "app" / "helper.pyc"
    tampered_then_fixed(
        project, cache_dir, lambda: pyc.write_bytes(_header(0, bytes(8))), "stray-bytecode"
    )
    assert not pyc.exists()


def test_bytecode_python_wrote_itself_is_not_drift(project: Project, cache_dir: Path) -> None:
    python = project.root / ".venv" / "bin" / "python"
    import subprocess

    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    ran = subprocess.run(
        [str(python), "-c", "import app, lib_a"], capture_output=True, text=True, env=environ
    )
    assert ran.returncode == 0, ran.stderr
    assert list((site_packages(project) / "app" / "__pycache__").glob("*.pyc"))
    code, document, text = _check(project, cache_dir)
    assert code == 0, text


def test_metadata_version_edited_in_place(project: Project, cache_dir: Path) -> None:
    (metadata,) = site_packages(project).glob("app-*.dist-info/METADATA")

    def tamper() -> None:
        text = metadata.read_text()
        with open(metadata, "w") as handle:  # in place: through the hard link
            handle.write(text.replace("Version: 2.0.0", "Version: 9.9.9"))

    tampered_then_fixed(project, cache_dir, tamper, "wrong-version")
    assert "Version: 2.0.0" in metadata.read_text()


def test_a_module_edited_in_place(project: Project, cache_dir: Path) -> None:
    module = site_packages(project) / "lib_a" / "__init__.py"

    def tamper() -> None:
        with open(module, "a") as handle:
            handle.write("PLANTED = 1\n")

    tampered_then_fixed(project, cache_dir, tamper, "modified-file")
    assert "PLANTED" not in module.read_text()


def test_an_interrupted_venv_creation_is_repaired_by_the_printed_fix(
    project: Project, cache_dir: Path
) -> None:
    venv = project.root / ".venv"

    def tamper() -> None:  # what a sync killed half-way through recreating the venv leaves
        (venv / ".envspec-creating").write_bytes(b"")
        (venv / "pyvenv.cfg").unlink()
        shutil.rmtree(venv / "lib")

    tampered_then_fixed(project, cache_dir, tamper, "missing-venv")
