"""`envspec check` end to end: each kind of drift in a real synced venv, its exit code and finding."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
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
SPEC = 'python = "3.12"\nrequirements = ["app", "greet"]\n[groups]\ndev = ["pysocks"]\n'


@pytest.fixture
def project(tmp_path: Path, index_server: IndexServerFactory) -> Project:
    server = index_server("basic")
    proj = Project(tmp_path / "proj", server.url)
    proj.write_spec(SPEC)
    done = proj.envspec("sync")
    assert done.returncode == 0, done.stderr
    return proj


def check(project: Project, *args: str) -> tuple[int, dict[str, Any], str]:
    as_json = project.envspec("check", "--json", *args)
    jsonschema.validate(json.loads(as_json.stdout), SCHEMA)
    text = project.envspec("check", *args)
    assert text.returncode == as_json.returncode
    assert "Traceback" not in text.stderr + as_json.stderr
    return as_json.returncode, json.loads(as_json.stdout), text.stdout + text.stderr


def kinds(document: dict[str, Any]) -> list[str]:
    return [finding["kind"] for finding in document["findings"]]


def site_packages(project: Project) -> Path:
    return next((project.root / ".venv" / "lib").glob("python3.*/site-packages"))


def test_a_clean_venv_passes(project: Project) -> None:
    code, document, text = check(project)
    assert code == 0 and document["clean"] and document["findings"] == []
    assert document["checked"]["files_verified"] and document["checked"]["files"] > 10
    assert text.startswith("✓ .venv matches pylock.toml (4 packages")
    fast = project.envspec("check", "--no-verify-files")
    assert fast.returncode == 0 and "files not verified" in fast.stderr


def test_extra_package_installed_with_pip(project: Project) -> None:
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(project.root / ".venv/bin/python"),
         "install", "--no-deps", "--index-url", project.index_url, "pysocks==1.6.0"],
        capture_output=True, text=True,
    )
    assert pip.returncode == 0, pip.stderr
    code, document, text = check(project)
    assert code == 1
    (finding,) = document["findings"]
    assert finding["kind"] == "extraneous" and finding["package"] == "pysocks"
    assert finding["actual"] == "1.6.0" and "pip" in (finding["detail"] or "")
    assert "installed by pip" in text and "Fix: envspec sync" in text
    # with the group that locks it, it is a wrong version instead
    code, document, _ = check(project, "--group", "dev")
    assert code == 1 and kinds(document) == ["wrong-version"]
    assert document["findings"][0]["expected"] == "1.7.1"


def test_locked_package_removed_and_another_version(project: Project) -> None:
    site = site_packages(project)
    shutil.rmtree(site / "greet")
    shutil.rmtree(next(site.glob("greet-*.dist-info")))
    dist_info = next(site.glob("lib_b-*.dist-info"))
    metadata = dist_info / "METADATA"
    metadata.write_text(metadata.read_text().replace("Version: 1.1.0", "Version: 1.0.0"))
    dist_info.rename(site / "lib_b-1.0.0.dist-info")
    code, document, text = check(project, "--no-verify-files")
    assert code == 1
    assert sorted(kinds(document)) == ["missing", "wrong-version"]
    by_kind = {f["kind"]: f for f in document["findings"]}
    assert by_kind["missing"]["package"] == "greet"
    assert (by_kind["wrong-version"]["expected"], by_kind["wrong-version"]["actual"]) == ("1.1.0", "1.0.0")
    assert "Missing packages" in text and "Wrong versions" in text


def test_edited_deleted_and_stray_files(project: Project) -> None:
    site = site_packages(project)
    (site / "app" / "__init__.py").write_text("# edited by hand\n")
    (site / "lib_a" / "__init__.py").unlink()
    (site / "lib_b" / "stray.py").write_text("print('not from any wheel')\n")
    code, document, text = check(project)
    assert code == 1
    found = {(f["kind"], f["package"]) for f in document["findings"]}
    assert found == {("modified-file", "app"), ("missing-file", "lib-a"), ("unowned-file", "lib-b")}
    paths = {f["kind"]: f["path"] for f in document["findings"]}
    assert paths["unowned-file"].endswith("lib_b/stray.py")
    assert "Fix: envspec sync --reinstall" in text
    # the fast mode does not look at files
    assert project.envspec("check", "--no-verify-files").returncode == 0
    # and the fix it names repairs everything (the unowned stray file is the user's to remove)
    (site / "lib_b" / "stray.py").unlink()
    fixed = project.envspec("sync", "--reinstall")
    assert fixed.returncode == 0, fixed.stderr
    assert check(project)[0] == 0


def test_python_version_mismatch(project: Project) -> None:
    project.write_spec(SPEC.replace('"3.12"', '"3.11"'))
    assert project.envspec("lock").returncode == 0  # the lock is fresh again, for 3.11
    code, document, text = check(project)
    assert code == 1
    assert "python-mismatch" in kinds(document)
    assert "Wrong Python" in text


def test_stale_lock(project: Project) -> None:
    project.write_spec(SPEC.replace('"greet"', '"greet", "lib-b"'))
    code, document, text = check(project)
    assert code == 1
    assert kinds(document)[0] == "stale-lock"
    assert "added 'lib-b'" in document["findings"][0]["detail"]


def test_missing_lock_is_bad_input(project: Project) -> None:
    (project.root / "pylock.toml").unlink()
    code, document, _ = check(project)
    assert code == 2
    assert kinds(document) == ["missing-lock"] and document["fix"] == "envspec lock"


def test_missing_venv(project: Project) -> None:
    shutil.rmtree(project.root / ".venv")
    code, document, text = check(project)
    assert code == 1
    assert kinds(document) == ["missing-venv"]
    assert "Fix: envspec sync" in text


def test_check_never_modifies_anything(project: Project) -> None:
    site = site_packages(project)
    (site / "app" / "__init__.py").write_text("# edited\n")
    before = sorted((p, p.stat().st_mtime_ns) for p in project.root.rglob("*") if p.is_file())
    check(project)
    after = sorted((p, p.stat().st_mtime_ns) for p in project.root.rglob("*") if p.is_file())
    assert before == after
