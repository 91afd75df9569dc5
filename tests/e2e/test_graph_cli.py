"""`envspec tree`, `why` and `export` end to end, and the export installed with --require-hashes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import Project
from tests.support.fixtures import IndexServerFactory

pytestmark = pytest.mark.slow

SPEC = (
    'python = "3.12"\nrequirements = ["top", "http-client", "app"]\n'
    '[groups]\ndev = ["right", "greet"]\n'
)


@pytest.fixture
def project(tmp_path: Path, index_server: IndexServerFactory) -> Project:
    server = index_server("basic")
    proj = Project(tmp_path / "proj", server.url)
    proj.write_spec(SPEC)
    assert proj.envspec("lock").returncode == 0
    return proj


def test_tree_shows_the_diamond_once_and_groups_on_request(project: Project) -> None:
    done = project.envspec("tree")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "top 1.0.0" in lines
    assert any(line.endswith("left 1.0.0") for line in lines)
    assert sum("base 2.1.0" in line for line in lines) == 3  # from left, right and http-client
    assert "greet" not in done.stdout
    grouped = project.envspec("tree", "--group", "dev")
    assert "greet 1.1.0 (group: dev)" in grouped.stdout
    # right's subtree was drawn under top already: it is not expanded again
    assert "right 1.0.0 (group: dev) (*)" in grouped.stdout
    shallow = project.envspec("tree", "--depth", "0")
    assert shallow.stdout.splitlines() == ["app 2.0.0", "http-client 1.0.0", "top 1.0.0"]
    inverted = project.envspec("tree", "--invert")
    assert inverted.returncode == 0 and inverted.stdout.splitlines()[0].startswith("base 2.1.0")


def test_why_lists_every_path(project: Project) -> None:
    done = project.envspec("why", "base")
    assert done.returncode == 0, done.stderr
    assert "the spec requires top: top 1.0.0 → left 1.0.0 → base 2.1.0" in done.stdout
    assert "the spec requires http-client: http-client 1.0.0 → base 2.1.0" in done.stdout
    assert "group 'dev' requires right: right 1.0.0 → base 2.1.0" in done.stdout
    unknown = project.envspec("why", "bse")
    assert unknown.returncode == 2 and "Did you mean 'base'" in unknown.stderr


def test_exported_requirements_install_with_require_hashes(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "requirements.txt"
    done = project.envspec("export", "--group", "dev", "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "greet==1.1.0" in text and "--hash=sha256:" in text
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--require-hashes", "--no-deps", "-r", str(out)],
        capture_output=True, text=True,
    )
    assert pip.returncode == 0, pip.stderr
    imported = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import top, base, greet; print(base.__version__)"],
        capture_output=True, text=True,
    )
    assert imported.stdout.strip() == "2.1.0", imported.stderr
    as_lock = project.envspec("export", "--format", "pylock.toml")
    assert as_lock.returncode == 0 and "dependency_groups" not in as_lock.stdout
