"""The CLI as a user meets it: help, version, init, errors, exit codes (real subprocesses)."""


from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from envspec import __version__
from tests.support.pythons import require_python

COMMANDS = ["init", "lock", "sync", "check", "add", "remove", "tree", "why", "export", "run", "python"]


def envspec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envspec", *args], cwd=cwd, capture_output=True, text=True
    )


def test_version() -> None:
    done = envspec("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"envspec {__version__}"


def test_help_lists_every_command_and_the_exit_codes() -> None:
    done = envspec("--help")
    assert done.returncode == 0
    for name in COMMANDS:
        assert f"    {name} " in done.stdout
    assert "exit codes" in done.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_has_help_with_an_example(name: str) -> None:
    done = envspec(name, "--help")
    assert done.returncode == 0
    assert f"usage: envspec {name}" in done.stdout
    assert "example:\n  envspec " in done.stdout


def test_no_command_prints_help_and_exits_2() -> None:
    done = envspec()
    assert done.returncode == 2
    assert "usage: envspec" in done.stderr


def test_unknown_option_exits_2() -> None:
    assert envspec("lock", "--no-such-option").returncode == 2


def test_init_writes_a_valid_starter_spec_and_refuses_to_overwrite(tmp_path: Path) -> None:
    from envspec.spec.load import load_spec

    done = envspec("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    spec_path = tmp_path / "envspec.toml"
    spec = load_spec(spec_path)
    assert spec.requirements == ()
    # python is a floor (a teammate with an older supported Python can sync), and says why
    assert str(spec.python).startswith(">=3.")
    assert f'python = "{spec.python}"' in done.stderr and "sync uses the newest" in done.stderr
    assert "# \"requests>=2.31\"" in spec_path.read_text()

    spec_path.write_text('python = "3.11"\nrequirements = ["mine"]\n')
    again = envspec("init", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert "--force" in again.stderr
    assert "mine" in spec_path.read_text()

    forced = envspec("init", "--force", cwd=tmp_path)
    assert forced.returncode == 0
    assert "mine" not in spec_path.read_text()


def test_init_with_explicit_python(tmp_path: Path) -> None:
    python = require_python("3.11")
    done = envspec("init", "--python", str(python), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert 'python = ">=3.11"' in (tmp_path / "envspec.toml").read_text()
    assert "the Python given" in done.stderr


def test_a_broken_spec_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "envspec.toml").write_text(
        'python = "3.1x"\n'
        'requirments = ["rich"]\n'
        'requirements = ["requests>=>2"]\n'
        "[resolution]\n"
        'prereleases = "sometimes"\n'
    )
    done = envspec("lock", "--check", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    err = done.stderr
    assert "4 problems" in err
    assert "did you mean 'requirements'?" in err
    assert "'requests>=>2'" in err
    assert "'sometimes'" in err
    assert "envspec.toml:1" in err


def test_verbose_shows_a_traceback_on_errors(tmp_path: Path) -> None:
    (tmp_path / "envspec.toml").write_text("python = 3\n")
    done = envspec("-v", "lock", "--check", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" in done.stderr


def test_missing_spec_says_how_to_start(tmp_path: Path) -> None:
    done = envspec("lock", cwd=tmp_path)
    assert done.returncode == 2
    assert "No envspec.toml (or pyproject.toml)" in done.stderr
    assert "envspec init" in done.stderr


def test_directory_option(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    done = envspec("-C", str(tmp_path / "proj"), "lock", "--check")
    assert done.returncode == 2
    assert "No envspec.toml (or pyproject.toml) in" in done.stderr and "proj" in done.stderr
    missing = envspec("-C", str(tmp_path / "nope"), "lock")
    assert missing.returncode == 2
    assert "cannot use -C" in missing.stderr


def test_python_lists_interpreters_and_the_spec_choice(tmp_path: Path) -> None:
    import json

    require_python("3.12")  # the newest that the spec allows, so the one chosen
    (tmp_path / "envspec.toml").write_text('python = ">=3.11,<3.13"\n')
    done = envspec("python", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "selects" in done.stderr
    chosen = [line for line in done.stdout.splitlines() if line.startswith("*")]
    assert len(chosen) == 1 and "3.12." in chosen[0]
    listing = json.loads(envspec("python", "--json", cwd=tmp_path).stdout)
    assert listing["requested"] == "<3.13,>=3.11"
    versions = {i["version"][:4] for i in listing["interpreters"]}
    assert {"3.11", "3.12"} <= versions
    assert listing["chosen"] in {i["path"] for i in listing["interpreters"]}


def test_init_offers_pyproject_toml_as_the_spec(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nrequires-python = ">=3.11"\n')
    done = envspec("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "already a spec" in done.stderr and "[tool.envspec]" in done.stderr
    assert not (tmp_path / "envspec.toml").exists()
    separate = envspec("init", "--envspec-toml", cwd=tmp_path)
    assert separate.returncode == 0 and (tmp_path / "envspec.toml").exists()
    (tmp_path / "envspec.toml").unlink()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    missing = envspec("init", cwd=tmp_path)
    assert missing.returncode == 2 and "requires-python" in missing.stderr
