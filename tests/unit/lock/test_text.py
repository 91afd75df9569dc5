"""pylock.toml text ↔ Pylock: other tools' locks read, ours deterministic, bad ones explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from envspec.lock import text as lockfile

LOCKS = Path(__file__).resolve().parents[3] / "fixtures" / "locks"


@pytest.mark.parametrize(
    ("filename", "created_by"), [("pylock.uv.toml", "uv"), ("pylock.pip.toml", "pip")]
)
def test_reads_locks_written_by_other_tools(filename: str, created_by: str) -> None:
    lock = lockfile.loads((LOCKS / filename).read_text(encoding="utf-8"))
    assert lock.created_by == created_by
    versions = {p.name: p.version for p in lock.packages}
    # both were made from `rich>=13`, `click>=8.1`
    assert {"rich", "click", "pygments", "markdown-it-py", "mdurl"} <= set(versions)
    assert versions["rich"] >= Version("13")
    assert all(p.wheels for p in lock.packages)


def test_dumps_is_deterministic_and_round_trips() -> None:
    lock = lockfile.loads((LOCKS / "pylock.uv.toml").read_text(encoding="utf-8"))
    text = lockfile.dumps(lock)
    assert text == lockfile.dumps(lockfile.loads(text))
    assert lockfile.loads(text).packages == lock.packages


def test_dumps_sorts_packages_and_files_whatever_the_input_order() -> None:
    original = lockfile.loads((LOCKS / "pylock.uv.toml").read_text(encoding="utf-8"))
    from packaging.pylock import Pylock

    shuffled = Pylock(
        lock_version=original.lock_version,
        created_by=original.created_by,
        requires_python=original.requires_python,
        packages=list(reversed(original.packages)),
    )
    assert lockfile.dumps(shuffled) == lockfile.dumps(original)
    names = [p.name for p in lockfile.loads(lockfile.dumps(shuffled)).packages]
    assert names == sorted(names)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("lock-version = ", "Invalid value"),
        ('lock-version = "1.0"\npackages = []\n', "created-by"),
        ('lock-version = "7.0"\ncreated-by = "x"\npackages = []\n', "not supported"),
    ],
)
def test_invalid_lock_is_a_user_error_naming_the_file(text: str, reason: str) -> None:
    with pytest.raises(lockfile.LockFileError) as caught:
        lockfile.loads(text, path=Path("proj/pylock.toml"))
    message = str(caught.value)
    assert message.startswith("proj/pylock.toml is not a valid PEP 751 lock")
    assert reason in message
    assert caught.value.exit_code == 2


def test_rendering_matches_packagings_own_to_dict() -> None:
    """dumps() walks the model itself (no deep copy); it must say exactly what to_dict() says."""
    import tomllib

    from envspec.lock.text import _plain

    lock = lockfile.loads((LOCKS / "pylock.uv.toml").read_text(encoding="utf-8"))
    assert _plain(lock) == dict(lock.to_dict())
    assert tomllib.loads(lockfile.dumps(lock))["packages"][0]["name"] == "click"
