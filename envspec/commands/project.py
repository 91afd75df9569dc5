"""The project a command runs in: its spec found and loaded (envspec.toml or pyproject.toml), its
lock read, its groups and interpreter chosen, and its local sources compared with the lock. Every
command family goes through these loaders; none reads the files another way.

On the no-op ``sync`` path: the top imports stay the standard library and the foundation, and
each heavier import sits inside the function that needs it (the reason, each time: start-up time).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from envspec.errors import UserError
from envspec.fsutil import cache_root, clean_stale_temp

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from envspec.values.environments import Environment
    from packaging.pylock import Pylock

    from envspec.pythons.probe import Probe
    from envspec.spec.model import Spec

__all__ = [
    "LOCK_FILENAME",
    "PYPROJECT_FILENAME",
    "SPEC_FILENAME",
    "existing_lock",
    "find_spec",
    "load_any_spec",
    "local_source_change",
    "local_source_changes",
    "lock_environment",
    "lock_groups",
    "probe_for",
    "read_lock",
    "requested_groups",
    "spec_path_in",
    "venv_dir_from_raw_spec",
]

SPEC_FILENAME = "envspec.toml"
PYPROJECT_FILENAME = "pyproject.toml"  # envspec.spec.pyproject.PYPROJECT_FILENAME, imported lazily
LOCK_FILENAME = "pylock.toml"  # envspec.lock.text.LOCK_FILENAME, without importing the lock model


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
    clean_stale_temp(path.parent)  # what a killed lock or edit left (git ignores it meanwhile)
    return path


def load_any_spec(path: Path) -> Spec:
    if path.name == PYPROJECT_FILENAME:
        from envspec.spec.pyproject import load_pyproject_spec  # start-up: not on the no-op path

        return load_pyproject_spec(path)
    from envspec.spec.load import load_spec  # start-up: not on the no-op path

    return load_spec(path)


def read_lock(path: Path) -> Pylock | None:
    """The lock at ``path``; None when there is none."""
    from envspec.lock import text as lockfile  # start-up: tomllib, not on the no-op path

    try:
        text = path.read_bytes()  # decoded by loads: a non-UTF-8 lock is bad input, not a crash
    except FileNotFoundError:
        return None
    return lockfile.loads(text, path=path)


def existing_lock(directory: Path) -> tuple[Path, Pylock]:
    """The project's lock as committed (tree, why and export never re-lock)."""
    spec_path = find_spec(directory)
    lock_path = spec_path.parent / LOCK_FILENAME
    lock = read_lock(lock_path)
    if lock is None:
        raise UserError(
            f"There is no {LOCK_FILENAME} next to {spec_path}.", hint="Run `envspec lock` first."
        )
    return lock_path, lock


def venv_dir_from_raw_spec(spec_path: Path) -> Path | None:
    """The spec's ``[venv] path`` read with tomllib alone (no schema, no packaging): enough for
    the no-op check, which then compares the spec's digest with the one the venv recorded."""
    import tomllib  # start-up: only when the default venv's state does not vouch

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


def requested_groups(spec: Spec, groups: Sequence[str], all_groups: bool) -> list[str]:
    """The spec's groups a command asked for (every one with ``all_groups``); an unknown group is
    bad input."""
    from packaging.utils import canonicalize_name  # start-up: not on the no-op path

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


def lock_groups(lock: Pylock, groups: Sequence[str], all_groups: bool) -> list[str]:
    """The lock's groups a command asked for (every one the lock has with ``all_groups``)."""
    return list(lock.dependency_groups or ()) if all_groups else list(groups)


def lock_environment(lock: Pylock) -> str:
    """The environments the lock was made for, in words ("CPython 3.10–3.13 on linux-x86_64,
    macos-arm64; 3.11–3.13 on windows-arm64")."""
    from envspec.lock.tool import covered_ids  # start-up: an error path

    ids = covered_ids(lock)
    if ids:
        from envspec.values.environments import environment_by_id

        minors: dict[str, list[int]] = {}
        for ident in ids:
            environment = environment_by_id(ident)
            if environment is not None:
                minors.setdefault(environment.platform.id, []).append(environment.minor[1])
        spans: dict[str, list[str]] = {}
        for platform, found in minors.items():
            low, high = min(found), max(found)
            span = f"3.{low}" if low == high else f"3.{low}–3.{high}"
            spans.setdefault(span, []).append(platform)
        return "CPython " + "; ".join(f"{span} on {', '.join(p)}" for span, p in spans.items())
    if lock.environments:
        return " or ".join(str(marker) for marker in lock.environments)
    return "another environment"


def covered_for(
    spec: Spec, python_version: str | None, python_platform: str | None
) -> tuple[list[Environment], str | None]:
    """The environments a lock of ``spec`` covers, and the id of the one environment that
    ``--python-version`` / ``--python-platform`` asked for (None: every one the spec allows).

    A requested Python with a patch (``3.11.4``) is that exact version; a minor (``3.11``) its
    lowest release the spec allows. A platform alone takes the newest minor the spec allows; a
    version alone, this machine's platform."""
    # start-up: only a resolution asks
    import platform as host
    import sys

    from packaging.version import InvalidVersion, Version

    from envspec.values.environments import (
        PLATFORMS,
        Environment,
        covered_environments,
        host_platform,
        platform_named,
    )

    if python_version is None and python_platform is None:
        covered = covered_environments(spec.python, spec.environments)
        if not covered:
            raise UserError(
                f"python = {str(spec.python)!r} in {spec.path.name} allows no released CPython "
                "that envspec can lock for.",
                hint="Allow a released Python (3.8 or newer) in `python`.",
            )
        return covered, None
    if python_platform is not None:
        chosen = platform_named(python_platform)
        if chosen is None:
            known = ", ".join(p.id for p in PLATFORMS)
            raise UserError(
                f"Unknown platform {python_platform!r} for --python-platform.",
                hint=f"Use one of {known} (or linux, macos, windows).",
            )
    else:
        chosen = host_platform(sys.platform, host.machine())
        if chosen is None:
            raise UserError(
                f"This machine ({sys.platform} {host.machine()}) is not a platform envspec locks "
                "for; name one with --python-platform."
            )
    candidates = [e for e in covered_environments(spec.python) if e.platform == chosen]
    if python_version is not None:
        try:
            version = Version(python_version)
            if len(version.release) > 3 or any(part > 999 for part in version.release):
                raise InvalidVersion(python_version)
        except ValueError:  # InvalidVersion, or a number too long for int()
            raise UserError(
                f"--python-version {python_version[:40]!r} is not a Python version (3.11, 3.11.7)."
            ) from None
        if len(version.release) >= 3:
            environment = Environment(chosen, version)
            if not spec.python.contains(version, prereleases=True):
                candidates = []
            else:
                candidates = [environment]
        else:
            candidates = [e for e in candidates if e.minor == tuple(version.release[:2])]
    if not candidates:
        raise UserError(
            f"The spec's python = {str(spec.python)!r} does not allow Python "
            f"{python_version or 'of any released minor'} on {chosen.id}.",
            hint="Choose a --python-version the spec allows.",
        )
    return [candidates[-1]], candidates[-1].id


def probe_for(
    spec: Spec, existing: Pylock | None, *, python: str | None, cache_dir: str | None
) -> Probe:
    """The interpreter to lock or sync for, probed.

    ``--python``/``ENVSPEC_PYTHON`` decide when given. Otherwise, among the interpreters that
    satisfy the spec, one of the Python version the existing lock was made for is preferred, so
    that a teammate with several Pythons installed does not re-lock for another one; failing
    that, the newest that satisfies the spec.
    """
    # start-up: not on the no-op path
    import os

    from packaging.version import InvalidVersion, Version

    from envspec.lock.tool import locked_python
    from envspec.pythons.discover import (
        choose_interpreter,
        find_interpreters,
        python_version_file,
        version_request,
    )
    from envspec.pythons.probe import probe_interpreter

    root = cache_root(cache_dir)
    request = python or os.environ.get("ENVSPEC_PYTHON") or None
    from_file = False
    if request is None:
        request = python_version_file(spec.project_dir)
        from_file = request is not None
    wanted_version = version_request(request) if request is not None else None
    if from_file and wanted_version is None:
        request = None  # a .python-version naming no CPython version (pypy, a venv name): unused
    if wanted_version is not None:
        env = {k: v for k, v in os.environ.items() if k != "ENVSPEC_PYTHON"}
        where = ".python-version" if from_file else f"--python {request}"
        if not any(spec.python.contains(v, prereleases=True) for v in _versions_in(wanted_version)):
            raise UserError(
                f"{where} asks for Python {request}, which the spec's python = "
                f"{str(spec.python)!r} does not allow.",
                hint="Ask for a Python the spec allows, or widen `python` in the spec.",
            )
        picked = choose_interpreter(spec.python & wanted_version, env=env, cache_dir=root)
        return probe_interpreter(picked.path, cache_dir=root)
    explicit = Path(request) if request else None
    chosen = None
    recorded = locked_python(existing)
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


def _versions_in(specifier: SpecifierSet) -> list[Version]:
    """A few versions a version request admits (``==3.11.*`` → 3.11.0 … 3.11.30)."""
    from packaging.version import Version

    text = str(specifier).removeprefix("==")
    if text.endswith(".*"):
        base = text.removesuffix(".*")
        return [Version(f"{base}.{micro}") for micro in range(0, 31)]
    return [Version(text)]


def local_source_change(directory: Path, *, editable: bool, recorded: str) -> str | None:
    """How a local source directory differs from the digest recorded for it (by the lock or by
    the venv's state): "missing", "unreadable: <why>" or "changed"; None when it is the same.
    The one comparison of local-source digests."""
    from envspec.sources.pep517 import SourceUnreadable, source_digest  # start-up: rare

    if not directory.is_dir():
        return "missing"
    try:
        current = source_digest(directory, editable=editable)
    except (SourceUnreadable, OSError) as error:
        return f"unreadable: {error}"
    return None if current == recorded else "changed"


def local_source_changes(lock: Pylock, lock_dir: Path) -> list[str]:
    """Local directories of the lock whose inputs changed since it was written (their digest
    differs): the lock is stale for them, as it is for a changed spec."""
    from envspec.lock.model import from_lock_relative, source_digests  # start-up: no-op path

    reasons = []
    for name, (path, editable, recorded) in sorted(source_digests(lock).items()):
        change = local_source_change(
            from_lock_relative(path, lock_dir), editable=editable, recorded=recorded
        )
        if change == "missing":
            reasons.append(f"the local source of {name!r} ({path}) no longer exists")
        elif change is not None and change.startswith("unreadable: "):
            why = change.removeprefix("unreadable: ")
            reasons.append(f"the local source of {name!r} ({path}) cannot be read: {why}")
        elif change == "changed":
            what = "its build configuration" if editable else "its files"
            reasons.append(
                f"the local source of {name!r} ({path}) changed since it was locked ({what})"
            )
    return reasons
