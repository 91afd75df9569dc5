"""The sync family: ``envspec sync`` (the venv made to hold exactly what the lock selects here),
its no-op check, and ``envspec run`` (a command in the synced venv).

The no-op check answers from the venv's state file with a few stats: this module's top imports
are the standard library, the foundation and :mod:`envspec.commands.project`, and everything a real
sync needs is imported inside :func:`sync` after the no-op check (start-up time).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from envspec.commands.project import (
    LOCK_FILENAME,
    find_spec,
    load_any_spec,
    local_source_change,
    lock_environment,
    probe_for,
    read_lock,
    requested_groups,
    spec_path_in,
    venv_dir_from_raw_spec,
)
from envspec.errors import DriftFound, UserError
from envspec.fsutil import file_sha256

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from envspec.commands.lock import LockResult
    from envspec.plan import Plan, Wanted
    from envspec.pythons.probe import Probe
    from envspec.sources.wheels import ProgressCallback
    from envspec.spec.model import LinkMode
    from envspec.venv.state import SyncState

__all__ = [
    "RunEnvironment",
    "SyncResult",
    "last_synced_groups",
    "run_environment",
    "sync",
    "sync_is_noop",
    "vouching_state",
]


class SyncResult(NamedTuple):
    venv: Path
    plan: Plan | None
    """None when the venv's state showed at once that nothing was to do."""
    lock: LockResult | None
    """The re-lock that came first, when the lock was missing or stale."""
    created: bool
    """The venv was created (or recreated) by this sync."""
    dry_run: bool
    windows: bool
    interpreter: str = ""
    """The interpreter the venv is (or would be) made with, "<version> (<path>)"; empty when
    nothing was probed."""


class RunEnvironment(NamedTuple):
    venv: Path
    scripts: Path
    environ: dict[str, str]
    synced: SyncResult | None


# ── the no-op check ──────────────────────────────────────────────────────────────────────────


def _groups_key(groups: Sequence[str], all_groups: bool) -> tuple[str, ...]:
    """How a sync's group request is recorded in the venv's state (``*`` = every group)."""
    return ("*",) if all_groups else tuple(sorted(set(groups)))


def _sha256(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None


def vouching_state(
    directory: Path, *, groups: Sequence[str] = (), all_groups: bool = False, frozen: bool = False
) -> tuple[Path, SyncState] | None:
    """The venv path and its state when that state proves the venv already matches the lock
    (and, unless ``frozen``, the spec) for these groups; None when a real sync is needed. Costs a few stats, a small JSON
    read and a directory listing: no interpreter, no network, no resolver, and in the usual case
    not even a TOML parse or a hash."""
    from envspec.venv.state import (  # start-up: only once a spec is found
        file_stat,
        read_state,
        site_packages_fingerprint,
        venv_files_signature,
    )

    spec_path = spec_path_in(directory)
    if spec_path is None:
        return None

    def unchanged(path: Path, stat: str, digest: str) -> bool:
        current = file_stat(path)
        return bool(current) and (current == stat or _sha256(path) == digest)

    # The default venv's state, if it was synced from this very spec, names the venv; otherwise
    # the spec's [venv] path decides (read with tomllib alone).
    default_venv = directory / ".venv"
    venv_dir: Path | None = default_venv
    state: SyncState | None = read_state(default_venv)
    if state is None or not unchanged(spec_path, state.spec_stat, state.spec_digest):
        venv_dir = venv_dir_from_raw_spec(spec_path)
        state = read_state(venv_dir) if venv_dir is not None else None
    if state is None or venv_dir is None or state.groups != _groups_key(groups, all_groups):
        return None
    if not unchanged(spec_path.parent / LOCK_FILENAME, state.lock_stat, state.lock_digest):
        return None
    if not frozen and not unchanged(spec_path, state.spec_stat, state.spec_digest):
        return None
    purelib, platlib = state.layout.get("purelib"), state.layout.get("platlib")
    if purelib is None or platlib is None:
        return None
    site_packages = [purelib] if platlib == purelib else [purelib, platlib]
    if site_packages_fingerprint(site_packages) != state.fingerprint:
        return None
    if any(
        local_source_change(Path(directory), editable=editable, recorded=digest) is not None
        for directory, editable, digest in state.local_sources
    ):
        return None
    scripts = state.layout.get("scripts")
    # a replaced interpreter or an edited pyvenv.cfg: a few stats tell (a state without them,
    # from an older envspec, never vouches)
    if not state.venv_files or scripts is None:
        return None
    if venv_files_signature(venv_dir, Path(scripts)) != state.venv_files:
        return None
    return venv_dir, state


def sync_is_noop(
    directory: Path,
    *,
    groups: Sequence[str] = (),
    all_groups: bool = False,
    frozen: bool = False,
    python: str | None = None,
) -> Path | None:
    """The venv when a sync has nothing to do. An interpreter asked for by ``--python`` (or
    ``ENVSPEC_PYTHON``) other than the one the venv was made with always needs a real sync."""
    found = vouching_state(directory, groups=groups, all_groups=all_groups, frozen=frozen)
    if found is None:
        return None
    requested = python or os.environ.get("ENVSPEC_PYTHON") or None
    if requested is None and os.path.exists(os.path.join(directory, ".python-version")):
        from envspec.pythons.discover import python_version_file  # start-up: only with the file

        requested = python_version_file(directory)
    if requested is not None and not _is_interpreter(requested, found[1].python):
        return None
    return found[0]


def _is_interpreter(requested: str, recorded: str) -> bool:
    """Whether ``requested`` (a path, or a command name looked up on PATH) is the interpreter the
    state recorded (``"<path> <version>"``), comparing resolved paths."""
    import shutil  # start-up: only with --python or ENVSPEC_PYTHON

    from envspec.pythons.discover import version_request

    wanted = version_request(requested)
    if wanted is not None:  # --python 3.11: any 3.11 will do
        try:
            return wanted.contains(recorded.rsplit(" ", 1)[-1], prereleases=True)
        except ValueError:  # a state file not as envspec wrote it: sync for real
            return False
    if os.sep in requested or (os.altsep is not None and os.altsep in requested):
        path: str | None = os.path.expanduser(requested)
    else:
        path = shutil.which(requested)
    recorded_path = recorded.rsplit(" ", 1)[0]
    return path is not None and os.path.realpath(path) == os.path.realpath(recorded_path)


# ── sync ─────────────────────────────────────────────────────────────────────────────────────


def sync(
    directory: Path,
    *,
    groups: Sequence[str] = (),
    all_groups: bool = False,
    frozen: bool = False,
    locked: bool = False,
    dry_run: bool = False,
    reinstall: bool = False,
    python: str | None = None,
    cache_dir: str | None = None,
    offline: bool = False,
    progress: ProgressCallback | None = None,
    link_mode: LinkMode | None = None,
) -> SyncResult:
    """Make the spec's venv hold exactly what the lock selects for this machine and groups.

    ``reinstall`` rewrites every selected package from its verified wheel (unpacked afresh), which
    repairs files edited or deleted inside the venv: the one drift a version comparison misses.
    ``link_mode`` (``--link-mode``) overrides the spec's ``[venv] link-mode``."""
    if not dry_run and not reinstall:
        done = sync_is_noop(
            directory, groups=groups, all_groups=all_groups, frozen=frozen, python=python
        )
        if done is not None:
            return SyncResult(done, None, None, False, False, os.name == "nt")

    # start-up: the no-op answer above needs none of these
    from envspec.commands.lock import lock, lock_check
    from envspec.lock.freshness import truncation_problem
    from envspec.lock.select import select_wanted
    from envspec.plan import make_plan
    from envspec.venv.create import ensure_venv, refuse_foreign, venv_problem
    from envspec.venv.installed import dist_info_fingerprint, read_installed
    from envspec.venv.integrity import venv_tampering
    from envspec.venv.layout import VenvLayout
    from envspec.venv.mutex import venv_lock
    from envspec.venv.state import (
        SyncState,
        clear_state,
        file_stat,
        read_state,
        venv_files_signature,
        write_state,
    )
    from envspec.values.urls import file_url_path

    spec_path = find_spec(directory)
    spec = load_any_spec(spec_path)
    wanted_groups = requested_groups(spec, groups, all_groups)
    lock_path = spec.project_dir / LOCK_FILENAME

    relocked: LockResult | None = None
    if frozen:
        existing = read_lock(lock_path)
        if existing is None:
            raise UserError(
                f"There is no {LOCK_FILENAME} next to {spec.path}; --frozen needs one.",
                hint="Run `envspec lock` first, or sync without --frozen.",
            )
        damaged = truncation_problem(existing)
        if damaged is not None:  # never install a silently partial lock
            raise DriftFound(f"{lock_path} is damaged: {damaged}.", hint="Run `envspec lock`.")
    elif locked:
        lock_check(directory, cache_dir=cache_dir)  # DriftFound (exit 1) when stale
        existing = read_lock(lock_path)
    else:
        relocked = lock(directory, python=python, cache_dir=cache_dir, offline=offline)
        existing = read_lock(lock_path)
    assert existing is not None

    probe = probe_for(spec, existing, python=python, cache_dir=cache_dir)
    selection = select_wanted(existing, probe.target, wanted_groups, lock_path)
    if selection is None:
        # A committed lock is never rewritten because this machine differs from the others:
        # a machine the lock does not cover is drift, and the fix is in the spec.
        from envspec.lock.tool import left_out  # start-up: an error path

        machine = _machine(probe)
        why = next((f" The lock left it out: {reason}." for ident, reason in left_out(existing).items() if f"({ident})" in machine), "")
        raise DriftFound(
            f"{lock_path} does not cover this machine: {machine}. It covers "
            f"{lock_environment(existing)}.{why}",
            hint="If the project should support it, allow it in the spec (`python`, "
            "`environments`) and run `envspec lock`; or sync with a Python the lock covers "
            "(--python).",
        )

    venv_dir = spec.venv_dir
    if dry_run:
        layout = VenvLayout.from_scheme(venv_dir, probe.scheme, windows=os.name == "nt")
        usable = venv_dir.exists() and venv_problem(layout, probe.version) is None
        installed = read_installed(layout) if usable else {}
        plan = make_plan(selection, installed, reinstall=_everything(selection, reinstall))
        return SyncResult(
            venv_dir, plan, relocked, not usable, True, layout.windows, _described(probe)
        )

    refuse_foreign(venv_dir)  # before the lock file is put into it
    with venv_lock(venv_dir):
        scripts = VenvLayout.from_scheme(venv_dir, probe.scheme, windows=os.name == "nt").scripts
        # a replaced interpreter or an edited pyvenv.cfg: only a new venv is what the lock says
        tampered = bool(venv_tampering(venv_dir, scripts, read_state(venv_dir)))
        layout, created = ensure_venv(
            venv_dir, interpreter=probe.path, version=probe.version, scheme=probe.scheme,
            recreate=tampered,
        )
        plan = make_plan(
            selection, read_installed(layout), reinstall=_everything(selection, reinstall)
        )
        if not plan.is_empty():
            clear_state(venv_dir)
            from envspec.commands.session import Session  # start-up: only when installing

            with Session(spec, cache_dir=cache_dir, offline=offline) as session:
                installer = session.installer(link_mode=link_mode or spec.link_mode)
                # venv files are linked to the unpacked entries, so an edit made inside a venv
                # (a METADATA's version, a module) may have reached them too: whatever replaces
                # an installed distribution is unpacked again from its (sha256-verified) wheel
                for action in plan.to_install:
                    if reinstall or action.kind != "install":
                        if action.wanted is not None and action.wanted.sha256 is not None:
                            installer.forget(action.wanted.sha256)
                with session.building_for(probe):
                    session.install(plan, layout, installer=installer, progress=progress)
        if reinstall:
            from envspec.venv.prune import prune_unowned  # start-up: only for --reinstall

            # what no RECORD owns (a planted .pth, a module added to a package, stray
            # bytecode) survives any reinstall of the packages: removed here
            prune_unowned(layout)
        write_state(
            venv_dir,
            SyncState(
                lock_digest=_sha256(lock_path) or "",
                groups=_groups_key(groups, all_groups),
                spec_digest=_sha256(spec.path) or "",
                python=f"{probe.path} {probe.version}",
                fingerprint=dist_info_fingerprint(layout),
                layout=layout.as_dict(),
                spec_fresh=not frozen,
                packages=len(selection),
                local_sources=tuple(
                    (str(file_url_path(w.url)), w.editable, w.source_digest or "")
                    for w in selection
                    if w.kind == "directory"
                ),
                spec_stat=file_stat(spec.path),
                lock_stat=file_stat(lock_path),
                venv_files=venv_files_signature(venv_dir, layout.scripts),
                pyvenv_cfg=_read_text(venv_dir / "pyvenv.cfg"),
            ),
        )
    return SyncResult(
        venv_dir, plan, relocked, created, False, layout.windows, _described(probe)
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _machine(probe: Probe) -> str:
    from envspec.values.environments import host_platform  # start-up: an error path

    markers = probe.target.markers
    platform = host_platform(markers.get("sys_platform", ""), markers.get("platform_machine", ""))
    where = platform.id if platform is not None else f"{markers.get('sys_platform')} {markers.get('platform_machine')}"
    minor = markers.get("python_version", "").replace(".", "")
    kind = markers.get("implementation_name", "")
    ident = f" (cp{minor}-{where})" if kind == "cpython" and platform is not None else ""
    return f"{kind} {probe.version} on {where}{ident}"


def _described(probe: Probe) -> str:
    return f"Python {probe.version} ({probe.path})"


def _everything(selection: Sequence[Wanted], reinstall: bool) -> list[NormalizedName]:
    return [wanted.name for wanted in selection] if reinstall else []


# ── run ──────────────────────────────────────────────────────────────────────────────────────


def run_environment(
    directory: Path,
    *,
    frozen: bool = False,
    groups: Sequence[str] = (),
    all_groups: bool = False,
    python: str | None = None,
    cache_dir: str | None = None,
    offline: bool = False,
    link_mode: LinkMode | None = None,
) -> RunEnvironment:
    """The environment a command runs in: the venv synced first (unless ``frozen``), its scripts
    directory first on PATH and ``VIRTUAL_ENV`` set, as ``activate`` would do."""
    from envspec.venv.layout import default_scripts  # start-up: this module is on the no-op path

    synced = None
    if not frozen:
        synced = sync(
            directory, groups=groups, all_groups=all_groups, python=python,
            cache_dir=cache_dir, offline=offline, link_mode=link_mode,
        )
        venv = synced.venv
    else:
        venv = venv_dir_from_raw_spec(find_spec(directory)) or directory / ".venv"
    scripts = default_scripts(venv, windows=os.name == "nt")
    if not (venv / "pyvenv.cfg").is_file():
        raise UserError(f"There is no venv at {venv}.", hint="Run `envspec sync` first.")
    environ = dict(os.environ)
    environ["VIRTUAL_ENV"] = str(venv)
    environ["PATH"] = os.pathsep.join([str(scripts), environ.get("PATH", "")]).rstrip(os.pathsep)
    environ.pop("PYTHONHOME", None)
    return RunEnvironment(venv, scripts, environ, synced)


def last_synced_groups(directory: Path) -> tuple[list[str], bool]:
    """The groups the venv was last synced with (and whether that was ``--all-groups``), so
    that add/remove keep the venv as the user last asked for it."""
    from envspec.venv.state import read_state  # start-up: this module is on the no-op path

    spec_path = spec_path_in(directory)
    venv_dir = venv_dir_from_raw_spec(spec_path) if spec_path is not None else None
    state = read_state(venv_dir) if venv_dir is not None else None
    if state is None:
        return [], False
    if state.groups == ("*",):
        return [], True
    return list(state.groups), False
