"""Building from source end to end (issue 6): index sdists, ``[sources]`` paths and URLs, and
``name @ URL`` requirements, through the real CLI, a loopback index and real venvs.

Each test asserts what a user sees: the exit code, the message, the lock's text, and code that
imports (or a console script that runs) from the venv. Builds are real: the index serves the real
setuptools and flit_core wheels, which envspec installs into its own build environments.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Project
from tests.support.fixtures import IndexServerFactory
from tests.support.index_server import IndexServer
from tests.support.pythons import require_python
from tests.support.universe import Universe, load_universe

pytestmark = pytest.mark.slow

FIXTURE_PROJECTS = Path(__file__).resolve().parents[2] / "fixtures" / "projects"
HEADER = 'python = "3.12"\n'


# ── shared setup ──────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One envspec cache for the tests that do not assert on caching: the build environments
    (setuptools, flit_core) are installed once, not once per test."""
    return tmp_path_factory.mktemp("shared-envspec-cache")


@pytest.fixture(autouse=True)
def _use_shared_cache(hermetic_environment: Path, shared_cache: Path) -> None:
    # hermetic_environment restores the whole environment after the test
    os.environ["ENVSPEC_CACHE_DIR"] = str(shared_cache)


@pytest.fixture
def server(index_server: IndexServerFactory) -> IndexServer:
    return index_server("build")


@pytest.fixture
def project(tmp_path: Path, server: IndexServer) -> Project:
    return Project(tmp_path / "proj", server.url)


def own_cache(tmp_path: Path) -> Path:
    """A cache for this test alone (for tests that assert on what is cached)."""
    cache = tmp_path / "cache"
    os.environ["ENVSPEC_CACHE_DIR"] = str(cache)
    return cache


def sync_ok(project: Project, *args: str) -> str:
    done = project.envspec("sync", *args)
    assert done.returncode == 0, done.stderr
    return done.stderr


def in_venv(project: Project, code: str) -> str:
    done = subprocess.run(
        [str(project.root / ".venv" / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        cwd=project.root.parent,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def installed(project: Project) -> dict[str, str]:
    """What the venv's own interpreter sees installed, name → version."""
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
    )
    return dict(json.loads(in_venv(project, code)))


def direct_url(project: Project, name: str) -> dict[str, Any]:
    """The PEP 610 direct_url.json of an installed distribution."""
    code = (
        "import importlib.metadata as m; "
        f"print(m.distribution({name!r}).read_text('direct_url.json'))"
    )
    return dict(json.loads(in_venv(project, code)))


def lock_packages(project: Project) -> dict[str, dict[str, Any]]:
    data = tomllib.loads(project.lock_text)
    return {package["name"]: package for package in data["packages"]}


def tree_state(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its mtime and size: equal before and after means untouched."""
    return {
        str(path.relative_to(root)): (path.stat().st_mtime_ns, path.stat().st_size)
        for path in sorted(root.rglob("*"))
        if path.is_file() or path.is_symlink()
    }


def copy_fixture_project(name: str, destination: Path) -> Path:
    shutil.copytree(FIXTURE_PROJECTS / name, destination)
    return destination


def universe_without(*names: str) -> Universe:
    build = load_universe("build")
    return Universe(
        name="build-without-" + "-".join(names),
        releases={n: v for n, v in build.releases.items() if n not in names},
    )


# ── 1-3: sdists from the index ────────────────────────────────────────────────────────────────


def test_sdist_only_project_is_built_locked_and_synced(project: Project) -> None:
    project.write_spec(HEADER + 'requirements = ["sdist-setup"]\n')
    sync_ok(project)
    packages = lock_packages(project)
    entry = packages["sdist-setup"]
    assert entry["version"] == "1.0.0"
    assert entry["sdist"]["url"].endswith("/sdist_setup-1.0.0.tar.gz")
    assert len(entry["sdist"]["hashes"]["sha256"]) == 64
    assert "wheels" not in entry
    # PKG-INFO leaves Requires-Dist dynamic: only the build could tell it needs wheel-dep>=1.1
    assert [d["name"] for d in entry["dependencies"]] == ["wheel-dep"]
    assert packages["wheel-dep"]["version"] == "1.1.0"
    assert installed(project) == {"sdist-setup": "1.0.0", "wheel-dep": "1.1.0"}
    assert "sdist_setup" in in_venv(project, "import sdist_setup; print(sdist_setup.__name__)")
    check = project.envspec("check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_dependencies_computed_by_the_build_constrain_resolution(project: Project) -> None:
    project.write_spec(HEADER + 'requirements = ["sdist-setup", "wheel-dep<1.1"]\n')
    done = project.envspec("sync")
    assert done.returncode == 2, done.stderr
    assert "sdist-setup" in done.stderr and "wheel-dep>=1.1" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project.root / "pylock.toml").exists()


def test_a_second_project_with_the_same_cache_builds_nothing(
    tmp_path: Path, server: IndexServer, index_server: IndexServerFactory
) -> None:
    cache = own_cache(tmp_path)
    first = Project(tmp_path / "first", server.url)
    first.write_spec(HEADER + 'requirements = ["sdist-setup"]\n')
    sync_ok(first)
    built = cache / "built-v1"
    before = tree_state(built)
    assert any(name.endswith(".whl") for name in before), before

    # the same lock in another project: the index refuses the backend, so a build would fail
    second = Project(tmp_path / "second", server.url)
    second.root.mkdir()
    for name in ("envspec.toml", "pylock.toml"):
        shutil.copy2(first.root / name, second.root / name)
    server.log.clear()
    server.fail_next("/simple/setuptools/", 404, times=100)
    server.fail_next("/files/setuptools-75.3.2-py3-none-any.whl", 404, times=100)
    sync_ok(second, "--frozen")
    assert installed(second) == {"sdist-setup": "1.0.0", "wheel-dep": "1.1.0"}
    assert [r.path for r in server.log if "setuptools" in r.path] == []
    assert tree_state(built) == before

    # another index that has no build backend at all: locking and syncing still work
    bare = index_server(universe_without("setuptools", "flit-core"))
    third = Project(tmp_path / "third", bare.url)
    third.write_spec(HEADER + 'requirements = ["sdist-setup"]\n')
    sync_ok(third)
    assert installed(third) == {"sdist-setup": "1.0.0", "wheel-dep": "1.1.0"}
    assert [r.path for r in bare.log if "setuptools" in r.path] == []
    assert tree_state(built) == before


def test_without_the_backend_and_without_a_cached_build_the_build_fails_cleanly(
    tmp_path: Path, index_server: IndexServerFactory
) -> None:
    own_cache(tmp_path)  # nothing built yet: the control for the test above
    bare = index_server(universe_without("setuptools", "flit-core"))
    project = Project(tmp_path / "proj", bare.url)
    project.write_spec(HEADER + 'requirements = ["sdist-setup"]\n')
    done = project.envspec("sync")
    assert done.returncode in (2, 3), done.stderr
    assert "setuptools" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project.root / "pylock.toml").exists()


def test_a_missing_build_requirement_names_what_needed_it(
    tmp_path: Path, index_server: IndexServerFactory
) -> None:
    own_cache(tmp_path)
    bare = index_server(universe_without("setuptools", "flit-core"))
    project = Project(tmp_path / "proj", bare.url)
    project.write_spec(HEADER + 'requirements = ["sdist-setup"]\n')
    done = project.envspec("sync")
    assert done.returncode in (2, 3), done.stderr
    assert "setuptools" in done.stderr and "sdist-setup" in done.stderr


def test_a_build_is_made_and_cached_per_target_interpreter(
    tmp_path: Path, server: IndexServer
) -> None:
    for version in ("3.8", "3.12"):
        require_python(version)
    cache = own_cache(tmp_path)
    wheels: list[str] = []
    for version in ("3.12", "3.8"):
        project = Project(tmp_path / f"py{version}", server.url)
        project.write_spec(f'python = "{version}"\nrequirements = ["sdist-setup"]\n')
        sync_ok(project)
        assert (
            in_venv(project, "import sys, sdist_setup; print('%d.%d' % sys.version_info[:2])")
            == version
        )
        wheels = sorted(str(p.relative_to(cache)) for p in (cache / "built-v1").rglob("*.whl"))
    # one wheel of the same sdist for each interpreter, not one shared between them
    assert len(wheels) == 2, wheels


def test_flit_sdist_and_its_console_script(project: Project) -> None:
    # the extra pulls in the setuptools sdist: two backends, two builds in one sync
    project.write_spec(HEADER + 'requirements = ["sdist-flit[setup]"]\n')
    sync_ok(project)
    assert installed(project) == {
        "sdist-flit": "1.0.0",
        "sdist-setup": "1.0.0",
        "wheel-dep": "1.1.0",
    }
    script = subprocess.run(
        [str(project.root / ".venv" / "bin" / "sdist-flit")], capture_output=True, text=True
    )
    assert script.returncode == 0, script.stderr
    assert script.stdout.strip() == "sdist-flit 1.0.0"
    assert "wheels" not in lock_packages(project)["sdist-flit"]
    assert project.envspec("check").returncode == 0


# ── 4: a build that fails ─────────────────────────────────────────────────────────────────────


def test_failing_build_reports_the_backend_and_changes_nothing(project: Project) -> None:
    project.write_spec(HEADER + 'requirements = ["wheel-dep"]\n')
    sync_ok(project)
    lock_before = (project.root / "pylock.toml").read_bytes()
    venv_before = tree_state(project.root / ".venv")

    project.write_spec(HEADER + 'requirements = ["wheel-dep", "sdist-broken"]\n')
    for command in ("sync", "lock"):
        done = project.envspec(command)
        assert done.returncode == 3, (command, done.stderr)
        assert "sdist-broken" in done.stderr
        assert any(
            hook in done.stderr
            for hook in (
                "get_requires_for_build_wheel",
                "prepare_metadata_for_build_wheel",
                "build_wheel",
            )
        ), done.stderr
        assert "no Fortran compiler" in done.stderr
        assert "Traceback" not in done.stderr
        assert (project.root / "pylock.toml").read_bytes() == lock_before
        assert tree_state(project.root / ".venv") == venv_before
    assert installed(project) == {"wheel-dep": "1.1.0"}


# ── 5: only-binary ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("only_binary", ['["half-built"]', '[":all:"]'])
def test_only_binary_refuses_an_sdist_only_pin(project: Project, only_binary: str) -> None:
    project.write_spec(
        HEADER
        + f'requirements = ["half-built==1.0.0"]\n[resolution]\nonly-binary = {only_binary}\n'
    )
    done = project.envspec("sync")
    assert done.returncode == 2, done.stderr
    assert "half-built" in done.stderr
    assert "only an sdist" in done.stderr and "only-binary" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project.root / "pylock.toml").exists()


def test_only_binary_chooses_the_wheel_and_builds_nothing(
    tmp_path: Path, project: Project, server: IndexServer
) -> None:
    cache = own_cache(tmp_path)
    project.write_spec(
        HEADER + 'requirements = ["half-built"]\n[resolution]\nonly-binary = ["half-built"]\n'
    )
    sync_ok(project)
    entry = lock_packages(project)["half-built"]
    assert entry["version"] == "2.0.0" and entry["wheels"]
    assert installed(project) == {"half-built": "2.0.0", "wheel-dep": "1.1.0"}
    assert [r.path for r in server.log if r.path.endswith(".tar.gz")] == []
    assert not (cache / "built-v1").exists() or not list((cache / "built-v1").rglob("*.whl"))


def test_only_binary_refuses_a_local_directory_as_a_spec_error(project: Project) -> None:
    copy_fixture_project("mylib", project.root / "libs" / "mylib")
    project.write_spec(
        HEADER + 'requirements = ["mylib"]\n[resolution]\nonly-binary = [":all:"]\n'
        '[sources]\nmylib = { path = "libs/mylib" }\n'
    )
    done = project.envspec("sync")
    assert "mylib" in done.stderr and "only-binary" in done.stderr
    assert not (project.root / "pylock.toml").exists()
    assert done.returncode == 2, done.stderr


# ── 6-7: local directories ────────────────────────────────────────────────────────────────────


def stale_findings(project: Project) -> list[dict[str, Any]]:
    done = project.envspec("check", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    return [f for f in report["findings"] if f["kind"] == "stale-lock"]


def test_local_directory_source(project: Project) -> None:
    library = copy_fixture_project("mylib", project.root / "libs" / "mylib")
    project.write_spec(
        HEADER + 'requirements = ["mylib"]\n[sources]\nmylib = { path = "libs/mylib" }\n'
    )
    sync_ok(project)
    entry = lock_packages(project)["mylib"]
    assert entry["directory"]["path"] == "libs/mylib"
    assert not entry["directory"].get("editable", False)
    assert "version" not in entry
    assert str(project.root) not in project.lock_text  # relative, so the lock can be committed
    assert in_venv(project, "import mylib; print(mylib.greeting())") == "hello from mylib 1.0.0"
    assert installed(project) == {"mylib": "1.0.0", "wheel-dep": "1.1.0"}
    assert direct_url(project, "mylib")["url"] == library.as_uri()
    assert not direct_url(project, "mylib")["dir_info"].get("editable", False)
    assert project.envspec("check").returncode == 0

    # a code edit of a non-editable install makes the lock stale, and sync rebuilds
    module = library / "mylib" / "__init__.py"
    module.write_text(module.read_text().replace("hello from", "changed:"))
    assert in_venv(project, "import mylib; print(mylib.greeting())") == "hello from mylib 1.0.0"
    text = project.envspec("check")
    assert text.returncode == 1 and "mylib" in text.stdout + text.stderr
    findings = stale_findings(project)
    assert findings and any("mylib" in json.dumps(f) for f in findings)
    sync_ok(project)
    assert in_venv(project, "import mylib; print(mylib.greeting())") == "changed: mylib 1.0.0"
    assert project.envspec("check").returncode == 0


def test_editable_directory_source(project: Project) -> None:
    library = copy_fixture_project("flitlib", project.root / "flitlib")
    project.write_spec(
        HEADER
        + 'requirements = ["flitlib"]\n[sources]\nflitlib = { path = "flitlib", editable = true }\n'
    )
    sync_ok(project)
    entry = lock_packages(project)["flitlib"]
    assert entry["directory"] == {"path": "flitlib", "editable": True}
    assert "version" not in entry
    assert direct_url(project, "flitlib") == {
        "url": library.as_uri(),
        "dir_info": {"editable": True},
    }
    script = project.root / ".venv" / "bin" / "flitlib"

    def run_script() -> str:
        done = subprocess.run(
            [str(script)], capture_output=True, text=True, cwd=project.root.parent
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert run_script() == "hello from flitlib 0.3.0"

    # a code edit is live, without a sync, and the lock stays fresh
    module = library / "flitlib" / "__init__.py"
    module.write_text(module.read_text().replace("hello from", "edited:"))
    assert run_script() == "edited: flitlib 0.3.0"
    check = project.envspec("check")
    assert check.returncode == 0, check.stdout + check.stderr

    # a change of its build configuration is a change of what is installed
    pyproject = library / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("dependencies = []", 'dependencies = ["wheel-dep"]')
    )
    findings = stale_findings(project)
    assert findings and any("flitlib" in json.dumps(f) for f in findings)
    sync_ok(project)
    assert installed(project) == {"flitlib": "0.3.0", "wheel-dep": "1.1.0"}
    assert [d["name"] for d in lock_packages(project)["flitlib"]["dependencies"]] == ["wheel-dep"]
    assert run_script() == "edited: flitlib 0.3.0"
    assert project.envspec("check").returncode == 0


# ── 8-9: archives by URL and by path ──────────────────────────────────────────────────────────

OLD_WHEEL = "wheel_dep-1.0.0-py3-none-any.whl"


def sha256_of(server: IndexServer, filename: str) -> str:
    return str(server.app.built.artifacts[filename].sha256)


@pytest.mark.parametrize("form", ["sources", "requirement"])
def test_url_wheel_with_its_hash(project: Project, server: IndexServer, form: str) -> None:
    sha256 = sha256_of(server, OLD_WHEEL)
    url = f"{server.file_url(OLD_WHEEL)}#sha256={sha256}"
    if form == "sources":
        project.write_spec(
            HEADER + f'requirements = ["wheel-dep"]\n[sources]\nwheel-dep = {{ url = "{url}" }}\n'
        )
    else:
        project.write_spec(HEADER + f'requirements = ["wheel-dep @ {url}"]\n')
    sync_ok(project)
    entry = lock_packages(project)["wheel-dep"]
    assert entry["archive"]["url"] == server.file_url(OLD_WHEEL)
    assert entry["archive"]["hashes"] == {"sha256": sha256}
    assert entry["version"] == "1.0.0"  # the URL's file, not the index's newest (1.1.0)
    assert installed(project) == {"wheel-dep": "1.0.0"}
    recorded = direct_url(project, "wheel-dep")
    assert recorded["url"] == server.file_url(OLD_WHEEL)
    assert recorded["archive_info"]["hashes"] == {"sha256": sha256}
    assert project.envspec("check").returncode == 0


def test_url_wheel_with_a_wrong_hash_is_refused(project: Project, server: IndexServer) -> None:
    real = sha256_of(server, OLD_WHEEL)
    wrong = ("0" if real[0] != "0" else "1") + real[1:]
    url = f"{server.file_url(OLD_WHEEL)}#sha256={wrong}"
    project.write_spec(
        HEADER + f'requirements = ["wheel-dep"]\n[sources]\nwheel-dep = {{ url = "{url}" }}\n'
    )
    done = project.envspec("sync")
    assert done.returncode == 3, done.stderr
    assert wrong in done.stderr and real in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project.root / "pylock.toml").exists()
    assert not list(project.root.glob(".venv/lib/python3.*/site-packages/wheel_dep*"))


def test_url_wheel_with_a_wrong_hash_blames_the_spec_not_the_index(
    project: Project, server: IndexServer
) -> None:
    real = sha256_of(server, OLD_WHEEL)
    wrong = ("0" if real[0] != "0" else "1") + real[1:]
    url = f"{server.file_url(OLD_WHEEL)}#sha256={wrong}"
    project.write_spec(HEADER + f'requirements = ["wheel-dep @ {url}"]\n')
    done = project.envspec("sync")
    assert done.returncode == 3
    assert "index promised" not in done.stderr and "wheel-dep" in done.stderr


def test_local_wheel_and_local_sdist_paths(project: Project, server: IndexServer) -> None:
    dist = project.root / "dist"
    dist.mkdir(parents=True)
    for filename in ("wheel_dep-1.1.0-py3-none-any.whl", "sdist_setup-1.0.0.tar.gz"):
        (dist / filename).write_bytes(server.app.built.artifacts[filename].data)
    project.write_spec(
        HEADER + 'requirements = ["sdist-setup", "wheel-dep"]\n[sources]\n'
        'wheel-dep = { path = "dist/wheel_dep-1.1.0-py3-none-any.whl" }\n'
        'sdist-setup = { path = "dist/sdist_setup-1.0.0.tar.gz" }\n'
    )
    sync_ok(project)
    packages = lock_packages(project)
    assert packages["wheel-dep"]["archive"]["path"] == "dist/wheel_dep-1.1.0-py3-none-any.whl"
    assert packages["sdist-setup"]["archive"]["path"] == "dist/sdist_setup-1.0.0.tar.gz"
    assert packages["sdist-setup"]["archive"]["hashes"] == {
        "sha256": sha256_of(server, "sdist_setup-1.0.0.tar.gz")
    }
    assert str(project.root) not in project.lock_text
    assert installed(project) == {"sdist-setup": "1.0.0", "wheel-dep": "1.1.0"}
    in_venv(project, "import sdist_setup, wheel_dep")
    assert project.envspec("check").returncode == 0


# ── 10-11: what envspec refuses ───────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            'requirements = ["mylib @ ./libs/mylib"]\n',
            ["[sources]", "mylib"],
            id="path-in-requirement",
        ),
        pytest.param(
            'requirements = ["wheel-dep"]\n[sources]\nmylib = { path = "libs/mylib" }\n',
            ["mylib", "no requirement names"],
            id="source-nobody-requires",
        ),
        pytest.param(
            'requirements = ["wheel-dep"]\n[sources]\n'
            'wheel-dep = { url = "http://127.0.0.1:9/files/wheel_dep-1.0.0-py3-none-any.whl", '
            "editable = true }\n",
            ["wheel-dep", "editable"],
            id="editable-url",
        ),
        pytest.param(
            'requirements = ["mylib"]\n[sources]\n'
            'mylib = { path = "dist/mylib-1.0.0-py3-none-any.whl" }\n',
            ["dist/mylib-1.0.0-py3-none-any.whl", "does not exist"],
            id="missing-archive",
        ),
        pytest.param(
            'requirements = ["mylib"]\n[sources]\nmylib = { path = "libs/nowhere" }\n',
            ["libs/nowhere", "does not exist"],
            id="missing-directory",
        ),
        pytest.param(
            'requirements = ["mylib"]\n[sources]\nmylib = { path = "libs/notes" }\n',
            ["libs/notes", "not a Python project"],
            id="not-a-project",
        ),
        pytest.param(
            'requirements = ["mylib"]\n[sources]\nmylib = { path = "flitlib" }\n',
            ["flitlib", "mylib"],
            id="wrong-project-name",
        ),
    ],
)
def test_sources_that_cannot_be_used(project: Project, body: str, expected: list[str]) -> None:
    (project.root / "libs" / "notes").mkdir(parents=True)
    (project.root / "libs" / "notes" / "README.md").write_text("not a Python project\n")
    copy_fixture_project("flitlib", project.root / "flitlib")
    project.write_spec(HEADER + body)
    done = project.envspec("sync")
    assert done.returncode == 2, done.stderr
    for words in expected:
        assert words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (project.root / "pylock.toml").exists()
    assert not (project.root / ".venv").exists()


@pytest.fixture
def url_dependent(project: Project, server: IndexServer) -> Iterator[str]:
    """A local flit project that depends on ``wheel-dep @ <url>``; yields the URL."""
    url = server.file_url(OLD_WHEEL)
    package = project.root / "urldep"
    (package / "urldep").mkdir(parents=True)
    (package / "urldep" / "__init__.py").write_text('"""Depends on a URL."""\n')
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core>=3.4,<4"]\nbuild-backend = "flit_core.buildapi"\n'
        f'[project]\nname = "urldep"\nversion = "1.0"\ndescription = "x"\n'
        f'dependencies = ["wheel-dep @ {url}"]\n'
    )
    yield url


def test_a_url_in_a_dependency_is_refused_until_the_spec_names_it(
    project: Project, url_dependent: str
) -> None:
    project.write_spec(
        HEADER + 'requirements = ["urldep"]\n[sources]\nurldep = { path = "urldep" }\n'
    )
    done = project.envspec("sync")
    assert done.returncode == 2, done.stderr
    assert "urldep" in done.stderr and url_dependent in done.stderr
    assert "[sources]" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project.root / "pylock.toml").exists()

    # following the hint works
    project.write_spec(
        HEADER + 'requirements = ["urldep", "wheel-dep"]\n[sources]\nurldep = { path = "urldep" }\n'
        f'wheel-dep = {{ url = "{url_dependent}" }}\n'
    )
    sync_ok(project)
    assert installed(project) == {"urldep": "1.0", "wheel-dep": "1.0.0"}
