"""A venv recreation killed at every step leaves a directory the next sync repairs.

Recreating a venv (its Python changed, or it was tampered with) removes the old one entry by
entry, runs ``-m venv``, then verifies. A kill between any two of those system calls must leave
something the next sync recognises as its own half-made venv — never a directory it refuses as
"not a virtual environment" — and that ``check`` reports with a fix that works. Every
intermediate state is produced deterministically: the removal (or the creation) stops after N
steps, as a SIGKILL there would stop it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet

import envspec.venv.create as create
from envspec.pythons.probe import Probe, probe_interpreter
from envspec.venv.create import CREATING_MARKER, ensure_venv, refuse_foreign, venv_problem
from envspec.venv.layout import VenvLayout
from envspec.venv.verify import venv_python_findings
from tests.support.processes import RecordingRunner
from tests.support.pythons import require_python

pytestmark = pytest.mark.slow


class Killed(BaseException):
    """What SIGKILL does to the process, as far as the files left behind can tell."""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Probe:
    cache = tmp_path_factory.mktemp("probe-cache")
    return probe_interpreter(require_python("3.12"), cache_dir=cache)


def _ensure(
    root: Path, probe: Probe, *, recreate: bool = False, runner: RecordingRunner | None = None
) -> tuple[VenvLayout, bool]:
    return ensure_venv(
        root,
        interpreter=probe.path,
        version=probe.version,
        scheme=probe.scheme,
        recreate=recreate,
        runner=runner,
    )


def _populated(root: Path, probe: Probe) -> None:
    """A synced-looking venv: entries in site-packages, a state file, a console script."""
    layout, _ = _ensure(root, probe)
    for site_packages in layout.site_packages:
        (site_packages / "pkg").mkdir(exist_ok=True)
        (site_packages / "pkg" / "__init__.py").write_text("x = 1\n")
        (site_packages / "pkg-1.0.dist-info").mkdir(exist_ok=True)
    (root / ".envspec-state.json").write_text("{}")
    (layout.scripts / "tool").write_text("#!/bin/sh\n")


@contextmanager
def _killed_after(steps: int) -> Iterator[RecordingRunner]:
    """Every removal and the venv creation count as a step; the one after ``steps`` raises.
    Yields the runner the creation must use (``-m venv`` is a step before and after it runs)."""
    done = [0]
    real_rmtree: Callable[..., Any] = shutil.rmtree
    real_unlink = Path.unlink

    def tick() -> None:
        if done[0] >= steps:
            raise Killed
        done[0] += 1

    def rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
        tick()
        # a kill inside a directory tree leaves part of it: remove only its first entry
        entries = sorted(Path(path).iterdir())
        if entries and steps % 2:
            first = entries[0]
            if first.is_dir() and not first.is_symlink():
                real_rmtree(first)
            else:
                real_unlink(first)
            raise Killed
        real_rmtree(path, *args, **kwargs)

    def unlink(self: Path, missing_ok: bool = False) -> None:
        tick()
        real_unlink(self, missing_ok=missing_ok)

    # killed before -m venv, or after it and before the marker is removed
    runner = RecordingRunner(before=lambda _: tick(), after=lambda _: tick())

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(create.shutil, "rmtree", rmtree)
        patch.setattr(Path, "unlink", unlink)
        yield runner


def test_a_recreation_killed_at_any_step_is_repaired(tmp_path: Path, probe: Probe) -> None:
    seen: set[tuple[str, ...]] = set()
    steps = 0
    while True:
        root = tmp_path / f"venv-{steps}"
        _populated(root, probe)
        with _killed_after(steps) as runner:
            try:
                _ensure(root, probe, recreate=True, runner=runner)
                finished = True
            except Killed:
                finished = False
        left = tuple(sorted(entry.name for entry in root.iterdir()))
        seen.add(left)
        if not finished:
            # what the next sync meets: its own half-made venv, never a foreign directory
            refuse_foreign(root)
            assert (root / CREATING_MARKER).exists(), (steps, left)
            # check says so, and prints the fix (a sync) ...
            findings = venv_python_findings(root, spec_python=SpecifierSet("==3.12.*"))
            assert [f.kind for f in findings] == ["missing-venv"], (steps, left)
        # ... which repairs it
        layout, _ = _ensure(root, probe)
        assert venv_problem(layout, probe.version) is None, (steps, left)
        assert not (root / CREATING_MARKER).exists()
        shutil.rmtree(root)
        if finished:
            break
        steps += 1
    assert steps >= 6 and len(seen) >= 5  # every entry of the old venv, then the creation


def test_a_directory_without_pyvenv_cfg_but_with_the_marker_is_ours(tmp_path: Path) -> None:
    root = tmp_path / ".venv"
    (root / "lib").mkdir(parents=True)
    (root / CREATING_MARKER).write_bytes(b"")
    refuse_foreign(root)  # no NotAVenv: envspec was rebuilding it
