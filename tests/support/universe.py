"""A universe of fake packages, declared in ``fixtures/universe/<name>.toml``.

Tests must never depend on what the live PyPI serves today, so every project, version, dependency,
extra, marker, yanked file, wheel tag and sdist a test needs is declared here, in the uv/packse
style, and everything else (wheels, sdists, index pages, in-memory package sources) is generated
from this one description. Keeping the description pure data is what lets the resolver be tested without
HTTP and the index client be tested against the very same packages over HTTP.

The format, one table per release::

    [packages.a."1.0.0"]
    requires = ["b>=1", "c; python_version < '3.10'"]   # Requires-Dist; default []
    requires-python = ">=3.8"                            # default: none
    extras = { socks = ["pysocks>=1"] }                  # Provides-Extra + Requires-Dist
    upload-time = "2024-01-02T03:04:05Z"                 # default: see DEFAULT_UPLOAD_EPOCH
    yanked = "broken build"                              # false (default) | true | "reason"
    wheels = ["py3-none-any"]                            # one wheel per tag; [] = no wheel
    sdist = false                                        # true = also an sdist (.tar.gz)
    sdist-metadata-version = "2.2"                       # PKG-INFO Metadata-Version ("2.1" = old)
    dynamic = []                                         # PKG-INFO Dynamic fields (PEP 643)
    scripts = { a-cli = "a:main" }                       # console scripts (entry_points.txt)
    padding = 0                                          # bytes of filler data in each wheel

Buildable sources (issue 6: building from source). By default an sdist carries an in-tree,
stdlib-only backend; ``build-backend`` makes it a real project that a real backend builds::

    [packages.b."1.0.0"]
    wheels = []                      # sdist only: installing it means building it
    sdist = true
    build-backend = "setuptools"     # "setuptools" | "setuptools-legacy" | "flit_core"
    setup-py = true                  # setuptools: a setup.py computes the dependencies at build
                                     # time (pyproject.toml has only [build-system])
    build-fails = "no compiler"      # setuptools(-legacy): building raises SystemExit(message)

``setuptools`` writes pyproject.toml with ``[build-system]`` (``setuptools.build_meta``) and the
``[project]`` table; ``setuptools-legacy`` only a setup.py (no pyproject.toml); ``flit_core``
pyproject.toml for ``flit_core.buildapi``. A buildable sdist's PKG-INFO defaults to Metadata-Version
2.1 (2.2 when ``dynamic`` is given) so that a resolver cannot trust it and must build.

Real files, served verbatim (the build backends themselves, as PyPI ships them)::

    [packages.setuptools."75.3.2"]
    wheel-file = "wheels/setuptools-75.3.2-py3-none-any.whl"   # relative to fixtures/ (or absolute)

Such a release has that one wheel and no sdist; its name, version, Requires-Python and
Requires-Dist come from the wheel's own METADATA (which is also what PEP 658 serves), so only
``upload-time`` and ``yanked`` may be declared beside it.
"""

from __future__ import annotations

import hashlib
import tomllib
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from packaging.markers import Marker
from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import parse_tag
from packaging.utils import (
    InvalidName,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

__all__ = [
    "BUILD_BACKENDS",
    "DEFAULT_UPLOAD_EPOCH",
    "FIXTURES_DIR",
    "UNIVERSE_DIR",
    "InvalidUniverse",
    "RealFile",
    "Release",
    "Universe",
    "load_universe",
    "merge_universes",
    "universe_from_dict",
]

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"
UNIVERSE_DIR = FIXTURES_DIR / "universe"

BUILD_BACKENDS = frozenset({"setuptools", "setuptools-legacy", "flit_core"})
"""What ``build-backend`` may say: which real backend builds a release's sdist."""

DEFAULT_UPLOAD_EPOCH = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
"""A release without ``upload-time`` was uploaded ``k`` days after this instant, where ``k`` is its
position (0-based) among its project's versions in PEP 440 order: later versions are newer, as on a
real index, and the value never depends on the clock."""

_RELEASE_KEYS = frozenset(
    {
        "requires",
        "requires-python",
        "extras",
        "upload-time",
        "yanked",
        "wheels",
        "sdist",
        "sdist-metadata-version",
        "dynamic",
        "scripts",
        "padding",
        "build-backend",
        "setup-py",
        "build-fails",
        "wheel-file",
    }
)
_REAL_FILE_KEYS = frozenset({"wheel-file", "upload-time", "yanked"})


class InvalidUniverse(ValueError):
    """A universe file says something that is not a valid package description."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True, slots=True, kw_only=True)
class RealFile:
    """A distribution file from ``fixtures/`` served byte for byte (e.g. setuptools' own wheel)."""

    path: Path
    sha256: str
    """Of the whole file, taken when the universe was loaded: the builder refuses a file that has
    changed since, so a cached index never serves bytes its listing does not describe."""
    metadata: bytes
    """The wheel's ``.dist-info/METADATA``, exactly: what PEP 658 serves and what the release says."""

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """One version of one project, with everything needed to build and serve its files."""

    name: NormalizedName
    version: Version
    display_name: str = ""
    """The project name as written in the universe (``Fancy_Name``); ``name`` is normalised."""
    requires: tuple[str, ...] = ()
    requires_python: str | None = None
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    upload_time: datetime = DEFAULT_UPLOAD_EPOCH
    yanked: bool | str = False
    wheel_tags: tuple[str, ...] = ("py3-none-any",)
    sdist: bool = False
    sdist_metadata_version: str = "2.2"
    dynamic: tuple[str, ...] = ()
    scripts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Console scripts: command name → ``module:function``."""
    padding: int = 0
    """Bytes of filler data (``<module>/_padding.txt``) in each wheel: a wheel big enough that
    reading its metadata by Range requests is visibly cheaper than downloading it."""
    build_backend: str | None = None
    """``None``: the sdist carries the in-tree stdlib backend; else one of :data:`BUILD_BACKENDS`."""
    setup_py: bool = False
    """setuptools only: the metadata (dependencies computed at build time) comes from setup.py."""
    build_fails: str | None = None
    """Building the sdist fails with this message (its setup.py raises ``SystemExit``)."""
    real_wheel: RealFile | None = None
    """The release is this one real wheel (no sdist); its metadata is the wheel's own."""

    @property
    def project_name(self) -> str:
        """The name written into metadata: the display name when one was given."""
        return self.display_name or self.name

    @property
    def module_name(self) -> str:
        """The importable package every distribution of this project contains."""
        return self.name.replace("-", "_").replace(".", "_")

    @property
    def filename_stem(self) -> str:
        """``{name}-{version}`` with the name escaped as wheel and sdist filenames require."""
        return f"{self.name.replace('-', '_')}-{self.version}"

    @property
    def is_yanked(self) -> bool:
        return self.yanked is not False

    @property
    def yanked_reason(self) -> str | None:
        return self.yanked if isinstance(self.yanked, str) else None

    def requires_dist(self) -> list[str]:
        """``requires`` followed by every extra's requirements, each with an ``extra == "x"``
        marker folded into the requirement's own marker; in the normal form ``packaging`` prints.
        (A real wheel's ``requires`` already are its Requires-Dist lines, markers and all.)"""
        result = [str(Requirement(text)) for text in self.requires]
        for extra in sorted(self.extras):
            extra_marker = f'extra == "{canonicalize_name(extra)}"'
            for text in self.extras[extra]:
                requirement = Requirement(text)
                if requirement.marker is None:
                    requirement.marker = Marker(extra_marker)
                else:
                    requirement.marker = Marker(f"({requirement.marker}) and {extra_marker}")
                result.append(str(requirement))
        return result

    def metadata_text(self, metadata_version: str = "2.3", *, dynamic: Iterable[str] = ()) -> str:
        """Core metadata (RFC 822 style) as a wheel's METADATA or, with ``dynamic``, a PKG-INFO.
        A real wheel's METADATA is returned as it is, whatever the arguments."""
        if self.real_wheel is not None:
            return self.real_wheel.metadata.decode("utf-8")
        lines = [
            f"Metadata-Version: {metadata_version}",
            f"Name: {self.project_name}",
            f"Version: {self.version}",
            f"Summary: {self.project_name} {self.version}, a package of the envspec test universe",
        ]
        lines.extend(f"Dynamic: {name}" for name in dynamic)
        if self.requires_python is not None:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines.extend(f"Provides-Extra: {canonicalize_name(extra)}" for extra in sorted(self.extras))
        lines.extend(f"Requires-Dist: {requirement}" for requirement in self.requires_dist())
        return "\n".join(lines) + "\n"

    def wheel_filenames(self) -> list[str]:
        if self.real_wheel is not None:
            return [self.real_wheel.filename]
        return [f"{self.filename_stem}-{tag}.whl" for tag in self.wheel_tags]

    def sdist_filename(self) -> str | None:
        return f"{self.filename_stem}.tar.gz" if self.sdist else None

    def filenames(self) -> list[str]:
        """Every file of this release: the wheels, then the sdist."""
        sdist = self.sdist_filename()
        return self.wheel_filenames() + ([sdist] if sdist else [])


@dataclass(frozen=True, slots=True)
class Universe:
    """Every release of every project, keyed by normalised name then version."""

    name: str
    releases: Mapping[NormalizedName, Mapping[Version, Release]]

    def project_names(self) -> list[NormalizedName]:
        return sorted(self.releases)

    def versions(self, name: str) -> list[Version]:
        """The versions of ``name`` (any spelling), oldest first; [] for an unknown project."""
        return sorted(self.releases.get(canonicalize_name(name), {}))

    def release(self, name: str, version: str | Version) -> Release:
        """One release; KeyError when the universe has no such release."""
        return self.releases[canonicalize_name(name)][Version(str(version))]

    def all_releases(self) -> list[Release]:
        """Every release, ordered by project name then version."""
        return [
            self.releases[name][version]
            for name in self.project_names()
            for version in sorted(self.releases[name])
        ]


def load_universe(name_or_path: str | Path) -> Universe:
    """Load ``fixtures/universe/<name>.toml`` (for a bare name like ``"basic"``) or a path."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and len(path.parts) == 1:
        path = UNIVERSE_DIR / f"{name_or_path}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidUniverse(str(path), "no such universe file") from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidUniverse(str(path), f"not valid TOML: {error}") from None
    return universe_from_dict(path.stem, data, where=str(path))


def universe_from_dict(name: str, data: Mapping[str, Any], *, where: str | None = None) -> Universe:
    """Build a universe from the parsed TOML shape (``{"packages": {name: {version: {...}}}}``);
    handy for a test that declares a few packages inline."""
    where = where or f"universe {name!r}"
    unknown = sorted(set(data) - {"packages"})
    if unknown:
        raise InvalidUniverse(where, f"unknown top-level key {unknown[0]!r}")
    packages = data.get("packages", {})
    if not isinstance(packages, Mapping):
        raise InvalidUniverse(where, "'packages' must be a table")
    releases: dict[NormalizedName, dict[Version, Release]] = {}
    for raw_name, versions in packages.items():
        try:
            normalized = canonicalize_name(raw_name, validate=True)
        except InvalidName:
            raise InvalidUniverse(where, f"{raw_name!r} is not a valid project name") from None
        if normalized in releases:
            raise InvalidUniverse(where, f"project {raw_name!r} is declared twice")
        if not isinstance(versions, Mapping):
            raise InvalidUniverse(where, f"packages.{raw_name} must be a table of versions")
        parsed: dict[Version, dict[str, Any]] = {}
        for raw_version, table in versions.items():
            try:
                version = Version(raw_version)
            except InvalidVersion:
                raise InvalidUniverse(
                    where, f"packages.{raw_name}: {raw_version!r} is not a PEP 440 version"
                ) from None
            if version in parsed:
                raise InvalidUniverse(
                    where, f"packages.{raw_name}: {raw_version!r} is declared twice"
                )
            if not isinstance(table, Mapping):
                raise InvalidUniverse(where, f"packages.{raw_name}.{raw_version!r} must be a table")
            parsed[version] = dict(table)
        releases[normalized] = {
            version: _release(
                raw_name,
                version,
                parsed[version],
                position,
                f"{where}: packages.{raw_name}.{str(version)!r}",
            )
            for position, version in enumerate(sorted(parsed))
        }
    return Universe(name=name, releases=_freeze(releases))


def merge_universes(*universes: Universe) -> Universe:
    """One universe with every release of the given ones; a release declared in two of them must
    be declared identically."""
    merged: dict[NormalizedName, dict[Version, Release]] = {}
    for universe in universes:
        for name, versions in universe.releases.items():
            target = merged.setdefault(name, {})
            for version, release in versions.items():
                existing = target.get(version)
                if existing is not None and existing != release:
                    raise InvalidUniverse(
                        universe.name,
                        f"{name} {version} differs from the release of the same name in another "
                        "universe",
                    )
                target[version] = release
    return Universe(
        name="+".join(universe.name for universe in universes), releases=_freeze(merged)
    )


def _freeze(
    releases: Mapping[NormalizedName, Mapping[Version, Release]],
) -> Mapping[NormalizedName, Mapping[Version, Release]]:
    return MappingProxyType(
        {name: MappingProxyType(dict(sorted(releases[name].items()))) for name in sorted(releases)}
    )


def _release(
    raw_name: str, version: Version, table: Mapping[str, Any], position: int, where: str
) -> Release:
    unknown = sorted(set(table) - _RELEASE_KEYS)
    if unknown:
        raise InvalidUniverse(where, f"unknown key {unknown[0]!r}")
    if "wheel-file" in table:
        return _real_release(raw_name, version, table, position, where)

    requires = tuple(_requirements(table.get("requires", []), where, "requires"))
    extras_table = table.get("extras", {})
    if not isinstance(extras_table, Mapping):
        raise InvalidUniverse(where, "'extras' must be a table of lists")
    extras = {
        str(extra): tuple(_requirements(items, where, f"extras.{extra}"))
        for extra, items in sorted(extras_table.items())
    }

    requires_python = table.get("requires-python")
    if requires_python is not None:
        if not isinstance(requires_python, str):
            raise InvalidUniverse(where, "'requires-python' must be a string")
        try:
            SpecifierSet(requires_python)
        except InvalidSpecifier as error:
            raise InvalidUniverse(where, f"requires-python {requires_python!r}: {error}") from None

    upload_time = _upload_time(table.get("upload-time"), position, where)

    yanked = table.get("yanked", False)
    if not isinstance(yanked, bool | str) or yanked == "":
        raise InvalidUniverse(where, f"'yanked' must be true, false or a reason, not {yanked!r}")

    wheel_tags = table.get("wheels", ["py3-none-any"])
    if not isinstance(wheel_tags, list) or not all(isinstance(tag, str) for tag in wheel_tags):
        raise InvalidUniverse(where, "'wheels' must be a list of tag strings")
    for tag in wheel_tags:
        if tag.count("-") != 2 or not parse_tag(tag):
            raise InvalidUniverse(where, f"wheel tag {tag!r} is not python-abi-platform")
    if len(set(wheel_tags)) != len(wheel_tags):
        raise InvalidUniverse(where, "'wheels' lists a tag twice")

    sdist = table.get("sdist", False)
    if not isinstance(sdist, bool):
        raise InvalidUniverse(where, f"'sdist' must be true or false, not {sdist!r}")
    sdist_metadata_version = table.get("sdist-metadata-version", "2.2")
    if sdist_metadata_version not in {"1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4"}:
        raise InvalidUniverse(
            where, f"sdist-metadata-version {sdist_metadata_version!r} is not a metadata version"
        )
    dynamic = table.get("dynamic", [])
    if not isinstance(dynamic, list) or not all(isinstance(item, str) for item in dynamic):
        raise InvalidUniverse(where, "'dynamic' must be a list of field names")

    scripts = table.get("scripts", {})
    if not isinstance(scripts, Mapping):
        raise InvalidUniverse(where, "'scripts' must be a table of name = 'module:function'")
    package = canonicalize_name(raw_name).replace("-", "_").replace(".", "_")
    for command, target in scripts.items():
        module, _, function = str(target).partition(":")
        parts = module.split(".")
        if not function or not all(part.isidentifier() for part in [*parts, function]):
            raise InvalidUniverse(where, f"script {command!r}: {target!r} is not 'module:function'")
        if parts[0] != package or len(parts) > 2:
            raise InvalidUniverse(
                where,
                f"script {command!r}: {target!r} must name {package!r} or a module directly in "
                "it (the only package the built distribution contains)",
            )

    padding = table.get("padding", 0)
    if not isinstance(padding, int) or isinstance(padding, bool) or padding < 0:
        raise InvalidUniverse(where, f"'padding' must be a number of bytes, not {padding!r}")

    build_backend = table.get("build-backend")
    if build_backend is not None and build_backend not in BUILD_BACKENDS:
        raise InvalidUniverse(
            where,
            f"build-backend {build_backend!r} is not one of {', '.join(sorted(BUILD_BACKENDS))}",
        )
    if build_backend is not None and not sdist:
        raise InvalidUniverse(where, "'build-backend' says how the sdist builds: set sdist = true")
    setup_py = table.get("setup-py", False)
    if not isinstance(setup_py, bool):
        raise InvalidUniverse(where, f"'setup-py' must be true or false, not {setup_py!r}")
    if setup_py and build_backend != "setuptools":
        raise InvalidUniverse(where, "'setup-py' needs build-backend = \"setuptools\"")
    build_fails = table.get("build-fails")
    if build_fails is not None:
        if not isinstance(build_fails, str) or not build_fails:
            raise InvalidUniverse(where, f"'build-fails' must be a message, not {build_fails!r}")
        if build_backend not in {"setuptools", "setuptools-legacy"}:
            raise InvalidUniverse(
                where, "'build-fails' needs a setup.py: build-backend = \"setuptools\" or "
                "\"setuptools-legacy\""
            )
    if "sdist-metadata-version" not in table and build_backend is not None:
        # a buildable sdist's PKG-INFO must not be trusted: 2.1 predates PEP 643, and 2.2 with
        # Dynamic fields says outright that building may change them
        sdist_metadata_version = "2.2" if dynamic else "2.1"

    return Release(
        name=canonicalize_name(raw_name),
        version=version,
        display_name=raw_name,
        requires=requires,
        requires_python=requires_python,
        extras=MappingProxyType(extras),
        upload_time=upload_time,
        yanked=yanked,
        wheel_tags=tuple(wheel_tags),
        sdist=sdist,
        sdist_metadata_version=sdist_metadata_version,
        dynamic=tuple(dynamic),
        scripts=MappingProxyType(dict(sorted(scripts.items()))),
        padding=padding,
        build_backend=build_backend,
        setup_py=setup_py,
        build_fails=build_fails,
    )


def _real_release(
    raw_name: str, version: Version, table: Mapping[str, Any], position: int, where: str
) -> Release:
    extra = sorted(set(table) - _REAL_FILE_KEYS)
    if extra:
        raise InvalidUniverse(
            where, f"{extra[0]!r} cannot be declared beside 'wheel-file' (the file says it)"
        )
    real = _real_file(table["wheel-file"], where)
    try:
        file_name, file_version, _, _ = parse_wheel_filename(real.filename)
    except InvalidWheelFilename as error:
        raise InvalidUniverse(where, f"wheel-file {real.filename!r}: {error}") from None
    if file_name != canonicalize_name(raw_name) or file_version != version:
        raise InvalidUniverse(
            where, f"wheel-file {real.filename!r} is {file_name} {file_version}, not this release"
        )
    raw, _ = parse_email(real.metadata)
    if canonicalize_name(raw.get("name", "")) != file_name or raw.get("version") != str(version):
        raise InvalidUniverse(where, f"wheel-file {real.filename!r}: METADATA names another release")
    yanked = table.get("yanked", False)
    if not isinstance(yanked, bool | str) or yanked == "":
        raise InvalidUniverse(where, f"'yanked' must be true, false or a reason, not {yanked!r}")
    # the filename's compressed tag set (py3-none-any), as `wheels` would list it
    tag = "-".join(real.filename.removesuffix(".whl").split("-")[-3:])
    return Release(
        name=canonicalize_name(raw_name),
        version=version,
        display_name=raw.get("name", raw_name),
        requires=tuple(raw.get("requires_dist", [])),
        requires_python=raw.get("requires_python"),
        upload_time=_upload_time(table.get("upload-time"), position, where),
        yanked=yanked,
        wheel_tags=(tag,),
        real_wheel=real,
    )


def _real_file(raw: object, where: str) -> RealFile:
    if not isinstance(raw, str) or not raw.endswith(".whl"):
        raise InvalidUniverse(where, f"wheel-file {raw!r} must name a .whl file under fixtures/")
    path = (FIXTURES_DIR / raw).resolve()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidUniverse(where, f"wheel-file {raw!r}: {error.strerror or error}") from None
    try:
        with zipfile.ZipFile(path) as archive:
            candidates = [
                name
                for name in archive.namelist()
                if name.count("/") == 1 and name.endswith(".dist-info/METADATA")
            ]
            stem = "-".join(path.name.split("-")[:2])
            wanted = [name for name in candidates if _same_stem(name.split("/")[0], stem)]
            if len(wanted) != 1:
                raise InvalidUniverse(where, f"wheel-file {raw!r} has no {stem}.dist-info/METADATA")
            metadata = archive.read(wanted[0])
    except zipfile.BadZipFile:
        raise InvalidUniverse(where, f"wheel-file {raw!r} is not a zip archive") from None
    return RealFile(path=path, sha256=hashlib.sha256(data).hexdigest(), metadata=metadata)


def _same_stem(dist_info: str, stem: str) -> bool:
    name, _, version = dist_info.removesuffix(".dist-info").rpartition("-")
    wanted_name, _, wanted_version = stem.rpartition("-")
    return canonicalize_name(name) == canonicalize_name(wanted_name) and version == wanted_version


def _requirements(items: object, where: str, key: str) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidUniverse(where, f"{key!r} must be a list of PEP 508 strings")
    for item in items:
        try:
            Requirement(item)
        except InvalidRequirement as error:
            raise InvalidUniverse(where, f"{key}: {item!r} is not a requirement: {error}") from None
    return list(items)


def _upload_time(raw: object, position: int, where: str) -> datetime:
    if raw is None:
        return DEFAULT_UPLOAD_EPOCH + timedelta(days=position)
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise InvalidUniverse(
                where, f"upload-time {raw!r} is not an ISO 8601 instant"
            ) from None
    else:
        raise InvalidUniverse(where, f"upload-time {raw!r} is not an ISO 8601 instant")
    if value.tzinfo is None:
        raise InvalidUniverse(where, f"upload-time {raw!r} needs a time zone (write a trailing Z)")
    return value.astimezone(UTC)
