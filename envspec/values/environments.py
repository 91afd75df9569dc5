"""The environments one lock covers, described without an interpreter.

A team's lock must serve every machine the project supports: each CPython minor the spec's
``python`` allows (up to the newest released) on Linux, macOS and Windows, x86-64 and arm64. None of
those machines is this one, so an environment here is pure data: the full PEP 508 marker
environment a real CPython of that minor reports on that platform, and the wheel tags it accepts,
generated with :mod:`packaging.tags` from explicit arguments (never from the running interpreter,
whose ABI flags and glibc would otherwise leak in).

Two traps this module exists to avoid: ``Marker.evaluate`` fills any key missing from the given
environment with the *host's* value, so every environment carries all eleven keys; and
``cpython_tags`` without ``abis`` reads the host interpreter's build flags, so the ABI is always
passed.

What markers cannot express is not modelled: the glibc or macOS level of a machine, musl, and
free-threaded builds. Every manylinux level and every macOS version is accepted (as uv does); a
machine below the level a chosen wheel needs finds out at install time, with a message saying so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.version import Version

from envspec.values.target import Target

__all__ = [
    "PLATFORMS",
    "RELEASED_MINORS",
    "Environment",
    "Platform",
    "covered_environments",
    "environment_by_id",
    "host_platform",
    "platform_named",
    "environment_for_markers",
]

RELEASED_MINORS: tuple[tuple[int, int], ...] = tuple((3, minor) for minor in range(8, 15))
"""CPython minors released so far (3.8 is envspec's oldest target). A new minor is added here when
it is released; a lock whose spec allows it then becomes stale, once, so that it covers it."""

_GLIBC_MAX_MINOR = 40
"""The newest manylinux level accepted (``manylinux_2_40``): high enough for every wheel published
today. A machine's real glibc decides at install time."""
_MACOS_MAX_MAJOR = 26
"""The newest macOS major whose wheel tags are accepted."""
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


@dataclass(frozen=True, slots=True)
class Platform:
    """One operating system and machine, as a CPython on it reports them."""

    id: str
    """Stable and sortable: ``linux-x86_64``, ``macos-arm64``, ``windows-amd64``..."""
    sys_platform: str
    platform_system: str
    os_name: str
    platform_machine: str
    kind: str
    """``linux``, ``macos`` or ``windows``: how its wheel platform tags are generated."""
    arch: str
    """The architecture as wheel tags spell it (``x86_64``, ``aarch64``, ``arm64``, ``amd64``)."""
    oldest_minor: int = 8
    """The oldest CPython 3 minor python.org ships for it (Windows on ARM: 3.11)."""

    def platform_tags(self) -> list[str]:
        if self.kind == "linux":
            return [f"linux_{self.arch}", *_manylinux(self.arch)]
        if self.kind == "macos":
            mac_arch = "x86_64" if self.arch == "x86_64" else "arm64"
            return list(mac_platforms((_MACOS_MAX_MAJOR, 0), mac_arch))
        return [f"win_{self.arch}"]


PLATFORMS: tuple[Platform, ...] = (
    Platform("linux-x86_64", "linux", "Linux", "posix", "x86_64", "linux", "x86_64"),
    Platform("linux-aarch64", "linux", "Linux", "posix", "aarch64", "linux", "aarch64"),
    Platform("macos-x86_64", "darwin", "Darwin", "posix", "x86_64", "macos", "x86_64"),
    Platform("macos-arm64", "darwin", "Darwin", "posix", "arm64", "macos", "arm64"),
    Platform("windows-amd64", "win32", "Windows", "nt", "AMD64", "windows", "amd64"),
    Platform("windows-arm64", "win32", "Windows", "nt", "ARM64", "windows", "arm64", 11),
)
"""Every platform a lock covers by default, in a fixed order (the lock's bytes depend on it)."""


def _manylinux(arch: str) -> Iterator[str]:
    """PEP 600 tags from the newest level down to the oldest policy for ``arch``, each legacy alias
    right after its equivalent, as ``packaging.tags`` orders them."""
    oldest = 5 if arch in ("x86_64", "i686") else 17
    for minor in range(_GLIBC_MAX_MINOR, oldest - 1, -1):
        yield f"manylinux_2_{minor}_{arch}"
        legacy = _LEGACY_MANYLINUX.get((2, minor))
        if legacy:
            yield f"{legacy}_{arch}"


@dataclass(frozen=True, slots=True)
class Environment:
    """One CPython minor on one platform: a point of the lock's coverage."""

    platform: Platform
    python: Version
    """The representative full version: the lowest micro of the minor that the spec allows, so
    that a package needing a later micro (``>=3.8.1``) stays off the minor it cannot serve whole."""

    @property
    def minor(self) -> tuple[int, int]:
        return (self.python.major, self.python.minor)

    @property
    def id(self) -> str:
        """``cp312-linux-x86_64``: stable, sortable, written to the lock."""
        return f"cp{self.python.major}{self.python.minor}-{self.platform.id}"

    @property
    def markers(self) -> dict[str, str]:
        """All eleven PEP 508 variables (``Marker.evaluate`` would fill a missing one from the host)."""
        return dict(_markers(self.platform, self.python))

    @property
    def tags(self) -> tuple[Tag, ...]:
        """Most preferred first, as ``packaging.tags.sys_tags()`` would list them there."""
        return _tags(self.platform, self.minor)

    def target(self) -> Target:
        return Target(python_version=self.python, markers=self.markers, tags=self.tags)

    def __lt__(self, other: Environment) -> bool:
        return _order(self) < _order(other)


@cache
def _markers(platform: Platform, python: Version) -> tuple[tuple[str, str], ...]:
    full = str(python)
    return tuple(
        {
            "implementation_name": "cpython",
            "implementation_version": full,
            "os_name": platform.os_name,
            "platform_machine": platform.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": platform.platform_system,
            "platform_version": "",
            "python_full_version": full,
            "python_version": f"{python.major}.{python.minor}",
            "sys_platform": platform.sys_platform,
        }.items()
    )


@cache
def _tags(platform: Platform, version: tuple[int, int]) -> tuple[Tag, ...]:
    abi = f"cp{version[0]}{version[1]}"
    platforms = platform.platform_tags()
    return (
        *cpython_tags(version, [abi], platforms),
        *compatible_tags(version, abi, platforms),
    )


def _order(environment: Environment) -> tuple[tuple[int, int], int]:
    return (environment.minor, PLATFORMS.index(environment.platform))


def _representative(python: SpecifierSet, minor: tuple[int, int]) -> Version | None:
    """The lowest ``3.X.Y`` (Y < 100) the spec allows in this minor, or None."""
    for micro in range(0, 100):
        candidate = Version(f"{minor[0]}.{minor[1]}.{micro}")
        if python.contains(candidate, prereleases=True):
            return candidate
    return None


def covered_environments(
    python: SpecifierSet,
    markers: Sequence[Marker] = (),
    *,
    minors: Iterable[tuple[int, int]] = RELEASED_MINORS,
    platforms: Sequence[Platform] = PLATFORMS,
) -> list[Environment]:
    """Every environment a lock covers: each released minor that ``python`` allows, on every
    platform that ships it, kept when any of ``markers`` (the spec's ``environments``) holds there,
    or all of them when there are none. Sorted (minor, then platform)."""
    found = []
    for minor in minors:
        representative = _representative(python, minor)
        if representative is None:
            continue
        for platform in platforms:
            if minor[1] < platform.oldest_minor:
                continue
            environment = Environment(platform, representative)
            if markers and not any(m.evaluate(environment.markers) for m in markers):
                continue
            found.append(environment)
    return sorted(found)


_ALIASES = {
    "linux": "linux-x86_64",
    "linux-amd64": "linux-x86_64",
    "linux-arm64": "linux-aarch64",
    "x86_64-unknown-linux-gnu": "linux-x86_64",
    "x86_64-manylinux": "linux-x86_64",
    "aarch64-unknown-linux-gnu": "linux-aarch64",
    "aarch64-manylinux": "linux-aarch64",
    "macos": "macos-arm64",
    "darwin": "macos-arm64",
    "macos-aarch64": "macos-arm64",
    "macos-amd64": "macos-x86_64",
    "x86_64-apple-darwin": "macos-x86_64",
    "aarch64-apple-darwin": "macos-arm64",
    "windows": "windows-amd64",
    "win32": "windows-amd64",
    "windows-x86_64": "windows-amd64",
    "windows-aarch64": "windows-arm64",
    "x86_64-pc-windows-msvc": "windows-amd64",
    "aarch64-pc-windows-msvc": "windows-arm64",
}


def platform_named(text: str) -> Platform | None:
    """A platform by its id (``linux-x86_64``), a short name (``linux``, ``macos``,
    ``windows``) or a target triple as uv spells it (``aarch64-apple-darwin``)."""
    key = text.strip().lower().replace("_", "-").replace("x86-64", "x86_64")
    key = _ALIASES.get(key, key)
    return next((p for p in PLATFORMS if p.id == key), None)


def host_platform(sys_platform: str, machine: str) -> Platform | None:
    """The covered platform a machine is (``sys.platform``, ``platform.machine()``), if any."""
    wanted = {"win32": "windows", "darwin": "macos"}.get(sys_platform, sys_platform)
    arch = machine.lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    for platform in PLATFORMS:
        own = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.arch, platform.arch)
        if platform.kind == wanted and own == arch:
            return platform
    return None


def environment_by_id(identifier: str) -> Environment | None:
    """The environment ``cp312-linux-x86_64`` names (its Python at the minor's ``.0``), or None."""
    head, _, platform_id = identifier.partition("-")
    platform = next((p for p in PLATFORMS if p.id == platform_id), None)
    minor = head.removeprefix("cp3")
    # a lock is untrusted: two digits at most (a 5,000-digit "minor" must not reach int())
    if platform is None or not head.startswith("cp3") or not (minor.isdigit() and len(minor) <= 2):
        return None
    return Environment(platform, Version(f"3.{minor}.0"))


def environment_for_markers(
    covered: Sequence[Environment], markers: dict[str, str]
) -> Environment | None:
    """The covered environment a real machine (its probed markers) falls into: same platform and
    same minor; None when the lock does not cover it."""
    for environment in covered:
        platform = environment.platform
        if (
            markers.get("sys_platform") == platform.sys_platform
            and markers.get("platform_machine", "").lower() == platform.platform_machine.lower()
            and markers.get("python_version") == environment.markers["python_version"]
            and markers.get("implementation_name") == "cpython"
        ):
            return environment
    return None
