"""Find the Python interpreters on this machine and pick the one a spec asks for.

A user who writes ``python = ">=3.11"`` expects envspec to find the 3.12 they installed with pyenv
or their OS without being told where it is, and a user who says ``--python PATH`` (or sets
``ENVSPEC_PYTHON``) expects exactly that interpreter and no guessing. Discovery therefore looks in
the places people install Pythons (PATH, pyenv, the Windows ``py`` launcher), skips what only
*looks* like an interpreter (pyenv shims, which pick a version per directory; broken links;
non-executables), and asks each remaining file what it is through the cached probe, so a second
run costs a ``stat`` and a small JSON read per interpreter rather than a process spawn.

Only CPython >= 3.8 is ever chosen; others are still listed, so that "nothing matches" can say what
*was* found and why it did not count.
"""

from __future__ import annotations

import locale
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from envspec.errors import OutsideWorldError
from envspec.pythons.probe import PROBE_TIMEOUT_SECONDS, InterpreterProbeFailed, probe_interpreter
from envspec.pythons.runner import CommandNotRun, Runner, run_command

__all__ = [
    "python_version_file",
    "version_request",
    "MINIMUM_PYTHON",
    "Interpreter",
    "InterpreterNotFound",
    "choose_interpreter",
    "find_interpreters",
    "parse_py_list_paths",
]

MINIMUM_PYTHON = Version("3.8")
"""The oldest Python envspec builds venvs for (the probe script's floor)."""

_IS_WINDOWS = os.name == "nt"
# python3.X names looked up on PATH: old ones too (3.6, 3.7), so they can be reported as too old.
# Free-threaded builds (3.13+) also install python3.Xt.
_POSIX_NAMES = tuple(
    name
    for minor in range(19, 5, -1)
    for name in (
        (f"python3.{minor}", f"python3.{minor}t") if minor >= 13 else (f"python3.{minor}",)
    )
) + ("python3", "python")
_WINDOWS_NAMES = ("python.exe", "python3.exe")
_SHIM_MARKERS = (b"pyenv", b"asdf", b"mise")
# " -V:3.12 *   C:\\...\\python.exe" (launcher 3.11+) or " -3.9-64   C:\\...\\python.exe *" (older)
_PY_LIST_LINE = re.compile(r"^\s*-\S+(?:\s+\*)?\s+(?P<path>\S.*?)(?:\s+\*)?\s*$")
# The newest Python line with a final release when this was written (raised by the running one).
_NEWEST_RELEASED_MINOR = 14
_DISPLAY_NAMES = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Interpreter:
    """One interpreter found on this machine."""

    path: Path
    """Where it was found, absolute but not resolved (a venv's or pyenv's symlink stays one)."""

    version: Version
    """Its full version, from the probe."""

    implementation: str
    """``sys.implementation.name``: "cpython", "pypy", ..."""

    source: str
    """Where it was found: "--python", "ENVSPEC_PYTHON", "PATH", "pyenv" or "py launcher"."""

    @property
    def is_supported(self) -> bool:
        """Whether envspec may choose it: CPython, version >= 3.8."""
        return self.implementation == "cpython" and self.version >= MINIMUM_PYTHON

    def describe(self) -> str:
        """``CPython 3.12.1 at /path/python3 (pyenv)``: one line for listings and messages."""
        name = _DISPLAY_NAMES.get(self.implementation, self.implementation)
        return f"{name} {self.version} at {self.path} ({self.source})"


class InterpreterNotFound(OutsideWorldError):
    """No interpreter fits: none matches the spec, or the one asked for does not exist.

    Carries what was asked for (``requested``, None when an explicit path was missing), every
    interpreter ``found``, and the files that looked like interpreters but could not be run
    (``unusable``: path and reason).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        requested: SpecifierSet | None = None,
        found: Iterable[Interpreter] = (),
        unusable: Iterable[tuple[Path, str]] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.requested = requested
        self.found = list(found)
        self.unusable = list(unusable)


@dataclass(frozen=True, slots=True)
class _Candidate:
    path: Path
    source: str


def version_request(text: str) -> SpecifierSet | None:
    """``--python 3.11`` (or ``3.11.7``, ``cpython3.12``, ``cp312``): a request for a version,
    not a path or a command; None for anything else. ``3.11`` means any 3.11, ``3.11.7`` exactly
    that one (as in a spec's ``python``)."""
    import re

    match = re.fullmatch(r"(?:cpython-?|cp)?(\d{1,2}(?:\.\d{1,3}){1,2})", text.strip().lower())
    if match is None:
        short = re.fullmatch(r"cp(\d)(\d{1,2})", text.strip().lower())
        if short is None:
            return None
        return SpecifierSet(f"=={short.group(1)}.{short.group(2)}.*")
    digits = match.group(1)
    return SpecifierSet(f"=={digits}.*" if digits.count(".") == 1 else f"=={digits}")


def python_version_file(directory: Path) -> str | None:
    """The first line of ``.python-version`` in the project (as pyenv and uv read it), if any."""
    try:
        with open(directory / ".python-version", "rb") as handle:
            text = handle.read(4096).decode("utf-8")  # a version is a few bytes; never read more
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            return line
    return None


def find_interpreters(
    *,
    explicit: Path | None = None,
    env: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> list[Interpreter]:
    """Every interpreter found, newest first (ties keep discovery order: explicit, PATH, pyenv, py).

    With ``explicit`` (``--python``), or else ``ENVSPEC_PYTHON`` in ``env``, only that interpreter
    is looked at, and a missing or broken one raises (:class:`InterpreterNotFound`,
    :class:`~envspec.pythons.probe.InterpreterProbeFailed`). Otherwise files that fail to probe are
    skipped. ``env`` defaults to ``os.environ``; ``cache_dir`` is passed on to the probe.
    """
    found, _ = _discover(explicit=explicit, env=env, cache_dir=cache_dir)
    return found


def choose_interpreter(
    python: SpecifierSet,
    *,
    explicit: Path | None = None,
    env: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> Interpreter:
    """The newest supported CPython whose version satisfies ``python`` (the spec's ``python`` key).

    Pre-release Pythons count only when ``python`` names a pre-release (``>=3.14.0rc1``). Raises
    :class:`InterpreterNotFound` listing everything found when nothing fits.
    """
    allow_prereleases = bool(python.prereleases)

    def could_match(candidate: _Candidate) -> bool:
        # Skip probing what its name already rules out (pyenv's versions/3.6.15, python3.8):
        # a cold discovery then spawns only the interpreters that might be chosen.
        hint = _version_hint(candidate.path)
        if hint is None:
            return True
        if len(hint.release) >= 3:
            return python.contains(hint, prereleases=True)
        major, minor = hint.release[0], hint.release[1]
        return any(
            python.contains(Version(f"{major}.{minor}.{micro}"), prereleases=True)
            for micro in (0, 1, 5, 10, 20, 50, 99)
        )

    found, unusable = _discover(explicit=explicit, env=env, cache_dir=cache_dir, keep=could_match)
    for interpreter in found:
        if interpreter.is_supported and python.contains(
            interpreter.version, prereleases=allow_prereleases
        ):
            return interpreter
    # nothing fits: the error lists every interpreter on the machine, so probe them all
    found, unusable = _discover(explicit=explicit, env=env, cache_dir=cache_dir)
    raise _no_match(python, found, unusable)


# ── discovery ────────────────────────────────────────────────────────────────────────────────────


def _discover(
    *,
    explicit: Path | None,
    env: Mapping[str, str] | None,
    cache_dir: Path | None,
    keep: Callable[[_Candidate], bool] | None = None,
) -> tuple[list[Interpreter], list[tuple[Path, str]]]:
    environ = _environ(env)
    chosen = _explicit_candidate(explicit, environ)
    if chosen is not None:
        explicit_probe = probe_interpreter(chosen.path, cache_dir=cache_dir)
        return [_interpreter(chosen, explicit_probe.version, explicit_probe.implementation)], []

    candidates = _unique(
        [*_path_candidates(environ), *_pyenv_candidates(environ), *_py_launcher_candidates(environ)]
    )
    if keep is not None:
        candidates = [candidate for candidate in candidates if keep(candidate)]

    def probe_one(candidate: _Candidate) -> Interpreter | tuple[Path, str]:
        try:
            result = probe_interpreter(candidate.path, cache_dir=cache_dir)
        except InterpreterProbeFailed as error:
            return (candidate.path, error.reason)
        return _interpreter(candidate, result.version, result.implementation)

    if len(candidates) > 1:
        with ThreadPoolExecutor(max_workers=min(8, len(candidates))) as pool:
            results = list(pool.map(probe_one, candidates))
    else:
        results = [probe_one(candidate) for candidate in candidates]
    found = [result for result in results if isinstance(result, Interpreter)]
    unusable = [result for result in results if not isinstance(result, Interpreter)]
    found.sort(key=lambda interpreter: interpreter.version, reverse=True)  # stable: ties keep order
    return found, unusable


def _version_hint(path: Path) -> Version | None:
    """The version a path's name promises: pyenv's ``versions/3.11.7/bin/python3`` (exact) or
    ``python3.11`` (the minor version); None when the name says nothing."""
    name = path.name.removesuffix(".exe")
    if name.startswith("python3.") and name[len("python3."):].isdigit():
        return Version(name[len("python") :])
    # pyenv: versions/<v>/bin/python3; pyenv-win: versions/<v>/python.exe
    home = path.parent.parent if path.parent.name == "bin" else path.parent
    if home.parent.name == "versions":
        try:
            hint = Version(home.name)
        except InvalidVersion:
            return None
        return hint if len(hint.release) >= 2 else None
    return None


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _interpreter(candidate: _Candidate, version: Version, implementation: str) -> Interpreter:
    return Interpreter(
        path=candidate.path, version=version, implementation=implementation, source=candidate.source
    )


def _explicit_candidate(explicit: Path | None, env: Mapping[str, str]) -> _Candidate | None:
    if explicit is not None:
        value, source = str(explicit), "--python"
    elif env.get("ENVSPEC_PYTHON"):
        value, source = env["ENVSPEC_PYTHON"], "ENVSPEC_PYTHON"
    else:
        return None
    looks_like_a_path = os.sep in value or (os.altsep is not None and os.altsep in value)
    if looks_like_a_path:
        path = Path(os.path.abspath(os.path.expanduser(value)))
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            raise InterpreterNotFound(
                f"The Python interpreter given by {source}, {value!r}, {what}.",
                hint=f"Give {source} the path of a Python executable, e.g. /usr/bin/python3.12.",
            )
        return _Candidate(path, source)
    # A bare name ("python3.12") is looked up on PATH, as a shell would.
    found = shutil.which(value, path=env.get("PATH", ""))
    if found is None:
        raise InterpreterNotFound(
            f"The Python interpreter given by {source}, {value!r}, was not found on PATH.",
            hint=f"Give {source} a full path, or a command name that is on PATH.",
        )
    return _Candidate(Path(os.path.abspath(found)), source)


def _path_candidates(env: Mapping[str, str]) -> list[_Candidate]:
    names = _WINDOWS_NAMES if _IS_WINDOWS else _POSIX_NAMES
    candidates = []
    for entry in env.get("PATH", "").split(os.pathsep):
        if not entry:
            continue
        directory = Path(os.path.abspath(os.path.expanduser(entry)))
        for name in names:
            path = directory / name
            if _is_interpreter_file(path):
                candidates.append(_Candidate(path, "PATH"))
    return candidates


def _pyenv_candidates(env: Mapping[str, str]) -> list[_Candidate]:
    if env.get("PYENV_ROOT"):
        roots = [Path(env["PYENV_ROOT"]).expanduser()]
    elif _IS_WINDOWS:
        roots = [_home(env) / ".pyenv" / "pyenv-win", _home(env) / ".pyenv"]
    else:
        roots = [_home(env) / ".pyenv"]
    pattern = "versions/*/python.exe" if _IS_WINDOWS else "versions/*/bin/python3"
    candidates = []
    for root in roots:
        for path in sorted(Path(os.path.abspath(root)).glob(pattern)):
            if _is_interpreter_file(path):
                candidates.append(_Candidate(path, "pyenv"))
    return candidates


def _py_launcher_candidates(
    env: Mapping[str, str], runner: Runner = run_command
) -> list[_Candidate]:
    if not _IS_WINDOWS:
        return []
    launcher = shutil.which("py", path=env.get("PATH", ""))
    if launcher is None:
        return []
    try:
        done = runner([launcher, "--list-paths"], timeout=PROBE_TIMEOUT_SECONDS)
    except CommandNotRun:
        return []
    # the launcher writes in the locale's encoding (what text=True decoded with)
    output = done.stdout.decode(locale.getpreferredencoding(False), errors="replace")
    return [
        _Candidate(path, "py launcher")
        for path in parse_py_list_paths(output)
        if _is_interpreter_file(path)
    ]


def parse_py_list_paths(output: str) -> list[Path]:
    """The interpreter paths in ``py --list-paths`` output, in the launcher's order.

    Both launcher formats are understood: `` -V:3.12 *        C:\\Python312\\python.exe`` (3.11+,
    ``*`` marks the default) and `` -3.9-64        C:\\Python39\\python.exe`` (older).
    """
    paths = []
    for line in output.splitlines():
        match = _PY_LIST_LINE.match(line)
        if match and match["path"].lower().endswith(".exe"):
            paths.append(Path(match["path"]))
    return paths


def _home(env: Mapping[str, str]) -> Path:
    for name in ("USERPROFILE", "HOME") if _IS_WINDOWS else ("HOME",):
        if env.get(name):
            return Path(env[name])
    return Path.home()


def _is_interpreter_file(path: Path) -> bool:
    """A regular file (through symlinks), executable, and not a version manager's shim."""
    try:
        if not path.is_file():  # missing, a directory, or a broken symlink
            return False
    except OSError:
        return False
    if not _IS_WINDOWS and not os.access(path, os.X_OK):
        return False
    return not _is_shim(path)


def _is_shim(path: Path) -> bool:
    # pyenv, asdf and mise put shims in a "shims" folder; a shim re-decides the version per working
    # directory, so it is not one interpreter. A shim script elsewhere still names its manager.
    if path.parent.name == "shims" or Path(os.path.realpath(path)).parent.name == "shims":
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(2048)
    except OSError:
        return True
    return head.startswith(b"#!") and any(marker in head for marker in _SHIM_MARKERS)


def _unique(candidates: list[_Candidate]) -> list[_Candidate]:
    """One candidate per real file (``python3`` -> ``python3.12`` is found twice).

    A venv's ``bin/python`` is a link to its base interpreter, so an activated venv on PATH would
    otherwise stand in for the installation itself; and envspec may delete that very venv to
    rebuild it. So a candidate outside any venv wins its group, which keeps the place of the group's
    first member.
    """
    groups: dict[str, list[_Candidate]] = {}
    for candidate in candidates:
        real = os.path.normcase(os.path.realpath(candidate.path))
        groups.setdefault(real, []).append(candidate)
    return [
        next((each for each in group if not _inside_venv(each.path)), group[0])
        for group in groups.values()
    ]


def _inside_venv(path: Path) -> bool:
    # How Python itself recognises a venv: pyvenv.cfg beside the executable or one folder up.
    return (path.parent / "pyvenv.cfg").is_file() or (path.parent.parent / "pyvenv.cfg").is_file()


# ── the "nothing fits" message ───────────────────────────────────────────────────────────────────


def _no_match(
    python: SpecifierSet,
    found: list[Interpreter],
    unusable: list[tuple[Path, str]],
) -> InterpreterNotFound:
    wanted = repr(str(python)) if str(python) else "any version"
    lines = [f"No Python interpreter found for python = {wanted}."]
    if found:
        lines.append("Interpreters found:")
        allow_prereleases = bool(python.prereleases)
        for interpreter in found:
            why = _why_not(interpreter, python, allow_prereleases)
            lines.append(f"  {interpreter.describe()}" + (f": {why}" if why else ""))
    else:
        lines.append("No interpreters were found (looked on PATH and in pyenv's versions).")
    if unusable:
        lines.append("Could not run:")
        lines.extend(f"  {path}: {reason}" for path, reason in unusable)
    suggestion = _suggested_minor(python)
    install = f"`pyenv install {suggestion}`" if suggestion else "pyenv or your OS's packages"
    return InterpreterNotFound(
        "\n".join(lines),
        hint=(
            f"Install a matching CPython (for example with {install}), or point envspec at one "
            "with --python PATH or ENVSPEC_PYTHON=PATH."
        ),
        requested=python,
        found=found,
        unusable=unusable,
    )


def _why_not(interpreter: Interpreter, python: SpecifierSet, allow_prereleases: bool) -> str | None:
    if interpreter.implementation != "cpython":
        return "not CPython, which is the only implementation envspec builds venvs for"
    if interpreter.version < MINIMUM_PYTHON:
        return f"too old, envspec needs CPython >= {MINIMUM_PYTHON}"
    if (
        interpreter.version.is_prerelease
        and not allow_prereleases
        and python.contains(interpreter.version, prereleases=True)
    ):
        return "a pre-release, used only when `python` names one (e.g. '>=3.14.0rc1')"
    return None  # a plain version mismatch needs no comment


def _suggested_minor(python: SpecifierSet) -> str | None:
    """A ``3.X`` to suggest installing: the newest released line that satisfies ``python``, else the
    oldest future one that does."""
    newest_released = max(_NEWEST_RELEASED_MINOR, sys.version_info[1])
    released = range(newest_released, MINIMUM_PYTHON.minor - 1, -1)
    future = range(newest_released + 1, newest_released + 10)
    for minor in (*released, *future):
        if any(python.contains(Version(f"3.{minor}.{micro}")) for micro in (0, 99)):
            return f"3.{minor}"
    return None
