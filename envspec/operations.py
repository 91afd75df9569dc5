"""What each command does: wires the core (spec, resolve, lock model) to the edges (index,
interpreters, venv) and returns a result value. Never prints; the CLI renders results.

Results are NamedTuples and every heavy import happens inside the function that needs it: this
module is on the path of the commands that must answer in a few tens of milliseconds (a fresh
``envspec lock``, a no-op ``envspec sync``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from envspec.errors import DriftFound, OutsideWorldError, UserError
from envspec.fsutil import cache_root

if TYPE_CHECKING:
    from packaging.pylock import Pylock
    from packaging.requirements import Requirement
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from envspec.sources.builds import SourceBuilds
    from envspec.resolve.candidates import DirectPackage
    from envspec.drift import DriftReport
    from envspec.lock.memo import FreshnessMemo
    from envspec.index.source import IndexSource
    from envspec.lock.model import LockChange
    from envspec.values.files import FileInfo
    from envspec.spec.model import LinkMode
    from envspec.plan import Plan, Wanted
    from envspec.pythons.discover import Interpreter
    from envspec.pythons.probe import Probe
    from envspec.venv.apply import WheelInstaller
    from envspec.venv.layout import VenvLayout
    from envspec.venv.state import SyncState
    from envspec.resolve import Resolution
    from envspec.spec.model import Spec
    from envspec.values.target import Target

__all__ = [
    "LOCK_FILENAME",
    "EditResult",
    "SPEC_FILENAME",
    "InitResult",
    "LockCheckResult",
    "LockResult",
    "PythonsResult",
    "RunEnvironment",
    "SyncResult",
    "check",
    "edit",
    "export",
    "last_synced_groups",
    "find_spec",
    "load_any_spec",
    "spec_path_in",
    "init",
    "lock",
    "lock_check",
    "pythons",
    "run_environment",
    "sync",
    "sync_is_noop",
    "tree",
    "why",
]

SPEC_FILENAME = "envspec.toml"
PYPROJECT_FILENAME = "pyproject.toml"  # envspec.spec.pyproject.PYPROJECT_FILENAME, imported lazily
LOCK_FILENAME = "pylock.toml"  # envspec.lock.text.LOCK_FILENAME, without importing the lock model

_STARTER_SPEC = """\
# envspec.toml: this project's Python environment, declared.
# `envspec lock` resolves it into pylock.toml; `envspec sync` makes .venv match that lock.
# Commit both files. Every key is described in envspec's schemas/envspec.schema.json.

python = "{python}"   # a PEP 440 specifier; a bare "3.12" means "==3.12.*"

requirements = [
  # "requests>=2.31",
  # "numpy>=2; python_version >= '3.11'",
]

# [groups]                       # optional; synced with `envspec sync --group dev`
# dev = ["pytest>=8", "ruff"]

# [resolution]
# prereleases = "if-necessary"   # "allow" | "disallow" | "if-necessary"
# exclude-newer = "2026-01-01T00:00:00Z"
# constraints = ["urllib3<3"]
# only-binary = [":all:"]

# [venv]
# path = ".venv"
"""


class InitResult(NamedTuple):
    path: Path
    python: str
    pyproject: bool = False
    """True when the project's pyproject.toml serves as the spec instead (nothing written)."""
    note: str = ""
    """Why ``python`` is what it is, for the user."""


def init(
    directory: Path,
    *,
    force: bool = False,
    python: str | None = None,
    cache_dir: str | None = None,
    envspec_toml: bool = False,
) -> InitResult:
    """Write a starter spec whose python is a floor (``>=3.11``): the oldest interpreter found
    that upstream still supports, so teammates with any supported Python can sync it.

    In a project with a pyproject.toml that has ``[project].requires-python``, that file already
    is a spec (its dependencies and ``[dependency-groups]``; envspec's own tables go under
    ``[tool.envspec]``): nothing is written unless ``envspec_toml`` asks for a separate file."""
    from packaging.specifiers import SpecifierSet

    from envspec.fsutil import write_user_file
    from envspec.pythons.discover import choose_interpreter

    pyproject = directory / PYPROJECT_FILENAME
    if pyproject.is_file() and not envspec_toml and not (directory / SPEC_FILENAME).exists():
        import tomllib

        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except (OSError, ValueError):
            project = {}
        requires = project.get("requires-python") if isinstance(project, dict) else None
        if isinstance(requires, str):
            return InitResult(path=pyproject, python=requires, pyproject=True)
        raise UserError(
            f"{pyproject} has no [project].requires-python, which envspec needs to use it as "
            "the spec.",
            hint='Add e.g. requires-python = ">=3.11" under [project], or run '
            "`envspec init --envspec-toml` to write a separate envspec.toml.",
        )

    target = directory / SPEC_FILENAME
    if target.exists() and not force:
        raise UserError(
            f"{target} already exists; not overwriting it.",
            hint="Use `envspec init --force` to replace it.",
        )
    explicit = Path(python) if python else None
    newest = choose_interpreter(
        SpecifierSet(">=3.8"), explicit=explicit, cache_dir=cache_root(cache_dir)
    )
    floor, why = newest, "the Python given" if explicit else "the newest Python on this machine"
    if explicit is None:
        from envspec.pythons.discover import find_interpreters
        from envspec.pythons.lifecycle import is_supported_upstream

        upstream = [
            found
            for found in find_interpreters(cache_dir=cache_root(cache_dir))
            if found.is_supported and is_supported_upstream(found.version)
        ]
        if upstream:
            floor = min(upstream, key=lambda found: found.version)
            if floor.version.release[:2] != newest.version.release[:2]:
                why = "the oldest Python on this machine that upstream still supports"
    minor = f"{floor.version.major}.{floor.version.minor}"
    specifier = f">={minor}"
    write_user_file(target, _STARTER_SPEC.format(python=specifier))
    return InitResult(
        path=target,
        python=specifier,
        note=f"{minor} is {why}; sync uses the newest that fits, here {newest.version}",
    )


# ── lock ─────────────────────────────────────────────────────────────────────────────────────


class LockResult(NamedTuple):
    path: Path
    written: bool
    """False when the lock on disk was already exactly this (nothing rewritten)."""
    changes: tuple[LockChange, ...]
    package_count: int
    fresh_without_resolving: bool = False
    """True when the existing lock was fresh for the spec and nothing was resolved."""


class LockCheckResult(NamedTuple):
    path: Path
    package_count: int


def spec_path_in(directory: Path) -> Path | None:
    """The project's spec: envspec.toml, else a pyproject.toml (its [project] table, PEP 735
    [dependency-groups] and [tool.envspec]); None when there is neither."""
    for name in (SPEC_FILENAME, PYPROJECT_FILENAME):
        if (directory / name).is_file():
            return directory / name
    return None


def find_spec(directory: Path) -> Path:
    path = spec_path_in(directory)
    if path is None:
        raise UserError(
            f"No {SPEC_FILENAME} (or pyproject.toml) in {directory}.",
            hint="Run `envspec init` to write one, or use -C DIR to point at a project.",
        )
    from envspec.fsutil import clean_stale_temp

    clean_stale_temp(path.parent)  # what a killed lock or edit left (git ignores it meanwhile)
    return path


def load_any_spec(path: Path) -> Spec:
    if path.name == PYPROJECT_FILENAME:
        from envspec.spec.pyproject import load_pyproject_spec

        return load_pyproject_spec(path)
    from envspec.spec.model import load_spec

    return load_spec(path)


def _read_lock(path: Path) -> Pylock | None:
    from envspec.lock import text as lockfile

    try:
        text = path.read_bytes()  # decoded by loads: a non-UTF-8 lock is bad input, not a crash
    except FileNotFoundError:
        return None
    return lockfile.loads(text, path=path)


def lock_check(directory: Path, *, cache_dir: str | None = None) -> LockCheckResult:
    """``envspec lock --check``: exit 1 (DriftFound) when the lock is missing or stale."""
    from envspec.lock.memo import FreshnessMemo

    spec_path = find_spec(directory)
    lock_path = spec_path.parent / LOCK_FILENAME
    memo = FreshnessMemo(cache_root(cache_dir), spec_path)
    remembered = memo.recall(lock_path)
    if remembered is not None:
        return LockCheckResult(path=lock_path, package_count=remembered)
    from envspec.lock.model import stale_reasons

    spec = load_any_spec(spec_path)
    existing = _read_lock(lock_path)
    if existing is None:
        raise DriftFound(f"There is no {LOCK_FILENAME} for {spec.path}.", hint="Run `envspec lock`.")
    reasons = stale_reasons(spec, existing) or _local_source_changes(existing, lock_path.parent)
    if reasons:
        listing = "\n".join(f"  - {reason}" for reason in reasons)
        raise DriftFound(
            f"{lock_path} is stale for {spec.path}:\n{listing}", hint="Run `envspec lock`."
        )
    _remember_fresh(memo, lock_path, existing)
    return LockCheckResult(path=lock_path, package_count=len(existing.packages))


def lock(
    directory: Path,
    *,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    python: str | None = None,
    cache_dir: str | None = None,
    offline: bool = False,
    force: bool = False,
) -> LockResult:
    """Resolve the spec and write pylock.toml, keeping locked versions while they still fit.

    ``force`` resolves even when the lock is fresh for the spec: sync uses it when the lock was
    made for another interpreter or platform than this machine's."""
    from envspec.lock.memo import FreshnessMemo

    spec_path = find_spec(directory)
    lock_path = spec_path.parent / LOCK_FILENAME
    memo = FreshnessMemo(cache_root(cache_dir), spec_path)
    freeing = upgrade or bool(upgrade_packages) or force
    if not freeing:
        remembered = memo.recall(lock_path)
        if remembered is not None:
            return LockResult(lock_path, False, (), remembered, fresh_without_resolving=True)

    from packaging.utils import canonicalize_name

    from envspec.lock import text as lockfile
    from envspec.lock.model import LockInputs, build_lock, changes_between, locked_versions, stale_reasons

    spec = load_any_spec(spec_path)
    existing = _read_lock(lock_path)
    if (
        existing is not None
        and not freeing
        and not stale_reasons(spec, existing)
        and not _local_source_changes(existing, lock_path.parent)
    ):
        _remember_fresh(memo, lock_path, existing)
        return LockResult(lock_path, False, (), len(existing.packages), fresh_without_resolving=True)
    resolution, target = _resolve(
        spec,
        lambda: _probe_for(spec, existing, python=python, cache_dir=cache_dir),
        locked=locked_versions(existing) if existing is not None else {},
        upgrade=True if upgrade else frozenset(canonicalize_name(n) for n in upgrade_packages),
        cache_dir=cache_dir,
        offline=offline,
    )
    new = build_lock(resolution, LockInputs.from_spec(spec), target)
    text = lockfile.dumps(new)
    old_text = lock_path.read_text(encoding="utf-8") if existing is not None else None
    written = text != old_text
    if written:
        from envspec.fsutil import write_user_file

        write_user_file(lock_path, text)
    _remember_fresh(memo, lock_path, new)
    return LockResult(
        path=lock_path,
        written=written,
        changes=tuple(changes_between(existing, new)),
        package_count=len(new.packages),
    )


def _remember_fresh(memo: FreshnessMemo, lock_path: Path, lock: Pylock) -> None:
    """Remember that spec and lock agree, unless the lock has local directories: their files
    change without the spec or lock changing, so only a digest of them can tell."""
    if not any(package.directory is not None for package in lock.packages):
        memo.remember(lock_path, len(lock.packages))


def _probe_for(
    spec: Spec, existing: Pylock | None, *, python: str | None, cache_dir: str | None
) -> Probe:
    """The interpreter to lock or sync for, probed.

    ``--python``/``ENVSPEC_PYTHON`` decide when given. Otherwise, among the interpreters that
    satisfy the spec, one of the Python version the existing lock was made for is preferred, so
    that a teammate with several Pythons installed does not re-lock for another one; failing
    that, the newest that satisfies the spec.
    """
    from packaging.version import InvalidVersion, Version

    from envspec.pythons.discover import choose_interpreter, find_interpreters
    from envspec.pythons.probe import probe_interpreter

    root = cache_root(cache_dir)
    explicit = Path(python) if python else None
    chosen = None
    recorded = _locked_python(existing)
    if explicit is None and recorded is not None:
        try:
            wanted = Version(recorded)
        except InvalidVersion:
            wanted = None
        for interpreter in find_interpreters(cache_dir=root):
            if (
                wanted is not None
                and interpreter.is_supported
                and spec.python.contains(interpreter.version, prereleases=True)
                and interpreter.version.release[:2] == wanted.release[:2]
            ):
                chosen = interpreter
                break
    if chosen is None:
        chosen = choose_interpreter(spec.python, explicit=explicit, cache_dir=root)
    return probe_interpreter(chosen.path, cache_dir=root)


def _locked_python(lock: Pylock | None) -> str | None:
    tool = (lock.tool or {}).get("envspec") if lock is not None else None
    target = tool.get("target") if isinstance(tool, Mapping) else None
    version = target.get("python-version") if isinstance(target, Mapping) else None
    return version if isinstance(version, str) else None


def _resolve(
    spec: Spec,
    find_probe: Callable[[], Probe],
    *,
    locked: Mapping[NormalizedName, Version],
    upgrade: bool | frozenset[NormalizedName],
    cache_dir: str | None,
    offline: bool,
) -> tuple[Resolution, Target]:
    """Resolve the spec for the interpreter ``find_probe`` names (probing it).

    The project pages of the spec's own requirements need no target, so their download starts
    first and overlaps the interpreter probe (and the import of the HTTP stack, which happens in
    the fetching thread). Sources (paths and URLs) are materialised once the target is known:
    building a directory's metadata runs its backend with the target interpreter."""
    from packaging.utils import canonicalize_name

    from envspec.sources.builds import SourceBuilds
    from envspec.index.source import IndexSource
    from envspec.resolve import resolve

    requirements: dict[str | None, Sequence[Requirement]] = {None: spec.requirements}
    requirements.update({str(name): reqs for name, reqs in spec.groups.items()})
    names = {canonicalize_name(r.name) for reqs in requirements.values() for r in reqs}
    root = cache_root(cache_dir)
    with IndexSource(
        spec.indexes, cache_dir=root, offline=offline, source_urls=_source_urls(spec)
    ) as source:
        source.prefetch(sorted(names - set(spec.sources)))
        probe = find_probe()
        with SourceBuilds.serving(source, probe, cache_dir=root, options=spec.resolution) as builds:
            direct = _materialise(spec, source, builds)
            resolution = resolve(
                requirements,
                target=probe.target,
                source=source,
                options=spec.resolution,
                locked=locked,
                upgrade=upgrade,
                direct=direct,
            )
        return resolution, probe.target


def _source_urls(spec: Spec) -> list[str]:
    """The spec's source URLs as written: their credentials serve the lock's redacted URLs."""
    return [source.url for source in spec.sources.values() if source.url is not None]


def _materialise(spec: Spec, source: IndexSource, builds: SourceBuilds) -> dict[NormalizedName, DirectPackage]:
    if not spec.sources:
        return {}
    from envspec.sources.pep517 import source_digest
    from envspec.sources.materialise import Materials, materialise

    from envspec.index.download import HashMismatch

    def download(file: FileInfo) -> Path:
        try:
            return source.download(file)
        except HashMismatch as error:
            raise OutsideWorldError(
                f"The file at {error.url} does not match the #sha256= the spec gives for it: "
                f"expected {file.sha256}, got {error.actual.get('sha256')}.",
                hint="If the file changed on purpose, put its new sha256 in the spec; otherwise "
                "something between you and the server is serving other content.",
            ) from None

    return materialise(
        spec,
        Materials(
            download=download,
            archive_metadata=builds.archive_metadata,
            directory_metadata=builds.directory_metadata,
            digest=lambda directory, editable: source_digest(directory, editable=editable),
        ),
    )


def _local_source_changes(lock: Pylock, lock_dir: Path) -> list[str]:
    """Local directories of the lock whose inputs changed since it was written (their digest
    differs): the lock is stale for them, as it is for a changed spec."""
    from envspec.lock.model import source_digests

    found = source_digests(lock)
    if not found:
        return []
    from envspec.sources.pep517 import SourceUnreadable, source_digest
    from envspec.sources.materialise import from_lock_relative

    reasons = []
    for name, (path, editable, recorded) in sorted(found.items()):
        directory = from_lock_relative(path, lock_dir)
        if not directory.is_dir():
            reasons.append(f"the local source of {name!r} ({path}) no longer exists")
            continue
        try:
            current = source_digest(directory, editable=editable)
        except SourceUnreadable as error:
            reasons.append(f"the local source of {name!r} ({path}) cannot be read: {error}")
            continue
        if current != recorded:
            what = "its build configuration" if editable else "its files"
            reasons.append(f"the local source of {name!r} ({path}) changed since it was locked ({what})")
    return reasons


# ── python ───────────────────────────────────────────────────────────────────────────────────


class PythonsResult(NamedTuple):
    interpreters: tuple[Interpreter, ...]
    chosen: Interpreter | None
    requested: str | None
    """The spec's python specifier, None when there is no spec here."""
    problem: str | None
    """Why nothing was chosen (no interpreter satisfies the spec), else None."""


def pythons(directory: Path, *, python: str | None = None, cache_dir: str | None = None) -> PythonsResult:
    """The interpreters found and which one the spec here (if any) selects."""
    from envspec.pythons.discover import InterpreterNotFound, choose_interpreter, find_interpreters

    root = cache_root(cache_dir)
    explicit = Path(python) if python else None
    found = tuple(find_interpreters(explicit=explicit, cache_dir=root))
    spec_path = spec_path_in(directory)
    if spec_path is None:
        return PythonsResult(found, None, None, None)
    spec = load_any_spec(spec_path)
    try:
        chosen = choose_interpreter(spec.python, explicit=explicit, cache_dir=root)
    except InterpreterNotFound as error:
        return PythonsResult(found, None, str(spec.python), str(error))
    return PythonsResult(found, chosen, str(spec.python), None)


# ── sync ─────────────────────────────────────────────────────────────────────────────────────


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


ProgressCallback = Callable[[str, int, int, int], None]
"""``progress(stage, done, total, nbytes)``: stage "download" or "install", items done of total,
and the bytes downloaded so far (0 for installs)."""


def _groups_key(groups: Sequence[str], all_groups: bool) -> tuple[str, ...]:
    """How a sync's group request is recorded in the venv's state (``*`` = every group)."""
    return ("*",) if all_groups else tuple(sorted(set(groups)))


def _sha256(path: Path) -> str | None:
    from envspec.fsutil import file_sha256

    try:
        return file_sha256(path)
    except OSError:
        return None


def _venv_dir_from_raw_spec(spec_path: Path) -> Path | None:
    """The spec's ``[venv] path`` read with tomllib alone (no schema, no packaging): enough for
    the no-op check, which then compares the spec's digest with the one the venv recorded."""
    import tomllib

    try:
        raw = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if spec_path.name == PYPROJECT_FILENAME:
        tool = raw.get("tool", {})
        raw = tool.get("envspec", {}) if isinstance(tool, dict) else {}
        raw = raw if isinstance(raw, dict) else {}
    venv = raw.get("venv", {})
    path = venv.get("path", ".venv") if isinstance(venv, dict) else None
    return spec_path.parent / path if isinstance(path, str) and path else None


def vouching_state(
    directory: Path, *, groups: Sequence[str] = (), all_groups: bool = False, frozen: bool = False
) -> tuple[Path, SyncState] | None:
    """The venv path and its state when that state proves the venv already matches the lock
    (and, unless ``frozen``, the spec) for these groups; None when a real sync is needed. Costs a few stats, a small JSON
    read and a directory listing: no interpreter, no network, no resolver, and in the usual case
    not even a TOML parse or a hash."""
    from envspec.venv.state import (
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
        venv_dir = _venv_dir_from_raw_spec(spec_path)
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
    if state.local_sources and not _local_sources_unchanged(state.local_sources):
        return None
    scripts = state.layout.get("scripts")
    # a replaced interpreter or an edited pyvenv.cfg: a few stats tell (a state without them,
    # from an older envspec, never vouches)
    if not state.venv_files or scripts is None:
        return None
    if venv_files_signature(venv_dir, Path(scripts)) != state.venv_files:
        return None
    return venv_dir, state


def _local_sources_unchanged(entries: Sequence[tuple[str, bool, str]]) -> bool:
    from envspec.sources.pep517 import SourceUnreadable, source_digest

    try:
        return all(
            source_digest(Path(directory), editable=editable) == digest
            for directory, editable, digest in entries
        )
    except (SourceUnreadable, OSError):
        return False


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
    import os

    found = vouching_state(directory, groups=groups, all_groups=all_groups, frozen=frozen)
    if found is None:
        return None
    requested = python or os.environ.get("ENVSPEC_PYTHON") or None
    if requested is not None and not _is_interpreter(requested, found[1].python):
        return None
    return found[0]


def _is_interpreter(requested: str, recorded: str) -> bool:
    """Whether ``requested`` (a path, or a command name looked up on PATH) is the interpreter the
    state recorded (``"<path> <version>"``), comparing resolved paths."""
    import os
    import shutil

    if os.sep in requested or (os.altsep is not None and os.altsep in requested):
        path: str | None = os.path.expanduser(requested)
    else:
        path = shutil.which(requested)
    recorded_path = recorded.rsplit(" ", 1)[0]
    return path is not None and os.path.realpath(path) == os.path.realpath(recorded_path)


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
    import os

    if not dry_run and not reinstall:
        done = sync_is_noop(
            directory, groups=groups, all_groups=all_groups, frozen=frozen, python=python
        )
        if done is not None:
            return SyncResult(done, None, None, False, False, os.name == "nt")

    from envspec.plan import make_plan
    from envspec.venv.create import ensure_venv
    from envspec.venv.installed import read_installed

    spec_path = find_spec(directory)
    spec = load_any_spec(spec_path)
    wanted_groups = _requested_groups(spec, groups, all_groups)
    lock_path = spec.project_dir / LOCK_FILENAME

    relocked: LockResult | None = None
    if frozen:
        existing = _read_lock(lock_path)
        if existing is None:
            raise UserError(
                f"There is no {LOCK_FILENAME} next to {spec.path}; --frozen needs one.",
                hint="Run `envspec lock` first, or sync without --frozen.",
            )
        from envspec.lock.model import truncation_problem

        damaged = truncation_problem(existing)
        if damaged is not None:  # never install a silently partial lock
            raise DriftFound(f"{lock_path} is damaged: {damaged}.", hint="Run `envspec lock`.")
    elif locked:
        lock_check(directory, cache_dir=cache_dir)  # DriftFound (exit 1) when stale
        existing = _read_lock(lock_path)
    else:
        relocked = lock(directory, python=python, cache_dir=cache_dir, offline=offline)
        existing = _read_lock(lock_path)
    assert existing is not None

    from envspec.install import select_wanted
    from envspec.values.urls import file_url_path

    probe = _probe_for(spec, existing, python=python, cache_dir=cache_dir)
    selection = select_wanted(existing, probe.target, wanted_groups, lock_path)
    if selection is None:
        # the lock was resolved for another interpreter or platform than this machine's
        if frozen or locked:
            # a committed lock that does not serve this machine is drift, not bad input
            raise DriftFound(
                f"{lock_path} was locked for {_lock_environment(existing)}, which does not match "
                f"this machine's Python {probe.version} ({probe.platform}).",
                hint="Run `envspec lock` (or sync without --frozen/--locked) to re-lock here.",
            )
        relocked = lock(
            directory, upgrade=False, python=str(probe.path), cache_dir=cache_dir,
            offline=offline, force=True,
        )
        existing = _read_lock(lock_path)
        assert existing is not None
        selection = select_wanted(existing, probe.target, wanted_groups, lock_path)
        assert selection is not None

    from envspec.venv.create import venv_problem
    from envspec.venv.layout import VenvLayout

    venv_dir = spec.venv_dir
    if dry_run:
        layout = VenvLayout.from_scheme(venv_dir, probe.scheme, windows=os.name == "nt")
        usable = venv_dir.exists() and venv_problem(layout, probe.version) is None
        installed = read_installed(layout) if usable else {}
        plan = make_plan(selection, installed, reinstall=_everything(selection, reinstall))
        return SyncResult(
            venv_dir, plan, relocked, not usable, True, layout.windows, _described(probe)
        )

    from envspec.venv.create import refuse_foreign
    from envspec.venv.mutex import venv_lock
    from envspec.venv.state import SyncState, clear_state, file_stat, write_state

    refuse_foreign(venv_dir)  # before the lock file is put into it
    with venv_lock(venv_dir):
        from envspec.venv.integrity import venv_tampering
        from envspec.venv.state import read_state, venv_files_signature

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
            from envspec.venv.apply import CachedUnpackInstaller

            installer = CachedUnpackInstaller(
                cache_root(cache_dir) / "unpacked-v1", link_mode=link_mode or spec.link_mode
            )
            # venv files are linked to the unpacked entries, so an edit made inside a venv
            # (a METADATA's version, a module) may have reached them too: whatever replaces an
            # installed distribution is unpacked again from its (sha256-verified) wheel
            for action in plan.to_install:
                if reinstall or action.kind != "install":
                    if action.wanted is not None and action.wanted.sha256 is not None:
                        installer.forget(action.wanted.sha256)
            wheels = _obtain(
                spec, plan, probe, cache_dir=cache_dir, offline=offline, progress=progress,
                unpack=installer.unpacked,
            )
            _apply(plan, layout, wheels, installer=installer, progress=progress)
        if reinstall:
            from envspec.venv.prune import prune_unowned

            # what no RECORD owns (a planted .pth, a module added to a package, stray
            # bytecode) survives any reinstall of the packages: removed here
            prune_unowned(layout)
        from envspec.venv.installed import dist_info_fingerprint

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


def _described(probe: Probe) -> str:
    return f"Python {probe.version} ({probe.path})"


def _everything(selection: Sequence[Wanted], reinstall: bool) -> list[NormalizedName]:
    return [wanted.name for wanted in selection] if reinstall else []


def _requested_groups(spec: Spec, groups: Sequence[str], all_groups: bool) -> list[str]:
    from packaging.utils import canonicalize_name

    known = sorted(str(name) for name in spec.groups)
    if all_groups:
        return known
    wanted = []
    for group in groups:
        name = canonicalize_name(group)
        if name not in spec.groups:
            listing = ", ".join(repr(k) for k in known) or "none"
            raise UserError(
                f"There is no group {group!r} in {spec.path} (groups: {listing}).",
                hint="Add it under [groups], or check the spelling.",
            )
        wanted.append(str(name))
    return sorted(set(wanted))


def _lock_environment(lock: Pylock) -> str:
    if lock.environments:
        return " or ".join(str(marker) for marker in lock.environments)
    return "another environment"


def _obtain(
    spec: Spec,
    plan: Plan,
    probe: Probe,
    *,
    cache_dir: str | None,
    offline: bool,
    progress: ProgressCallback | None,
    unpack: Callable[[Path, str | None], object] | None = None,
) -> dict[NormalizedName, Path]:
    """Every wheel the plan installs, downloaded or built and verified before anything is
    installed (see :func:`envspec.install.obtain_wheels`)."""
    from envspec.sources.builds import SourceBuilds
    from envspec.index.source import IndexSource
    from envspec.install import obtain_wheels

    root = cache_root(cache_dir)
    with IndexSource(
        spec.indexes, cache_dir=root, offline=offline, source_urls=_source_urls(spec)
    ) as source:
        with SourceBuilds.serving(source, probe, cache_dir=root, options=spec.resolution) as builds:
            return obtain_wheels(
                plan.to_install, source=source, builds=builds, progress=progress, unpack=unpack
            )


def _apply(
    plan: Plan,
    layout: VenvLayout,
    wheels: Mapping[NormalizedName, Path],
    *,
    installer: WheelInstaller,
    progress: ProgressCallback | None,
) -> None:
    """Install through the unpacked-wheel cache: each wheel is unzipped once per machine, and
    every later install of it (another venv, a recreated one) links its files instead."""
    from envspec.venv.apply import apply_plan

    total = len(plan.actions)
    done = 0

    def step(_action: object) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress("install", done, total, 0)

    apply_plan(plan, layout, wheels, installer=installer, progress=step)


# ── run ──────────────────────────────────────────────────────────────────────────────────────


class RunEnvironment(NamedTuple):
    venv: Path
    scripts: Path
    environ: dict[str, str]
    synced: SyncResult | None


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
    import os

    synced = None
    if not frozen:
        synced = sync(
            directory, groups=groups, all_groups=all_groups, python=python,
            cache_dir=cache_dir, offline=offline, link_mode=link_mode,
        )
        venv = synced.venv
    else:
        venv = _venv_dir_from_raw_spec(find_spec(directory)) or directory / ".venv"
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    if not (venv / "pyvenv.cfg").is_file():
        raise UserError(f"There is no venv at {venv}.", hint="Run `envspec sync` first.")
    environ = dict(os.environ)
    environ["VIRTUAL_ENV"] = str(venv)
    environ["PATH"] = os.pathsep.join([str(scripts), environ.get("PATH", "")]).rstrip(os.pathsep)
    environ.pop("PYTHONHOME", None)
    return RunEnvironment(venv, scripts, environ, synced)


# ── check ────────────────────────────────────────────────────────────────────────────────────


def check(
    directory: Path,
    *,
    groups: Sequence[str] = (),
    all_groups: bool = False,
    verify_files: bool = True,
    cache_dir: str | None = None,
) -> DriftReport:
    """``envspec check``: the spec, the lock and the venv compared, every difference a finding.

    Raises only for bad input (no spec, invalid spec, unknown group: exit 2) and for the outside
    world (the venv's interpreter cannot be probed: exit 3); drift is data in the report. Reads
    only. The venv is read through its own interpreter (probed once, then cached), so a venv
    envspec did not create is checked the same way."""
    import os

    if not verify_files:
        # A sync that verified the lock's freshness left a state that still vouches for the spec,
        # the lock and the installed dist-infos, byte for byte: nothing can have drifted.
        found = vouching_state(directory, groups=groups, all_groups=all_groups)
        if found is not None and found[1].spec_fresh:
            from envspec.drift import DriftReport

            venv_dir, state = found
            try:
                shown = str(venv_dir.relative_to(directory))
            except ValueError:
                shown = str(venv_dir)
            return DriftReport(checked_packages=state.packages, venv=shown, lock=LOCK_FILENAME)

    from packaging.version import InvalidVersion, Version

    from envspec.drift import DriftReport, Finding, compare_packages
    from envspec.lock.model import stale_reasons
    from envspec.venv.verify import venv_python_findings

    spec_path = find_spec(directory)
    spec = load_any_spec(spec_path)
    wanted_groups = _requested_groups(spec, groups, all_groups)
    lock_path = spec.project_dir / LOCK_FILENAME
    venv_dir = spec.venv_dir
    try:
        shown_venv = str(venv_dir.relative_to(spec.project_dir))
    except ValueError:
        shown_venv = str(venv_dir)
    findings: list[Finding] = []

    def report(packages: int = 0, files: int = 0, verified: bool = False) -> DriftReport:
        return DriftReport(
            findings=tuple(findings),
            checked_packages=packages,
            checked_files=files,
            verified_files=verified,
            venv=shown_venv,
            lock=LOCK_FILENAME,
        )

    # 1. the lock: present and fresh for the spec
    existing = _read_lock(lock_path)
    if existing is None:
        findings.append(
            Finding(
                kind="missing-lock",
                path=LOCK_FILENAME,
                detail=f"there is no {LOCK_FILENAME} next to {spec_path.name}",
            )
        )
        return report()
    findings.extend(
        Finding(kind="stale-lock", path=LOCK_FILENAME, detail=reason)
        for reason in stale_reasons(spec, existing)
        or _local_source_changes(existing, lock_path.parent)
    )

    # 2. the venv: there, and of a Python the spec and the lock accept
    recorded = _locked_python(existing)
    try:
        lock_python = Version(recorded) if recorded else None
    except InvalidVersion:
        lock_python = None
    problems = venv_python_findings(venv_dir, spec_python=spec.python, lock_python=lock_python)
    findings.extend(problems)
    if problems:
        return report()  # a venv of another Python is recreated by a sync, not compared
    from envspec.venv.integrity import venv_tampering
    from envspec.venv.state import read_state

    scripts_dir = venv_dir / ("Scripts" if os.name == "nt" else "bin")
    tampering = venv_tampering(venv_dir, scripts_dir, read_state(venv_dir))
    findings.extend(tampering)
    if any(finding.path != "pyvenv.cfg" for finding in tampering):
        return report()  # its interpreter is not the one envspec made: nothing to run or trust

    from envspec.install import select_wanted
    from envspec.pythons.probe import probe_interpreter
    from envspec.venv.installed import read_installed
    from envspec.venv.layout import VenvLayout

    venv_python = venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    try:
        probe = probe_interpreter(venv_python, cache_dir=cache_root(cache_dir))
    except OutsideWorldError:
        if tampering:  # an edited pyvenv.cfg (another home) can break the interpreter
            return report()
        raise
    selection = select_wanted(existing, probe.target, wanted_groups, lock_path)
    if selection is None:
        findings.append(
            Finding(
                kind="python-mismatch",
                expected=_lock_environment(existing),
                actual=f"{probe.version} ({probe.platform})",
                detail="the lock was made for another environment",
            )
        )
        return report()
    layout = VenvLayout.from_scheme(venv_dir, probe.scheme, windows=os.name == "nt")

    # 3. the packages: exactly the locked ones, at the locked versions
    installed = read_installed(layout)
    findings.extend(compare_packages(selection, installed))
    if not verify_files:
        return report(len(installed))

    # 4. the files: every RECORD entry intact, nothing unowned in package directories
    from envspec.venv.verify import verify_files as verify

    verification = verify(layout, installed)
    findings.extend(verification.findings)
    return report(len(installed), verification.checked_files, True)


# ── add / remove ─────────────────────────────────────────────────────────────────────────────


class EditResult(NamedTuple):
    spec_path: Path
    lock: LockResult
    written: tuple[str, ...]
    """The requirement strings as written into the spec (bare names got their lower bound)."""


def edit(
    directory: Path,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    group: str | None = None,
    python: str | None = None,
    cache_dir: str | None = None,
    offline: bool = False,
) -> EditResult:
    """``envspec add`` / ``remove``: edit the spec's text in place, re-lock, then write both.

    Nothing is written until the new spec has resolved: a requirement that cannot be satisfied
    leaves the spec and the lock byte-identical. A bare name gets a lower bound at the version
    the lock settled on (``rich`` → ``rich>=15.0.0``), as uv and Poetry do."""
    from packaging.requirements import Requirement as PackagingRequirement
    from packaging.utils import canonicalize_name

    from envspec.lock import text as lockfile
    from envspec.lock.memo import FreshnessMemo
    from envspec.fsutil import write_user_file
    from envspec.lock.model import LockInputs, build_lock, changes_between, locked_versions
    from envspec.spec.model import parse_spec
    from envspec.spec.edit import add_requirements, remove_requirements

    spec_path = find_spec(directory)
    if spec_path.name != SPEC_FILENAME:
        raise UserError(
            f"envspec add and remove edit {SPEC_FILENAME}; this project's spec is "
            f"{spec_path.name}.",
            hint="Edit [project].dependencies or [dependency-groups] in pyproject.toml.",
        )
    before = spec_path.read_bytes().decode("utf-8")
    if add:
        after = add_requirements(before, list(add), group=group)
    else:
        after = remove_requirements(before, list(remove), group=group)
    spec = parse_spec(after, path=spec_path)
    lock_path = spec.project_dir / LOCK_FILENAME
    existing = _read_lock(lock_path)
    resolution, target = _resolve(
        spec,
        lambda: _probe_for(spec, existing, python=python, cache_dir=cache_dir),
        locked=locked_versions(existing) if existing is not None else {},
        upgrade=frozenset(),
        cache_dir=cache_dir,
        offline=offline,
    )
    written: list[str] = []
    bounded: list[str] = []
    for text in add:
        requirement = PackagingRequirement(text)
        package = resolution.packages.get(canonicalize_name(requirement.name))
        if requirement.specifier or requirement.url or package is None:
            written.append(text)
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f"; {requirement.marker}" if requirement.marker else ""
        bounded.append(f"{requirement.name}{extras}>={package.version}{marker}")
        written.append(bounded[-1])
    if bounded:
        # the locked version satisfies its own lower bound: no second resolution needed
        after = add_requirements(after, bounded, group=group)
        spec = parse_spec(after, path=spec_path)
    new = build_lock(resolution, LockInputs.from_spec(spec), target)
    text = lockfile.dumps(new)
    write_user_file(spec_path, after.encode("utf-8"))
    old_text = lock_path.read_text(encoding="utf-8") if existing is not None else None
    if text != old_text:
        write_user_file(lock_path, text)
    FreshnessMemo(cache_root(cache_dir), spec_path).remember(lock_path, len(new.packages))
    result = LockResult(
        lock_path, text != old_text, tuple(changes_between(existing, new)), len(new.packages)
    )
    return EditResult(spec_path, result, tuple(written))


def last_synced_groups(directory: Path) -> tuple[list[str], bool]:
    """The groups the venv was last synced with (and whether that was ``--all-groups``), so
    that add/remove keep the venv as the user last asked for it."""
    from envspec.venv.state import read_state

    spec_path = spec_path_in(directory)
    venv_dir = _venv_dir_from_raw_spec(spec_path) if spec_path is not None else None
    state = read_state(venv_dir) if venv_dir is not None else None
    if state is None:
        return [], False
    if state.groups == ("*",):
        return [], True
    return list(state.groups), False


# ── tree / why / export ──────────────────────────────────────────────────────────────────────


def _existing_lock(directory: Path) -> tuple[Path, Pylock]:
    """The project's lock as committed (tree, why and export never re-lock)."""
    spec_path = find_spec(directory)
    lock_path = spec_path.parent / LOCK_FILENAME
    lock = _read_lock(lock_path)
    if lock is None:
        raise UserError(
            f"There is no {LOCK_FILENAME} next to {spec_path}.", hint="Run `envspec lock` first."
        )
    return lock_path, lock


def _lock_groups(lock: Pylock, groups: Sequence[str], all_groups: bool) -> list[str]:
    return list(lock.dependency_groups or ()) if all_groups else list(groups)


def tree(
    directory: Path,
    *,
    depth: int | None = None,
    invert: bool = False,
    groups: Sequence[str] = (),
    all_groups: bool = False,
) -> list[str]:
    from envspec.lock.graph import LockGraph, render_tree

    _, lock = _existing_lock(directory)
    graph = LockGraph.from_lock(lock, _lock_groups(lock, groups, all_groups))
    return render_tree(graph, depth=depth, invert=invert)


def why(directory: Path, name: str) -> list[str]:
    """Every path from the spec's requirements (every group included) to ``name``."""
    from envspec.lock.graph import LockGraph, render_why

    _, lock = _existing_lock(directory)
    return render_why(LockGraph.from_lock(lock, lock.dependency_groups), name, limit=100)


def export(
    directory: Path,
    *,
    format: str = "requirements.txt",
    groups: Sequence[str] = (),
    all_groups: bool = False,
) -> str:
    from envspec.lock import export as exporting
    from envspec.lock import text as lockfile

    _, lock = _existing_lock(directory)
    chosen = _lock_groups(lock, groups, all_groups)
    if format == "pylock.toml":
        return lockfile.dumps(exporting.to_pylock_subset(lock, chosen))
    return exporting.to_requirements_txt(lock, target_environment=None, groups=chosen)
