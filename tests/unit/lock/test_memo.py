"""The remembered freshness verdict never outlives a change to either file."""

from __future__ import annotations

from pathlib import Path

from envspec.lock.memo import FreshnessMemo


def make(tmp_path: Path) -> tuple[FreshnessMemo, Path, Path]:
    spec, lock = tmp_path / "envspec.toml", tmp_path / "pylock.toml"
    spec.write_text('python = "3.12"\n')
    lock.write_text('lock-version = "1.0"\n')
    return FreshnessMemo(tmp_path / "cache", spec), spec, lock


def test_recalls_only_byte_identical_files(tmp_path: Path) -> None:
    memo, spec, lock = make(tmp_path)
    assert memo.recall(lock) is None
    memo.remember(lock, 7)
    assert memo.recall(lock) == 7
    assert FreshnessMemo(tmp_path / "cache", spec).recall(lock) == 7  # another process

    spec.write_text('python = "3.12" # comment\n')
    assert memo.recall(lock) is None
    memo.remember(lock, 7)
    lock.write_text('lock-version = "1.0"\n\n')
    assert memo.recall(lock) is None
    lock.unlink()
    assert memo.recall(lock) is None


def test_a_corrupt_memo_is_ignored(tmp_path: Path) -> None:
    memo, _, lock = make(tmp_path)
    memo.remember(lock, 3)
    memo.path.write_text("{not json")
    assert memo.recall(lock) is None
    memo.path.write_text('{"spec": 1}')
    assert memo.recall(lock) is None
