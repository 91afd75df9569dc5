"""A lock, a command line and a .python-version are untrusted: the environment ids and version
requests they carry are checked where they are read, never turned into huge numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from envspec.commands.project import covered_for
from envspec.errors import UserError
from envspec.lock import text as lockfile
from envspec.pythons.discover import python_version_file, version_request
from envspec.spec.load import parse_spec
from envspec.values.environments import environment_by_id

LOCK = '''lock-version = "1.0"
created-by = "envspec"
packages = []

[tool.envspec]
environments = [{ids}]
'''


@pytest.mark.parametrize(
    "ident", ["cp3" + "9" * 5000 + "-linux-x86_64", "cp312-solaris-sparc", "py312-linux-x86_64", ""]
)
def test_a_lock_naming_an_unknown_environment_is_bad_input(ident: str) -> None:
    assert environment_by_id(ident) is None
    with pytest.raises(UserError) as caught:
        lockfile.loads(LOCK.format(ids=repr(ident)))
    assert "environment envspec does not know" in str(caught.value)
    assert len(str(caught.value)) < 400  # quoted, not pasted whole


def test_known_ids_read_back() -> None:
    lock = lockfile.loads(LOCK.format(ids="'cp312-linux-x86_64', 'cp313-windows-arm64'"))
    assert lock.tool is not None
    found = environment_by_id("cp313-windows-arm64")
    assert found is not None and found.minor == (3, 13)


def test_version_requests_are_bounded() -> None:
    assert str(version_request("3.11")) == "==3.11.*"
    assert str(version_request("cp312")) == "==3.12.*"
    assert version_request("3." + "1" * 5000) is None
    assert version_request("/usr/bin/python3") is None


def test_an_absurd_python_version_option_is_a_user_error(tmp_path: Path) -> None:
    spec = parse_spec('python = ">=3.9"\n', path=tmp_path / "envspec.toml")
    with pytest.raises(UserError):
        covered_for(spec, "3." + "9" * 5000, "linux")
    with pytest.raises(UserError):
        covered_for(spec, "3.11.7.1", "linux")


def test_a_huge_python_version_file_is_read_no_further_than_its_start(tmp_path: Path) -> None:
    (tmp_path / ".python-version").write_text("3.12\n" + "x" * 10_000_000)
    assert python_version_file(tmp_path) == "3.12"
