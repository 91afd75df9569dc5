"""Carry out a :class:`envspec.plan.Plan` on a venv: recover, uninstall, then install in parallel.

:func:`apply_plan` only orders the work. Putting one wheel's files into a venv is a
:class:`envspec.venv.installers.WheelInstaller`'s job (pypa ``installer`` by default; syncs pass the
unpacked-wheel cache of :mod:`envspec.venv.linked`), removing a distribution is
:func:`envspec.venv.uninstall.uninstall`'s, and the dist-info files envspec adds come from
:mod:`envspec.venv.dist_info`. ``apply_plan`` talks to the installer through its Protocol only.

Crash safety, the invariant: *whatever moment the process is killed at, the next sync sees every
touched distribution as absent, damaged or extraneous, never as intact.* How each step keeps it:

- uninstall deletes METADATA first, RECORD last (:mod:`envspec.venv.uninstall`);
- before an install, the journal ``<venv>/.envspec-pending/<name>.json``
  (:mod:`envspec.venv.journal`) lists every path the prepared install will write; every installer
  writes RECORD last, so a killed install leaves a dist-info without RECORD (damaged) or files and
  no dist-info at all (invisible), and the next :func:`apply_plan` first removes whatever a leftover
  journal lists unless that install had completed;
- the journal is deleted only after the install completed; the state file (``envspec.venv.state``)
  is cleared before and written after a sync by the caller, so the no-op path never trusts a venv
  that a killed sync left behind.

A wheel built from an sdist or a directory is installed like any other wheel (an editable one, PEP
660, is an ordinary wheel holding a ``.pth`` file or an import hook); only its digest is not the
lock's, so it is never passed to the installer as verified.

Installs run in a small thread pool, biggest wheel first: they are I/O bound (a venv of 40 wheels
is ~7600 hard links and ~3800 mkdir calls) and independent once the removals are done.
Bytecode is not compiled (Python compiles on first import), which is most of what makes pip slow.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from pathlib import Path

from packaging.utils import NormalizedName

from envspec.plan import Action, Plan, Wanted
from envspec.venv.dist_info import NO_EXTRA, dist_info_files
from envspec.venv.installers import InstallerLibrary, WheelInstaller
from envspec.venv.journal import JOURNAL_DIRNAME, remove_journal, write_journal
from envspec.venv.layout import VenvLayout
from envspec.venv.uninstall import recover_interrupted, uninstall

__all__ = ["MAX_INSTALL_THREADS", "apply_plan"]

MAX_INSTALL_THREADS = 4


def apply_plan(
    plan: Plan,
    layout: VenvLayout,
    wheels: Mapping[NormalizedName, Path],
    *,
    installer: WheelInstaller | None = None,
    progress: Callable[[Action], None] | None = None,
) -> None:
    """Make the venv at ``layout`` what ``plan`` says: first repair what an interrupted sync left,
    then uninstall every removed or replaced distribution, then install the new ones (in parallel)
    from ``wheels`` (project → local, verified wheel file).

    ``progress`` is called in the calling thread once per finished action. On the first failing
    install the others still running finish, none is started, the failed one is cleaned away and
    its :class:`envspec.venv.installers.WheelInstallFailed` is raised; the venv is then left for
    the next sync to complete.

    A package whose wanted ``kind`` is not ``"wheel"`` was built from source: its wheel's digest
    is not the lock's, so none is passed to the installer (which hashes the wheel itself when it
    needs to). A package with a ``direct_url`` or ``source_digest`` gets the dist-info files
    :func:`envspec.venv.dist_info.dist_info_files` makes.
    """
    to_install = plan.to_install
    missing = sorted(a.name for a in to_install if a.name not in wheels)
    if missing:
        raise ValueError(f"apply_plan: no wheel given for {missing!r}")
    chosen: WheelInstaller = installer if installer is not None else InstallerLibrary()
    recover_interrupted(layout)
    for action in plan.to_remove:
        uninstall(layout, action.name)
        if action.wanted is None and progress is not None:
            progress(action)
    if not to_install:
        return
    workers = max(1, min(MAX_INSTALL_THREADS, len(to_install), (os.cpu_count() or 1) * 2))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="envspec-install") as pool:
        futures: dict[Future[None], Action] = {
            pool.submit(
                _install_one,
                chosen,
                wheels[a.name],
                layout,
                a.name,
                _verified_sha256(a.wanted),
                dist_info_files(a.wanted) if a.wanted is not None else NO_EXTRA,
            ): a
            for a in _largest_first(to_install, wheels)
        }
        pending = set(futures)
        failure: BaseException | None = None
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in sorted(done, key=lambda f: futures[f].name):
                if future.cancelled():
                    continue
                error = future.exception()
                if error is not None:
                    failure = failure or error
                elif progress is not None:
                    progress(futures[future])
            if failure is not None:
                for future in pending:
                    future.cancel()
    try:
        (layout.root / JOURNAL_DIRNAME).rmdir()
    except OSError:
        pass
    if failure is not None:
        raise failure


def _install_one(
    installer: WheelInstaller,
    wheel: Path,
    layout: VenvLayout,
    name: NormalizedName,
    sha256: str | None,
    extra_dist_info: Mapping[str, bytes],
) -> None:
    # refused (unsafe, invalid) before the journal, the directories or any file is written
    prepared = installer.prepare(
        wheel, layout, name=name, sha256=sha256, extra_dist_info=extra_dist_info
    )
    write_journal(layout, name, prepared.planned_paths())
    try:
        prepared.run()
    except BaseException:
        uninstall(layout, name)  # removes the half-written files and the journal
        raise
    remove_journal(layout, name)


def _largest_first(
    actions: Iterable[Action], wheels: Mapping[NormalizedName, Path]
) -> list[Action]:
    """The biggest wheels started first, so that the last one to finish is a small one instead of
    django starting while the other threads run out of work."""

    def size(action: Action) -> int:
        try:
            return wheels[action.name].stat().st_size
        except OSError:
            return 0

    return sorted(actions, key=lambda a: (-size(a), a.name))


def _verified_sha256(wanted: Wanted | None) -> str | None:
    """The digest the downloaded wheel was verified against, when the installed wheel is that
    download (not a wheel built from an sdist or a directory)."""
    if wanted is None or wanted.kind != "wheel":
        return None
    return wanted.sha256
