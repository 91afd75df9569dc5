"""`envspec add` / `remove` end to end: the spec keeps its comments, the lock and venv follow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.cli import Project
from tests.support.fixtures import IndexServerFactory
from tests.support.pythons import skip_unless_python

pytestmark = pytest.mark.slow

SPEC = """\
# my project's environment
python = "3.12"   # keep this comment

requirements = [
  "lib-a",  # the library
]

[groups]
dev = ["greet"]
"""


@pytest.fixture
def project(tmp_path: Path, index_server: IndexServerFactory) -> Project:
    server = index_server("basic")
    proj = Project(tmp_path / "proj", server.url)
    proj.write_spec(SPEC)
    assert proj.envspec("sync").returncode == 0
    return proj


def spec_text(project: Project) -> str:
    return (project.root / "envspec.toml").read_text()


def installed(project: Project) -> set[str]:
    code = "import importlib.metadata as m; print(' '.join(sorted(d.metadata['Name'] for d in m.distributions())))"
    done = subprocess.run([str(project.root / ".venv/bin/python"), "-c", code],
                          capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_add_a_bare_name_gets_a_lower_bound_and_keeps_comments(project: Project) -> None:
    before = spec_text(project)
    done = project.envspec("add", "app")
    assert done.returncode == 0, done.stderr
    assert "Added 'app>=2.0.0'" in done.stderr
    after = spec_text(project)
    assert after == before.replace('  "lib-a",  # the library\n', '  "lib-a",  # the library\n  "app>=2.0.0",\n')
    assert project.locked()["app"] == "2.0.0"
    assert "app" in installed(project)
    assert project.envspec("lock", "--check").returncode == 0


def test_add_to_a_group_and_remove(project: Project) -> None:
    assert project.envspec("add", "--group", "dev", "pysocks==1.6.0", "--no-sync").returncode == 0
    assert 'dev = ["greet", "pysocks==1.6.0"]' in spec_text(project)
    assert project.locked()["pysocks"] == "1.6.0"
    done = project.envspec("remove", "lib-a")
    assert done.returncode == 0, done.stderr
    text = spec_text(project)
    assert "lib-a" not in text and "# my project's environment" in text and "# keep this comment" in text
    assert "lib-a" not in project.locked() and "lib-b" not in project.locked()
    assert "lib-a" not in installed(project)


def test_an_unsatisfiable_add_leaves_spec_and_lock_byte_identical(project: Project) -> None:
    spec_before = (project.root / "envspec.toml").read_bytes()
    lock_before = (project.root / "pylock.toml").read_bytes()
    done = project.envspec("add", "lib-b<1")
    assert done.returncode == 2
    assert "lib-b" in done.stderr and "Traceback" not in done.stderr
    assert (project.root / "envspec.toml").read_bytes() == spec_before
    assert (project.root / "pylock.toml").read_bytes() == lock_before


def test_remove_a_name_that_is_not_in_the_spec(project: Project) -> None:
    done = project.envspec("remove", "lib-b")
    assert done.returncode == 2
    assert "'lib-b' is not in the spec's requirements" in done.stderr
    assert "the spec requires lib-a: lib-a 2.0.0 → lib-b 1.1.0" in done.stderr
    grouped = project.envspec("remove", "greet")
    assert grouped.returncode == 2 and "group 'dev'" in grouped.stderr


def test_a_pyproject_toml_serves_as_the_spec(tmp_path: Path, index_server: IndexServerFactory) -> None:
    skip_unless_python(">=3.12,<3.13")
    server = index_server("basic")
    root = tmp_path / "pyproj"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\nrequires-python = ">=3.12,<3.13"\n'
        'dependencies = ["lib-a"]\n\n[dependency-groups]\ntest = ["greet"]\n'
        'dev = [{include-group = "test"}, "pysocks"]\n\n'
        f'[[tool.envspec.index]]\nname = "loopback"\nurl = "{server.url}"\n'
    )
    project = Project(root, server.url)
    done = project.envspec("sync", "--group", "dev")
    assert done.returncode == 0, done.stderr
    assert "pyproject.toml" in done.stderr
    assert {"lib-a", "lib-b", "greet", "pysocks"} <= {n.lower().replace("_", "-") for n in installed(project)}
    assert project.envspec("check", "--group", "dev").returncode == 0
