"""The one process runner: a timeout and a command that cannot start become one error, which
each caller words itself; callers take the runner as an argument, so a fake can stand in."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from envspec.pythons.probe import InterpreterProbeFailed, probe_interpreter
from envspec.pythons.runner import CommandNotRun, run_command
from envspec.venv.create import VenvCreationFailed, ensure_venv
from packaging.version import Version
from tests.support.processes import RecordingRunner


def test_a_finished_command_is_completed_whatever_its_status() -> None:
    done = run_command([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"], timeout=30)
    assert (done.returncode, done.stdout.strip()) == (3, b"out")


def test_a_timeout_and_a_missing_file_are_one_error(tmp_path: Path) -> None:
    with pytest.raises(CommandNotRun) as slow:
        run_command([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.2)
    assert slow.value.timed_out and "0.2 s" in slow.value.reason
    with pytest.raises(CommandNotRun) as missing:
        run_command([str(tmp_path / "no-such-python")], timeout=5)
    assert not missing.value.timed_out and missing.value.reason


def test_the_probe_words_a_fake_runner_s_timeout(tmp_path: Path) -> None:
    runner = RecordingRunner(fail=CommandNotRun(["python"], timed_out=True, reason="slow"))
    with pytest.raises(InterpreterProbeFailed, match="did not answer within 10 s"):
        probe_interpreter(Path(sys.executable), cache_dir=tmp_path, runner=runner)
    assert runner.commands[0][:3] == [str(Path(sys.executable).absolute()), "-I", "-c"]


def test_venv_creation_words_a_command_that_cannot_start(tmp_path: Path) -> None:
    runner = RecordingRunner(
        fail=CommandNotRun(["python"], timed_out=False, reason="Permission denied")
    )
    with pytest.raises(VenvCreationFailed, match=r"it cannot be run \(Permission denied\)"):
        ensure_venv(
            tmp_path / ".venv",
            interpreter=Path(sys.executable),
            version=Version("3.12"),
            scheme={
                "purelib": "lib/python3.12/site-packages",
                "platlib": "lib/python3.12/site-packages",
                "scripts": "bin",
                "data": ".",
                "include": "include/python3.12",
            },
            runner=runner,
        )
    assert runner.commands[0][1:5] == ["-I", "-m", "venv", "--without-pip"]
