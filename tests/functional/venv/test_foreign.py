"""A directory that is not a venv is never deleted nor written into."""

from __future__ import annotations

from pathlib import Path

import pytest

from envspec.venv.create import NotAVenv, refuse_foreign
from envspec.venv.mutex import LOCK_NAME, venv_lock


def test_a_foreign_directory_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    foreign = tmp_path / ".venv"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(NotAVenv) as caught:
        refuse_foreign(foreign)
    assert caught.value.exit_code == 2
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_an_empty_directory_or_one_holding_only_our_lock_is_fine(tmp_path: Path) -> None:
    root = tmp_path / ".venv"
    refuse_foreign(root)  # absent
    with venv_lock(root):
        assert (root / LOCK_NAME).exists()
        refuse_foreign(root)
