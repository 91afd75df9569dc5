"""No secret in any file or output (issue 12, class 3), through the real CLI.

A second loopback server serves the URL sources and requires basic auth; the spec names them with
the password in the URL (``[sources]`` with ``#sha256=``, and ``name @ URL`` without). Every
command envspec has is run, and its output, the lock, the installed ``direct_url.json``, the
exports, and every file (name and content) under the project and the cache are searched for the
password: it is in the spec the user wrote, and nowhere else. A ``sync --frozen`` from the redacted
lock still downloads, with the spec's credentials or the netrc's; a malformed netrc is never
quoted.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import Project
from tests.support.fixtures import IndexServerFactory
from tests.support.index_server import IndexServer

pytestmark = pytest.mark.slow

SECRET = "Sup3r-s3cret-pw"
HEADER = 'python = "3.12"\n'
LIB_B = "lib_b-1.0.0-py3-none-any.whl"
BASE = "base-2.0.0-py3-none-any.whl"


@pytest.fixture
def index(index_server: IndexServerFactory) -> IndexServer:
    """The open index the spec's other requirements come from."""
    return index_server("basic")


@pytest.fixture
def files(index_server: IndexServerFactory) -> IndexServer:
    """Where the URL sources live: every request needs alice's password."""
    return index_server("basic", auth=("alice", SECRET))


def _file_url(files: IndexServer, filename: str, *, password: str | None = SECRET) -> str:
    userinfo = "" if password is None else f"alice:{password}@"
    return f"http://{userinfo}127.0.0.1:{files.port}/files/{filename}"


def _write_spec(project: Project, files: IndexServer, *, password: str | None = SECRET) -> None:
    sha256 = files.app.built.artifacts[LIB_B].sha256
    lib_b = f"{_file_url(files, LIB_B, password=password)}#sha256={sha256}"
    base = _file_url(files, BASE, password=password)
    project.write_spec(
        HEADER
        + f'requirements = ["lib-b", "base @ {base}", "right"]\n'
        + f'[sources]\nlib-b = {{ url = "{lib_b}" }}\n'
    )


def _run(project: Project, *args: str, cache: Path, expect: int = 0) -> str:
    done = project.envspec(*args, env={"ENVSPEC_CACHE_DIR": str(cache)})
    assert done.returncode == expect, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done.stdout + done.stderr


def _files_holding(root: Path, secret: str, *, skip: Path | None = None) -> list[str]:
    """Every file (or directory) under ``root`` whose name or content holds ``secret``."""
    found = []
    needle = secret.encode()
    for path in root.rglob("*"):
        if path == skip:
            continue
        if secret in str(path.relative_to(root)):
            found.append(str(path))
        elif path.is_file() and not path.is_symlink() and needle in path.read_bytes():
            found.append(str(path))
    return found


def _direct_urls(project: Project) -> dict[str, str]:
    found = {}
    for path in (project.root / ".venv").glob("lib/python3*/site-packages/*.dist-info/direct_url.json"):
        found[path.parent.name.split("-")[0]] = json.loads(path.read_text())["url"]
    return found


def test_no_command_writes_or_prints_the_secret(
    tmp_path: Path, index: IndexServer, files: IndexServer
) -> None:
    project = Project(tmp_path / "proj", index.url)
    cache = tmp_path / "cache"
    _write_spec(project, files)
    outputs = [
        _run(project, "lock", "-v", cache=cache),
        _run(project, "sync", "-v", cache=cache),
        _run(project, "sync", "--dry-run", "-v", cache=cache),
        _run(project, "lock", "--check", "-v", cache=cache),
        _run(project, "check", "-v", cache=cache),
        _run(project, "check", "--json", cache=cache),
        _run(project, "export", cache=cache),
        _run(project, "export", "--format", "pylock.toml", cache=cache),
        _run(project, "export", "-o", "requirements.txt", cache=cache),
        _run(project, "tree", cache=cache),
        _run(project, "why", "base", cache=cache),
        _run(project, "run", "--", "python", "-c", "import lib_b, base", cache=cache),
    ]
    for output in outputs:
        assert SECRET not in output

    # the lock says where the files are and which account reads them, with the password redacted
    lock = project.lock_text
    assert SECRET not in lock
    assert f"alice:***@127.0.0.1:{files.port}/files/{LIB_B}" in lock
    assert f"base @ http://alice:***@127.0.0.1:{files.port}/files/{BASE}" in lock
    assert _direct_urls(project) == {
        "lib_b": f"http://alice:***@127.0.0.1:{files.port}/files/{LIB_B}",
        "base": f"http://alice:***@127.0.0.1:{files.port}/files/{BASE}",
    }
    # the requirements.txt is for pip: no userinfo, so that pip asks its netrc or keyring
    exported = (project.root / "requirements.txt").read_text()
    assert f"lib-b @ http://127.0.0.1:{files.port}/files/{LIB_B}" in exported

    # the password is in the spec the user wrote, and in no other file envspec touched
    assert _files_holding(project.root, SECRET, skip=project.root / "envspec.toml") == []
    assert _files_holding(cache, SECRET) == []

    # and the files really were fetched with it (the server refuses anything else)
    fetched = files.requests_for("/files/")
    assert fetched and all(r.authorization and r.status == 200 for r in fetched)


def test_add_with_a_url_never_echoes_the_secret(
    tmp_path: Path, index: IndexServer, files: IndexServer
) -> None:
    project = Project(tmp_path / "proj", index.url)
    project.write_spec(HEADER + "requirements = []\n")
    added = _run(project, "add", "--no-sync", f"base @ {_file_url(files, BASE)}", cache=tmp_path / "c")
    assert SECRET not in added and "alice:***@" in added
    assert SECRET in (project.root / "envspec.toml").read_text()  # where the user asked for it
    assert SECRET not in project.lock_text


def test_a_frozen_sync_from_the_redacted_lock_takes_the_password_from_the_spec(
    tmp_path: Path, index: IndexServer, files: IndexServer
) -> None:
    project = Project(tmp_path / "proj", index.url)
    _write_spec(project, files)
    _run(project, "lock", cache=tmp_path / "cache-lock")
    files.clear()

    # a cold cache: everything is downloaded again, from the lock's redacted URLs
    _run(project, "sync", "--frozen", cache=tmp_path / "cache-frozen")
    fetched = files.requests_for("/files/")
    assert {r.path.rsplit("/", 1)[-1] for r in fetched if r.status == 200} == {LIB_B, BASE}
    assert (project.root / ".venv").is_dir()

    # a new password alone does not make the lock stale; the wrong one is refused, unquoted
    _write_spec(project, files, password="wrong-pw-123")
    _run(project, "lock", "--check", cache=tmp_path / "cache-lock")
    subprocess.run(["rm", "-rf", str(project.root / ".venv")], check=True)
    refused = _run(project, "sync", "--frozen", cache=tmp_path / "cache-wrong", expect=3)
    assert "HTTP 401" in refused and "alice:***@" in refused
    assert SECRET not in refused and "wrong-pw-123" not in refused


def test_credentials_from_netrc_for_a_url_without_them(
    tmp_path: Path, index: IndexServer, files: IndexServer
) -> None:
    netrc = Path(os.environ["NETRC"])
    netrc.write_text(f"machine 127.0.0.1 login alice password {SECRET}\n")
    project = Project(tmp_path / "proj", index.url)
    _write_spec(project, files, password=None)
    cache = tmp_path / "cache"
    output = _run(project, "sync", "-v", cache=cache)
    assert SECRET not in output
    assert f"http://127.0.0.1:{files.port}/files/{LIB_B}" in project.lock_text
    assert _files_holding(project.root, SECRET) == [] and _files_holding(cache, SECRET) == []
    assert all(r.authorization for r in files.requests_for("/files/"))


def test_a_malformed_netrc_is_never_printed(tmp_path: Path, index: IndexServer) -> None:
    netrc = Path(os.environ["NETRC"])
    # a password with a space in it: Python's parser quotes the second half in its error
    netrc.write_text(f"machine 127.0.0.1 login alice password hunter2 {SECRET}\n")
    project = Project(tmp_path / "proj", index.url)
    project.write_spec(HEADER + 'requirements = ["lib-b"]\n')
    cache = tmp_path / "cache"
    outputs = [
        _run(project, "lock", cache=cache),
        _run(project, "sync", "-v", cache=cache),
        _run(project, "check", cache=cache),
        _run(project, "export", cache=cache),
    ]
    for output in outputs:
        assert SECRET not in output and "hunter2" not in output
    warning = [line for line in outputs[0].splitlines() if "netrc file" in line]
    assert len(warning) == 1 and str(netrc) in warning[0] and "near line " in warning[0]
