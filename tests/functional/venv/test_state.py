"""The no-op sync's state file and the inter-process venv lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from envspec.errors import EXIT_OUTSIDE
from envspec.venv.mutex import VenvBusy, lock_path, venv_lock
from envspec.venv.state import STATE_FILENAME, SyncState, clear_state, read_state, write_state

REPO = Path(__file__).resolve().parents[3]


def _state(**changes: object) -> SyncState:
    values: dict[str, object] = {
        "lock_digest": "sha256:aa",
        "groups": ("dev", "docs"),
        "spec_digest": "sha256:bb",
        "python": "/usr/bin/python3.12 3.12.1",
        "fingerprint": "f" * 64,
        "layout": {"root": "/p/.venv", "purelib": "/p/.venv/lib/python3.12/site-packages"},
    }
    values.update(changes)
    return SyncState(**values)  # type: ignore[arg-type]


def test_state_round_trips_and_clears(tmp_path: Path) -> None:
    assert read_state(tmp_path) is None
    state = _state()
    write_state(tmp_path, state)
    assert read_state(tmp_path) == state
    assert sorted(p.name for p in tmp_path.iterdir()) == [STATE_FILENAME]  # no temp files left
    other = _state(groups=(), fingerprint="0" * 64)
    write_state(tmp_path, other)
    assert read_state(tmp_path) == other
    clear_state(tmp_path)
    assert read_state(tmp_path) is None
    clear_state(tmp_path)  # clearing twice is fine


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "[]",
        json.dumps({**_state().to_dict(), "format": 999}),
        json.dumps({**_state().to_dict(), "groups": "dev"}),
        json.dumps({k: v for k, v in _state().to_dict().items() if k != "fingerprint"}),
        json.dumps({**_state().to_dict(), "layout": {"root": 1}}),
    ],
    ids=["syntax", "empty", "list", "format", "groups", "missing-key", "layout"],
)
def test_any_doubt_about_the_state_reads_as_none(tmp_path: Path, content: str) -> None:
    (tmp_path / STATE_FILENAME).write_text(content)
    assert read_state(tmp_path) is None


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from envspec.venv.mutex import venv_lock
    root, marker, hold = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    with venv_lock(root):
        marker.write_text("held")
        time.sleep(hold)
        marker.write_text(repr(time.time()))
    """
)


def _start_holder(tmp_path: Path, hold: float) -> tuple[subprocess.Popen[bytes], Path]:
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path / ".venv"), str(marker), str(hold)], cwd=REPO
    )
    deadline = time.monotonic() + 10
    while not marker.exists():
        assert child.poll() is None, "the lock holder died"
        assert time.monotonic() < deadline, "the lock holder never took the lock"
        time.sleep(0.01)
    return child, marker


def test_venv_lock_serialises_two_processes(tmp_path: Path) -> None:
    child, marker = _start_holder(tmp_path, hold=0.6)
    try:
        with pytest.raises(VenvBusy) as caught, venv_lock(tmp_path / ".venv", timeout=0.05):
            pass
        assert caught.value.exit_code == EXIT_OUTSIDE
        with venv_lock(tmp_path / ".venv", timeout=10):
            acquired = time.time()
            released = float(marker.read_text())  # the holder finished before we got in
        assert released <= acquired
    finally:
        child.wait(timeout=10)
    # the lock lives inside the venv: nothing appears in the project directory
    assert lock_path(tmp_path / ".venv").parent == tmp_path / ".venv"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "marker") == [".venv"]


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    child, _ = _start_holder(tmp_path, hold=60)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    started = time.monotonic()
    with venv_lock(tmp_path / ".venv", timeout=5):
        pass
    assert time.monotonic() - started < 2
