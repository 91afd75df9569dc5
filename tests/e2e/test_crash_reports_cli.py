"""A bug in envspec is never a raw traceback with exit 1 (which CI reads as drift): one paragraph,
the traceback saved to a file, exit 4."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest

from envspec.commands import show
from envspec.cli import main as cli
from envspec.errors import EXIT_BUG


def _explode(*args: object, **kwargs: object) -> object:
    raise KeyError("an internal slip")


def _run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = cli.main(list(argv), stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def test_an_unexpected_exception_is_reported_as_a_bug_with_a_saved_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(show, "pythons", _explode)
    cache = tmp_path / "cache"
    code, err = _run("--cache-dir", str(cache), "python")
    assert code == EXIT_BUG == 4
    assert "Traceback" not in err
    assert "bug in envspec" in err and "KeyError" in err
    (report,) = (cache / "crash-reports").iterdir()
    assert str(report) in err
    saved = report.read_text(encoding="utf-8")
    assert "Traceback" in saved and "_explode" in saved and "argv: --cache-dir" in saved


def test_an_unwritable_cache_puts_the_report_in_the_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(show, "pythons", _explode)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache should be")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    code, err = _run("--cache-dir", str(blocker), "python")
    assert code == EXIT_BUG
    (report,) = (tmp_path / "tmp" / "envspec-crash-reports").iterdir()
    assert str(report) in err


def test_verbose_also_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(show, "pythons", _explode)
    code, err = _run("-v", "--cache-dir", str(tmp_path), "python")
    assert code == EXIT_BUG and "Traceback" in err and "bug in envspec" in err
