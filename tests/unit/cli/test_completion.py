"""Completion scripts list every command and option the parser has, and are valid shell."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from envspec.cli.completion import Command, completion_script


def envspec(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "envspec", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_bash_script_is_valid_and_complete() -> None:
    script = envspec("completion", "bash")
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    for name in ["init", "lock", "sync", "check", "add", "remove", "tree", "why", "export", "run", "python"]:
        assert f"    {name}) opts=" in script
    assert "--no-verify-files" in script and "--upgrade-package" in script


def test_bash_completes_a_command_and_its_options() -> None:
    script = envspec("completion", "bash")
    probe = script + (
        'COMP_WORDS=(envspec sy); COMP_CWORD=1; _envspec; echo "${COMPREPLY[@]}"\n'
        'COMP_WORDS=(envspec sync --fr); COMP_CWORD=2; _envspec; echo "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True)
    assert done.stdout.splitlines() == ["sync", "--frozen"]


def test_zsh_and_fish() -> None:
    assert envspec("completion", "zsh").startswith("autoload -U +X bashcompinit")
    fish = envspec("completion", "fish")
    assert "-a check -d 'verify spec, lock and venv agree (for CI)'" in fish
    if shutil.which("fish"):
        assert subprocess.run(["fish", "-n"], input=fish, text=True).returncode == 0


def test_fish_quotes_help_text() -> None:
    script = completion_script("fish", [Command("x", "it's a \\ test", [("--y", "don't")])], [])
    assert "'it\\'s a \\\\ test'" in script and "'don\\'t'" in script


def test_unknown_shell_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "envspec", "completion", "tcsh"], capture_output=True, text=True)
    assert done.returncode == 2 and "invalid choice" in done.stderr


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_a_closed_pipe_is_not_an_error(shell: str) -> None:
    done = subprocess.run(
        f"{sys.executable} -m envspec completion {shell} | head -1", shell=True,
        capture_output=True, text=True,
    )
    assert "error" not in done.stderr.lower()
