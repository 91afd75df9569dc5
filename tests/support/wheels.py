"""Real, installable, byte-for-byte reproducible wheels and sdists for a test universe.

Lock files record sha256 hashes, so golden-file tests and "a re-lock is byte-identical" tests only
work when the same release always produces the same bytes, on every run and every machine. That is
why nothing here reads the clock, the umask, the user or the platform: ZIP entries carry a fixed
1980-01-01 date, fixed permissions and a fixed creator system, are sorted, and are *stored* (not
deflated, so no zlib build can change a byte); tar members have mtime 0, uid/gid 0 and no owner
names, and the gzip header has mtime 0 and no file name (members of sdists a real backend builds
carry a fixed 2024 mtime instead: the wheels it makes cannot date from before 1980).

The files are real: a wheel holds ``<module>/__init__.py`` (``__version__`` and ``__built_from__``
so a test can tell which file was installed), ``.dist-info/{METADATA,WHEEL,RECORD}`` and, when the
release declares scripts, ``entry_points.txt``. An sdist holds PKG-INFO (with the declared
Metadata-Version and Dynamic fields), the package source and a ``pyproject.toml`` naming an
in-tree, stdlib-only PEP 517 backend, so pip, build or envspec can build it with no network and no
setuptools.

A release with ``build-backend`` gets a *real* project instead (issue 6, building from source):
pyproject.toml naming setuptools or flit_core (or, ``setuptools-legacy``, only a setup.py), the
package, and a PKG-INFO a resolver must not trust; the frontend fetches the backend from the index,
where a release with ``wheel-file`` serves that backend's real wheel byte for byte.

Building is cheap (milliseconds per file) and cached in-process per release content, so many tests
can ask for the same universe without rebuilding it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import threading
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import tomli_w
from packaging.requirements import Requirement
from packaging.tags import parse_tag

from tests.support.universe import Release, Universe

__all__ = [
    "BUILDER_VERSION",
    "Artifact",
    "ArtifactCache",
    "BuiltUniverse",
    "build_release",
    "build_sdist",
    "build_universe",
    "build_wheel",
    "buildable_project_files",
    "default_cache",
    "real_artifact",
    "record_hash",
]

BUILDER_VERSION = "1"
"""Part of every cache key: bump it when the bytes this module produces change on purpose."""

ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
DIR_MODE = 0o755
GENERATOR = "envspec-test-universe"
BUILDABLE_SDIST_MTIME = 1704110400
"""2024-01-01T12:00:00Z: the fixed member mtime of ``build-backend`` sdists (others use 0)."""
BACKEND_MODULE = "envspec_universe_backend"


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    """One built distribution file."""

    filename: str
    data: bytes
    kind: Literal["wheel", "sdist"]
    release: Release
    metadata: bytes
    """The core metadata inside the file: a wheel's ``METADATA`` (exactly what a PEP 658
    ``.metadata`` file serves) or an sdist's ``PKG-INFO``."""
    sha256: str
    metadata_sha256: str

    @classmethod
    def of(
        cls,
        *,
        filename: str,
        data: bytes,
        kind: Literal["wheel", "sdist"],
        release: Release,
        metadata: bytes,
    ) -> Artifact:
        """An artifact with its hashes computed once."""
        return cls(
            filename=filename,
            data=data,
            kind=kind,
            release=release,
            metadata=metadata,
            sha256=hashlib.sha256(data).hexdigest(),
            metadata_sha256=hashlib.sha256(metadata).hexdigest(),
        )

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class BuiltUniverse:
    """Every file of every release of a universe, by filename."""

    universe: Universe
    artifacts: Mapping[str, Artifact]

    def for_release(self, name: str, version: str) -> list[Artifact]:
        release = self.universe.release(name, version)
        return [self.artifacts[filename] for filename in release.filenames()]

    def for_project(self, name: str) -> list[Artifact]:
        """Files of one project: releases oldest first, each release's wheels then its sdist."""
        return [
            self.artifacts[filename]
            for version in self.universe.versions(name)
            for filename in self.universe.release(name, version).filenames()
        ]

    def write_to(self, directory: Path) -> Path:
        """Write every file into ``directory`` (a flat ``--find-links`` style folder)."""
        directory.mkdir(parents=True, exist_ok=True)
        for filename, artifact in self.artifacts.items():
            target = directory / filename
            if not target.exists() or target.read_bytes() != artifact.data:
                target.write_bytes(artifact.data)
        return directory


class ArtifactCache:
    """Builds releases once per process (or per session, for the pytest fixture).

    Keyed by the release's full content, so two universes that declare the same release share its
    files, and a changed declaration never serves stale bytes. Thread-safe.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._by_release: dict[str, tuple[Artifact, ...]] = {}
        self._written: dict[str, Path] = {}

    def build(self, universe: Universe) -> BuiltUniverse:
        artifacts: dict[str, Artifact] = {}
        for release in universe.all_releases():
            for artifact in self.release(release):
                artifacts[artifact.filename] = artifact
        return BuiltUniverse(universe=universe, artifacts=MappingProxyType(artifacts))

    def release(self, release: Release) -> tuple[Artifact, ...]:
        key = _release_key(release)
        with self._lock:
            cached = self._by_release.get(key)
        if cached is None:
            cached = tuple(build_release(release))
            with self._lock:
                cached = self._by_release.setdefault(key, cached)
        return cached

    def directory(self, universe: Universe) -> Path:
        """A directory holding every file of ``universe``, written once per distinct content."""
        if self._directory is None:
            raise RuntimeError("this ArtifactCache was created without a directory")
        built = self.build(universe)
        key = hashlib.sha256(
            "\n".join(f"{a.filename} {a.sha256}" for a in built.artifacts.values()).encode()
        ).hexdigest()[:16]
        with self._lock:
            path = self._written.get(key)
            if path is None:
                path = built.write_to(self._directory / f"{universe.name}-{key}")
                self._written[key] = path
        return path


_DEFAULT_CACHE = ArtifactCache()


def default_cache() -> ArtifactCache:
    """The process-wide in-memory cache (no directory)."""
    return _DEFAULT_CACHE


def build_universe(universe: Universe, *, cache: ArtifactCache | None = None) -> BuiltUniverse:
    return (cache or _DEFAULT_CACHE).build(universe)


def build_release(release: Release) -> list[Artifact]:
    """Every file of one release, in ``release.filenames()`` order."""
    if release.real_wheel is not None:
        return [real_artifact(release)]
    artifacts = [build_wheel(release, tag) for tag in release.wheel_tags]
    if release.sdist:
        artifacts.append(build_sdist(release))
    return artifacts


def build_wheel(
    release: Release,
    tag: str = "py3-none-any",
    *,
    extra_files: Mapping[str, bytes] | None = None,
    metadata_text: str | None = None,
    record: bool = True,
) -> Artifact:
    """A wheel of ``release`` for one tag (``py3-none-any``, ``cp311-cp311-win_amd64``, ...).

    ``extra_files`` (archive path → bytes), a replacement ``metadata_text`` and ``record=False`` (no
    RECORD) make broken or unusual wheels cheap for tests that need them.
    """
    metadata = (metadata_text or release.metadata_text("2.3")).encode("utf-8")
    dist_info = f"{release.filename_stem}.dist-info"
    files = dict(_package_files(release, built_from=tag))
    if release.padding:
        files[f"{release.module_name}/_padding.txt"] = _padding(release.padding)
    files.update(extra_files or {})
    files[f"{dist_info}/METADATA"] = metadata
    files[f"{dist_info}/WHEEL"] = _wheel_file(tag).encode("utf-8")
    entry_points = _entry_points(release)
    if entry_points:
        files[f"{dist_info}/entry_points.txt"] = entry_points.encode("utf-8")
    names = sorted(name for name in files if not name.startswith(dist_info))
    names += sorted(name for name in files if name.startswith(dist_info))
    if record:
        record_path = f"{dist_info}/RECORD"
        lines = [f"{name},sha256={record_hash(files[name])},{len(files[name])}" for name in names]
        lines.append(f"{record_path},,")
        files[record_path] = ("\n".join(lines) + "\n").encode("utf-8")
        names.append(record_path)
    data = _zip_bytes((name, files[name]) for name in names)
    return Artifact.of(
        filename=f"{release.filename_stem}-{tag}.whl",
        data=data,
        kind="wheel",
        release=release,
        metadata=metadata,
    )


def real_artifact(release: Release) -> Artifact:
    """The release's real wheel (``wheel-file``), its bytes and METADATA exactly as shipped."""
    real = release.real_wheel
    if real is None:
        raise ValueError(f"{release.name} {release.version} has no real file")
    data = real.path.read_bytes()
    if hashlib.sha256(data).hexdigest() != real.sha256:
        raise ValueError(f"{real.path} changed since its universe was loaded")
    return Artifact.of(
        filename=real.filename, data=data, kind="wheel", release=release, metadata=real.metadata
    )


def build_sdist(release: Release) -> Artifact:
    """A ``.tar.gz`` sdist with PKG-INFO, the package and either pyproject.toml naming the
    in-tree backend or, with ``build-backend``, a real setuptools / flit_core project."""
    root = release.filename_stem
    pkg_info_text = release.metadata_text(release.sdist_metadata_version, dynamic=release.dynamic)
    if release.build_backend is not None and "Requires-Dist" in release.dynamic:
        # as PEP 643 allows, a dynamic field is left out: only building tells the dependencies,
        # so a resolver that trusted this PKG-INFO would visibly miss them
        pkg_info_text = "".join(
            line for line in pkg_info_text.splitlines(keepends=True)
            if not line.startswith("Requires-Dist:")
        )
    pkg_info = pkg_info_text.encode("utf-8")
    files = dict(_package_files(release, built_from="sdist"))
    files["PKG-INFO"] = pkg_info
    if release.build_backend is None:
        files["pyproject.toml"] = _SDIST_PYPROJECT.encode("utf-8")
        files[f"_backend/{BACKEND_MODULE}.py"] = _BACKEND_SOURCE.encode("utf-8")
        entry_points = _entry_points(release)
        if entry_points:
            files["_backend/entry_points.txt"] = entry_points.encode("utf-8")
    else:
        files.update(
            (name, text.encode("utf-8")) for name, text in buildable_project_files(release).items()
        )
    # a real backend copies the members' mtimes into the wheel, and ZIP cannot date before 1980
    mtime = 0 if release.build_backend is None else BUILDABLE_SDIST_MTIME
    data = _tar_gz_bytes(((f"{root}/{name}", files[name]) for name in sorted(files)), mtime=mtime)
    return Artifact.of(
        filename=f"{root}.tar.gz", data=data, kind="sdist", release=release, metadata=pkg_info
    )


def record_hash(data: bytes) -> str:
    """The RECORD hash form: urlsafe base64 of the sha256 digest, without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def _release_key(release: Release) -> str:
    # repr covers every field (mappings are built sorted); the builder version covers this module
    return f"{BUILDER_VERSION}:{release!r}"


def _package_files(release: Release, *, built_from: str) -> Iterable[tuple[str, bytes]]:
    """The importable package: ``__init__.py`` plus one module per script target."""
    package = release.module_name
    modules: dict[str, list[str]] = {package: []}
    for target in release.scripts.values():
        module, _, function = target.partition(":")
        functions = modules.setdefault(module, [])
        if function not in functions:
            functions.append(function)
    for module, functions in sorted(modules.items()):
        lines = [f'"""{release.project_name} {release.version}: envspec test universe."""', ""]
        if module == package:
            lines += [
                f"__version__ = {str(release.version)!r}",
                f"__built_from__ = {built_from!r}",
                "",
            ]
        for function in functions:
            lines += [
                "",
                f"def {function}():",
                f"    print({f'{release.project_name} {release.version}'!r})",
                "    return 0",
                "",
            ]
        path = f"{package}/__init__.py" if module == package else module.replace(".", "/") + ".py"
        yield path, ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")


def buildable_project_files(release: Release) -> dict[str, str]:
    """The build configuration of a ``build-backend`` release's sdist: ``pyproject.toml`` and/or
    ``setup.py`` (path → text). The package and PKG-INFO are added by :func:`build_sdist`."""
    backend = release.build_backend
    files: dict[str, str] = {}
    if backend == "flit_core":
        files["pyproject.toml"] = _pyproject(
            release, _FLIT_BUILD_SYSTEM, {"tool": {"flit": {"module": {"name": release.module_name}}}}
        )
    elif backend == "setuptools" and not release.setup_py:
        files["pyproject.toml"] = _pyproject(
            release,
            _SETUPTOOLS_BUILD_SYSTEM,
            {"tool": {"setuptools": {"packages": [release.module_name]}}},
        )
    elif backend == "setuptools":
        files["pyproject.toml"] = _pyproject(release, _SETUPTOOLS_BUILD_SYSTEM, None)
    elif backend != "setuptools-legacy":
        raise ValueError(f"unknown build backend {backend!r}")
    if backend == "setuptools-legacy" or release.setup_py or release.build_fails is not None:
        files["setup.py"] = _setup_py(release)
    return files


_SETUPTOOLS_BUILD_SYSTEM = {
    "requires": ["setuptools>=40.8.0"],
    "build-backend": "setuptools.build_meta",
}
_FLIT_BUILD_SYSTEM = {"requires": ["flit_core>=3.4,<4"], "build-backend": "flit_core.buildapi"}


def _pyproject(
    release: Release, build_system: Mapping[str, object], tool: Mapping[str, object] | None
) -> str:
    """pyproject.toml: ``[build-system]``, then (unless setup.py says it) the PEP 621 table."""
    document: dict[str, object] = {"build-system": dict(build_system)}
    if tool is not None:
        project: dict[str, object] = {
            "name": release.project_name,
            "version": str(release.version),
            "description": _summary(release),
        }
        if release.requires_python is not None:
            project["requires-python"] = release.requires_python
        project["dependencies"] = [str(Requirement(text)) for text in release.requires]
        if release.extras:
            project["optional-dependencies"] = {
                extra: [str(Requirement(text)) for text in items]
                for extra, items in release.extras.items()
            }
        if release.scripts:
            project["scripts"] = dict(release.scripts)
        document["project"] = project
        document.update(tool)
    header = (
        f"# {release.project_name} {release.version}: a real {release.build_backend} project of "
        "envspec's test universe.\n"
    )
    return header + tomli_w.dumps(document)


def _setup_py(release: Release) -> str:
    """setup.py: fails with ``build-fails``, else calls setup() with dependencies it computes."""
    header = (
        f"# {release.project_name} {release.version}: a real setuptools project of envspec's test "
        "universe.\n"
    )
    if release.build_fails is not None:
        return header + f"raise SystemExit({release.build_fails!r})\n"
    lines = [
        header.rstrip("\n"),
        "# The dependencies are computed here, when the sdist is built: no tool can know them",
        "# without running this file.",
        "from setuptools import setup",
        "",
        f"REQUIRES = {json.dumps([str(Requirement(t)) for t in release.requires])}",
        "EXTRAS = "
        + json.dumps(
            {e: [str(Requirement(t)) for t in items] for e, items in release.extras.items()},
            sort_keys=True,
        ),
        "",
        "",
        "def requirements():",
        "    return [requirement for requirement in REQUIRES]",
        "",
        "",
        "setup(",
        f"    name={release.project_name!r},",
        f"    version={str(release.version)!r},",
        f"    description={_summary(release)!r},",
        f"    packages=[{release.module_name!r}],",
        "    install_requires=requirements(),",
        "    extras_require=EXTRAS,",
    ]
    if release.requires_python is not None:
        lines.append(f"    python_requires={release.requires_python!r},")
    if release.scripts:
        scripts = [f"{name} = {target}" for name, target in release.scripts.items()]
        lines.append(f"    entry_points={{'console_scripts': {scripts!r}}},")
    lines.append(")")
    return "\n".join(lines) + "\n"


def _summary(release: Release) -> str:
    return f"{release.project_name} {release.version}, a package of the envspec test universe"


def _padding(size: int) -> bytes:
    line = b"envspec test universe padding, so that this wheel is not tiny.\n"
    return (line * (size // len(line) + 1))[:size]


def _wheel_file(tag: str) -> str:
    tags = sorted(str(t) for t in parse_tag(tag))
    purelib = all(t.endswith("-any") for t in tags)
    lines = [
        "Wheel-Version: 1.0",
        f"Generator: {GENERATOR}",
        f"Root-Is-Purelib: {'true' if purelib else 'false'}",
        *(f"Tag: {t}" for t in tags),
    ]
    return "\n".join(lines) + "\n"


def _entry_points(release: Release) -> str | None:
    if not release.scripts:
        return None
    lines = ["[console_scripts]"]
    lines += [f"{name} = {target}" for name, target in release.scripts.items()]
    return "\n".join(lines) + "\n"


def _zip_bytes(entries: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.create_system = 3  # Unix, whatever the building platform
            info.external_attr = (0o100000 | FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, data)
    return buffer.getvalue()


def _tar_gz_bytes(entries: Iterable[tuple[str, bytes]], *, mtime: int = 0) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            info.mode = FILE_MODE
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return compressed.getvalue()


_SDIST_PYPROJECT = f"""\
# Built by envspec's test universe. The backend lives in this sdist and needs only the standard
# library, so building works offline and without setuptools.
[build-system]
requires = []
build-backend = "{BACKEND_MODULE}"
backend-path = ["_backend"]
"""

# The in-tree PEP 517 backend shipped inside every sdist. It runs under whatever interpreter the
# frontend uses (3.8+), so it is stdlib-only and avoids newer syntax. It builds a py3-none-any wheel
# from PKG-INFO (minus PEP 643 Dynamic lines) and the package directories, as deterministically as
# this module does.
_BACKEND_SOURCE = '''\
"""In-tree PEP 517 backend of the envspec test universe: stdlib only, deterministic, offline."""
import base64
import hashlib
import io
import os
import re
import zipfile

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TAG = "py3-none-any"


def _read(path):
    with open(os.path.join(_ROOT, path), "rb") as handle:
        return handle.read()


def _metadata():
    text = _read("PKG-INFO").decode("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("Dynamic:")]
    return ("\\n".join(lines) + "\\n").encode("utf-8")


def _stem(metadata):
    fields = {}
    for line in metadata.decode("utf-8").splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, value.strip())
    name = re.sub(r"[-_.]+", "_", fields["Name"]).lower()
    return name + "-" + fields["Version"]


def _dist_info(metadata):
    files = {
        "METADATA": metadata,
        "WHEEL": (
            "Wheel-Version: 1.0\\nGenerator: envspec-test-universe-backend\\n"
            "Root-Is-Purelib: true\\nTag: " + _TAG + "\\n"
        ).encode("utf-8"),
    }
    entry_points = os.path.join(_ROOT, "_backend", "entry_points.txt")
    if os.path.exists(entry_points):
        files["entry_points.txt"] = _read(entry_points)
    return files


def _package_files():
    files = {}
    for top in sorted(os.listdir(_ROOT)):
        path = os.path.join(_ROOT, top)
        if top.startswith(("_", ".")) or not os.path.isdir(path):
            if top.endswith(".py") and not top.startswith("_"):
                files[top] = _read(top)
            continue
        for directory, subdirs, names in os.walk(path):
            subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
            for name in sorted(names):
                if name.endswith(".py"):
                    full = os.path.join(directory, name)
                    relative = os.path.relpath(full, _ROOT).replace(os.sep, "/")
                    files[relative] = _read(relative)
    return files


def _hash(data):
    digest = hashlib.sha256(data).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    metadata = _metadata()
    dist_info = _stem(metadata) + ".dist-info"
    target = os.path.join(metadata_directory, dist_info)
    os.makedirs(target, exist_ok=True)
    for name, data in sorted(_dist_info(metadata).items()):
        with open(os.path.join(target, name), "wb") as handle:
            handle.write(data)
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    metadata = _metadata()
    stem = _stem(metadata)
    dist_info = stem + ".dist-info"
    files = _package_files()
    names = sorted(files)
    for name, data in sorted(_dist_info(metadata).items()):
        files[dist_info + "/" + name] = data
        names.append(dist_info + "/" + name)
    record = [
        name + ",sha256=" + _hash(files[name]) + "," + str(len(files[name])) for name in names
    ]
    record.append(dist_info + "/RECORD,,")
    files[dist_info + "/RECORD"] = ("\\n".join(record) + "\\n").encode("utf-8")
    names.append(dist_info + "/RECORD")
    filename = stem + "-" + _TAG + ".whl"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100644) << 16
            archive.writestr(info, files[name])
    with open(os.path.join(wheel_directory, filename), "wb") as handle:
        handle.write(buffer.getvalue())
    return filename
'''
