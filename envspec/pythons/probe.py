"""Learn what an interpreter is by running it once, and remember the answer.

envspec (Python >= 3.11, with ``packaging``) builds venvs for other interpreters (any CPython >= 3.8,
without ``packaging``), so it cannot ask ``packaging.tags.sys_tags()`` of the target directly. Instead
``_probe_script.py`` runs under the target and prints raw facts (version, marker environment,
sysconfig variables, venv scheme); this module turns them into a :class:`Probe` with a
:class:`envspec.values.target.Target`, computing the wheel tags with ``packaging.tags``' public functions.

Platform tags: when the target's ``sysconfig.get_platform()``, pointer size and glibc version equal
envspec's own, the target runs on this machine with the same C library, so the host's
``packaging.tags.platform_tags()`` is exactly right (manylinux/musllinux detection included). Otherwise
(a 32-bit interpreter on a 64-bit host, an x86_64 build under Rosetta, ...) the platforms are derived
from the probed facts alone. That derivation is a best effort with one known gap: musllinux tags are
not derived (finding the musl version needs the target's loader), and manylinux tags trust the probed
glibc version without the ``_manylinux`` module override some distributors ship.

Spawning an interpreter costs tens of milliseconds, so answers are cached as JSON under
``<cache>/interpreters-v1/``, keyed by the interpreter's absolute path, its real path, its mtime and
size, and a digest of the probe script: upgrading the interpreter in place, retargeting a symlink or
changing the script all miss the cache.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import sysconfig
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from packaging.tags import (
    INTERPRETER_SHORT_NAMES,
    Tag,
    compatible_tags,
    cpython_tags,
    generic_tags,
    mac_platforms,
    platform_tags,
)
from packaging.version import InvalidVersion, Version

from envspec.errors import OutsideWorldError
from envspec.fsutil import atomic_write_text, cache_root
from envspec.pythons.runner import CommandNotRun, Runner, output_text, run_command
from envspec.values.target import Target

__all__ = [
    "CACHE_DIRNAME",
    "PROBE_TIMEOUT_SECONDS",
    "InterpreterProbeFailed",
    "Probe",
    "probe_interpreter",
]

CACHE_DIRNAME = "interpreters-v1"
PROBE_TIMEOUT_SECONDS = 10.0
_PROTOCOL = 1
_STDERR_TAIL_CHARS = 2000
_RELEASE_LEVELS = {"alpha": "a", "beta": "b", "candidate": "rc"}


class InterpreterProbeFailed(OutsideWorldError):
    """Running the probe script under an interpreter did not produce an answer."""

    def __init__(self, path: Path, reason: str, *, stderr: str = "") -> None:
        tail = stderr.strip()[-_STDERR_TAIL_CHARS:]
        message = f"Could not probe the Python interpreter {str(path)!r}: {reason}."
        if tail:
            message += "\nIts stderr ended with:\n" + _indent(tail)
        super().__init__(
            message,
            hint="Check that this file is a working Python interpreter, or choose another one "
            "with --python PATH or ENVSPEC_PYTHON.",
        )
        self.path = path
        self.reason = reason
        self.stderr_tail = tail


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """What one interpreter is, as far as building and filling a venv for it goes."""

    path: Path
    """The interpreter as it was asked for (absolute, symlinks not resolved)."""

    version: Version
    """The full interpreter version, e.g. ``3.12.1`` or ``3.13.0rc2``."""

    implementation: str
    """``sys.implementation.name``: "cpython", "pypy", ..."""

    target: Target
    """Version, marker environment and supported wheel tags, for resolution and installs."""

    prefix: Path
    """``sys.prefix``; differs from ``base_prefix`` when the interpreter belongs to a venv."""

    base_prefix: Path
    """``sys.base_prefix``: the installation the interpreter (or its venv) is built on."""

    scheme: Mapping[str, str]
    """purelib, platlib, scripts, data, include relative to a venv's root, in the interpreter's own
    path style (``lib/python3.12/site-packages`` or ``Lib\\site-packages``)."""

    platform: str
    """``sysconfig.get_platform()`` of the interpreter, e.g. ``linux-x86_64``, ``win-amd64``."""

    @property
    def is_venv(self) -> bool:
        return self.prefix != self.base_prefix


def probe_interpreter(
    path: Path,
    *,
    cache_dir: Path | None = None,
    timeout: float = PROBE_TIMEOUT_SECONDS,
    runner: Runner = run_command,
) -> Probe:
    """Probe the interpreter at ``path`` (cached; spawns it only on a cache miss).

    ``cache_dir`` is envspec's cache root (``envspec.fsutil.cache_root()`` when None); answers live in
    its ``interpreters-v1/`` folder. Raises :class:`InterpreterProbeFailed` when the file is missing,
    is not a Python that can run the script, crashes, or takes longer than ``timeout`` seconds.
    ``runner`` starts the interpreter (a test's fake, or :func:`envspec.pythons.runner.run_command`).
    """
    path = Path(os.path.abspath(path))
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise InterpreterProbeFailed(path, "it does not exist") from None
    except OSError as error:
        raise InterpreterProbeFailed(
            path, f"it cannot be read ({error.strerror or error})"
        ) from None
    if path.is_dir():
        raise InterpreterProbeFailed(path, "it is a directory")
    script = _probe_script_source()
    key = _cache_key(path, stat, script)
    entry = cache_root(cache_dir) / CACHE_DIRNAME / f"{key}.json"

    cached = _read_cached(path, entry)
    if cached is not None:
        return cached
    facts = _run_probe_script(path, script, timeout, runner)
    try:
        probe = _probe_from_facts(path, facts)
    except (KeyError, TypeError, ValueError, InvalidVersion) as error:
        raise InterpreterProbeFailed(path, f"its answer was malformed ({error!r})") from None
    record = {"path": str(path), "facts": facts}
    try:
        atomic_write_text(entry, json.dumps(record, sort_keys=True, indent=1) + "\n")
    except OSError:
        pass  # an unwritable cache only costs a spawn next time
    return probe


# ── running the script ───────────────────────────────────────────────────────────────────────────


@functools.cache
def _probe_script_source() -> str:
    return resources.files(__package__).joinpath("_probe_script.py").read_text(encoding="utf-8")


def _cache_key(path: Path, stat: os.stat_result, script: str) -> str:
    identity = [
        str(path),
        os.path.realpath(path),
        stat.st_mtime_ns,
        stat.st_size,
        hashlib.sha256(script.encode("utf-8")).hexdigest(),
    ]
    return hashlib.sha256(json.dumps(identity).encode("utf-8")).hexdigest()


def _read_cached(path: Path, entry: Path) -> Probe | None:
    try:
        record = json.loads(entry.read_text(encoding="utf-8"))
        if record["path"] != str(path):
            return None
        return _probe_from_facts(path, record["facts"])
    except (OSError, KeyError, TypeError, ValueError, InvalidVersion):
        return None  # absent or unreadable: probe again and overwrite


def _run_probe_script(
    path: Path, script: str, timeout: float, runner: Runner
) -> dict[str, Any]:
    try:
        done = runner([str(path), "-I", "-c", script], timeout=timeout)
    except CommandNotRun as error:
        if error.timed_out:
            raise InterpreterProbeFailed(
                path, f"it did not answer within {timeout:g} s", stderr=error.stderr
            ) from None
        raise InterpreterProbeFailed(path, f"it cannot be run ({error.reason})") from None
    stderr = output_text(done.stderr)
    if done.returncode != 0:
        raise InterpreterProbeFailed(
            path, f"it exited with status {done.returncode}", stderr=stderr
        )
    lines = [line for line in output_text(done.stdout).splitlines() if line.strip()]
    try:
        facts = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise InterpreterProbeFailed(path, "it printed no probe answer", stderr=stderr) from None
    if not isinstance(facts, dict) or facts.get("protocol") != _PROTOCOL:
        raise InterpreterProbeFailed(path, "its answer is not probe protocol 1", stderr=stderr)
    return facts


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


# ── turning facts into a Probe ───────────────────────────────────────────────────────────────────


def _probe_from_facts(path: Path, facts: Mapping[str, Any]) -> Probe:
    version = _version(facts["version_info"])
    implementation = str(facts["implementation"])
    markers = {str(key): str(value) for key, value in facts["markers"].items()}
    scheme = {str(key): str(value) for key, value in facts["scheme"].items()}
    tags = tuple(_supported_tags(version, implementation, facts["tags"]))
    return Probe(
        path=path,
        version=version,
        implementation=implementation,
        target=Target(python_version=version, markers=markers, tags=tags),
        prefix=Path(facts["prefix"]),
        base_prefix=Path(facts["base_prefix"]),
        scheme=scheme,
        platform=str(facts["platform"]),
    )


def _version(info: list[Any]) -> Version:
    major, minor, micro, level, serial = info
    text = f"{int(major)}.{int(minor)}.{int(micro)}"
    if level != "final":
        text += f"{_RELEASE_LEVELS.get(level, level)}{int(serial)}"
    return Version(text)


def _supported_tags(
    version: Version, implementation: str, facts: Mapping[str, Any]
) -> Iterator[Tag]:
    """The target's ``packaging.tags.sys_tags()``, most preferred first, from probed facts."""
    python_version = (version.major, version.minor)
    nodot = str(facts.get("py_version_nodot") or f"{version.major}{version.minor}")
    platforms = _platforms(facts)
    if implementation == "cpython":
        yield from cpython_tags(python_version, _cpython_abis(python_version, facts), platforms)
        yield from compatible_tags(python_version, f"cp{nodot}", platforms)
        return
    short_name = INTERPRETER_SHORT_NAMES.get(implementation) or implementation
    yield from generic_tags(f"{short_name}{nodot}", _generic_abis(facts), platforms)
    yield from compatible_tags(python_version, "pp3" if short_name == "pp" else None, platforms)


def _cpython_abis(python_version: tuple[int, int], facts: Mapping[str, Any]) -> list[str]:
    # The rules of packaging.tags._cpython_abis, applied to the target's config variables.
    nodot = f"{python_version[0]}{python_version[1]}"
    with_debug = facts.get("py_debug")
    has_debug_ext = "_d.pyd" in facts.get("extension_suffixes", [])
    debug = ""
    if with_debug or (with_debug is None and (facts.get("has_gettotalrefcount") or has_debug_ext)):
        debug = "d"
    threading = "t" if python_version >= (3, 13) and facts.get("py_gil_disabled") else ""
    pymalloc = ""
    abis: list[str] = []
    if python_version < (3, 8):
        with_pymalloc = facts.get("with_pymalloc")
        if with_pymalloc or with_pymalloc is None:
            pymalloc = "m"
    elif debug:
        abis.append(f"cp{nodot}{threading}")  # debug builds also load normal extension modules
    abis.insert(0, f"cp{nodot}{threading}{debug}{pymalloc}")
    return abis


def _generic_abis(facts: Mapping[str, Any]) -> list[str]:
    # The rules of packaging.tags._generic_abi: the ABI part of EXT_SUFFIX
    # (".pypy310-pp73-x86_64-linux-gnu.so" -> "pypy310_pp73").
    ext_suffix = facts.get("ext_suffix")
    if not isinstance(ext_suffix, str) or not ext_suffix.startswith("."):
        return []
    parts = ext_suffix.split(".")
    if len(parts) < 3 or not parts[1]:
        return []
    soabi = parts[1]
    if soabi.startswith("cpython"):
        abi = "cp" + soabi.split("-")[1]
    elif soabi.startswith("cp"):
        abi = soabi.split("-")[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(soabi.split("-")[:3])
    else:
        abi = soabi
    return [_normalize(abi)]


def _normalize(text: str) -> str:
    return text.replace(".", "_").replace("-", "_").replace(" ", "_")


# ── platform tags ────────────────────────────────────────────────────────────────────────────────


def _platforms(facts: Mapping[str, Any]) -> list[str]:
    if (
        facts.get("platform") == sysconfig.get_platform()
        and facts.get("pointer_size") == struct.calcsize("P")
        and facts.get("glibc_version") == _host_glibc_version()
    ):
        return list(_host_platform_tags())
    return list(_derived_platforms(facts))


@functools.cache
def _host_platform_tags() -> tuple[str, ...]:
    return tuple(platform_tags())


@functools.cache
def _host_glibc_version() -> str | None:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") or None
    except (AttributeError, OSError, ValueError):
        return None


def _derived_platforms(facts: Mapping[str, Any]) -> Iterator[str]:
    """Platform tags for an interpreter that is not built like envspec's own (see module doc)."""
    plat = str(facts.get("platform") or "")
    is_32bit = facts.get("pointer_size") == 4
    mac_release, mac_machine = (facts.get("mac_ver") or ["", ""])[:2]
    if facts.get("platform_system") == "Darwin" and mac_release:
        major, minor = (int(part) for part in (mac_release.split(".") + ["0"])[:2])
        arch = str(mac_machine)
        if is_32bit:
            arch = "ppc" if arch.startswith("ppc") else "i386"
        yield from mac_platforms((major, minor), arch)
        return
    linux = _normalize(plat)
    if not linux.startswith("linux_"):
        yield linux
        return
    if is_32bit:
        linux = {"linux_x86_64": "linux_i686", "linux_aarch64": "linux_armv8l"}.get(linux, linux)
    arch = linux.split("_", 1)[1]
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    for each in archs:
        yield f"linux_{each}"
    glibc = str(facts.get("glibc_version") or "")
    if glibc.startswith("glibc "):
        yield from _manylinux_platforms(glibc.removeprefix("glibc "), archs)


_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
_MANYLINUX_ARCHS = {
    "x86_64",
    "i686",
    "aarch64",
    "armv7l",
    "ppc64",
    "ppc64le",
    "s390x",
    "loongarch64",
    "riscv64",
}


def _manylinux_platforms(glibc: str, archs: list[str]) -> Iterator[str]:
    # PEP 600: manylinux_2_Y for every Y from the target's glibc down to the oldest policy, newest
    # first, with the legacy aliases after their equivalents (as packaging.tags orders them).
    try:
        major, minor = (int(part) for part in glibc.split(".")[:2])
    except ValueError:
        return
    if major != 2:
        return
    oldest = 5 if set(archs) & {"x86_64", "i686"} else 17
    for arch in archs:
        if arch not in _MANYLINUX_ARCHS:
            continue
        for glibc_minor in range(minor, oldest - 1, -1):
            yield f"manylinux_2_{glibc_minor}_{arch}"
            legacy = _LEGACY_MANYLINUX.get((2, glibc_minor))
            if legacy:
                yield f"{legacy}_{arch}"
