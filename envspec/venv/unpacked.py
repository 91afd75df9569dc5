"""The unpacked-wheel cache: each wheel unzipped once per machine, with what an install needs.

The entry ``<cache_dir>/<wheel sha256>/`` holds the wheel's files as in the archive plus two
manifests, both written while unpacking (to a temporary directory renamed into place, so a killed
unpack never leaves a half entry):

- ``.envspec-manifest.json``: every file's sha256 and size (the entry is complete when it exists;
  older envspec versions sharing the cache read only this one);
- ``.envspec-install.json``: everything an install needs that does not depend on the venv, worked
  out once per wheel per machine instead of once per file per install: each file's scheme
  (``purelib``, ``platlib``, ``scripts``, ``headers``, ``data``, from the ``.data/`` directory and
  ``Root-Is-Purelib``) and path inside it, its RECORD hash and size, whether it is a ``#!python``
  script to rewrite; the directories to create, parents first; the console and GUI entry points;
  and each file's size, mtime and mode as unpacked. An entry made by an older envspec gets it on
  first use.

Files linked from an entry are shared with every venv using it, so :meth:`UnpackedCache.load`
compares each file's size, mtime and mode (one ``stat`` per file, no hashing) before an install
uses the entry: a changed entry is unpacked again from the verified wheel. Kept apart from the
installer (``envspec.venv.linked``) because the download threads unpack here too, before any venv
is touched.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import posixpath
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal, overload

from installer.utils import SCHEME_NAMES, parse_entrypoints, parse_metadata_file
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from envspec.fsutil import atomic_write_text, file_sha256
from envspec.venv.placement import UnsafeWheel, WheelInstallFailed, check_archive
from envspec.venv.record import encode_digest, file_record_hash

__all__ = ["EXECUTABLE", "NOT_A_WHEEL", "SHEBANG", "UnpackedCache"]

EXECUTABLE = 1
"""Install-manifest file flag: the archive marks the file executable."""
SHEBANG = 2
"""Install-manifest file flag: a ``scripts`` file starting with ``#!python``, to rewrite."""

_MANIFEST = ".envspec-manifest.json"
_INSTALL_MANIFEST = ".envspec-install.json"
_INSTALL_FORMAT = 3
_COPY_CHUNK = 1 << 20

NOT_A_WHEEL: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,  # a compression method zipfile lacks
    RuntimeError,  # an encrypted member
    ValueError,
    KeyError,
    TypeError,
)
"""What ``zipfile`` and the manifest readers raise for an archive that is not a usable wheel."""


class UnpackedCache:
    """The entries under ``cache_dir``, one per wheel digest."""

    def __init__(self, cache_dir: Path) -> None:
        self.directory = Path(cache_dir)

    def forget(self, sha256: str) -> None:
        """Drop the entry of the wheel with this digest; the next install unpacks it afresh."""
        shutil.rmtree(self.directory / sha256, ignore_errors=True)

    def entry(
        self, wheel: Path, sha256: str | None, *, name: str | None, replace: bool = False
    ) -> Path:
        """The entry of ``wheel``, unpacking it first when absent. ``sha256`` is the wheel's
        digest when the caller verified it already; otherwise it is computed here. ``name``: the
        project, for messages (else read from the file name). ``replace``: unpack again over an
        entry whose files changed since it was unpacked (an edit made through a hard link in some
        venv): the fresh copy is renamed in, the stale one aside, then removed; a venv linked to
        the stale files keeps them.

        Raises only :class:`WheelInstallFailed` (:class:`UnsafeWheel` for a hostile archive): it
        runs in the download threads, where anything else would end as a traceback."""
        shown = name or _project_of(wheel)
        try:
            if sha256 is None:
                sha256 = file_sha256(wheel)
            entry = self.directory / sha256
            if not replace and (entry / _MANIFEST).is_file():
                return entry
            self.directory.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{entry.name[:16]}.", dir=self.directory))
            stale: Path | None = None
            try:
                _unpack_wheel(wheel, staging, name=shown)
                if replace:
                    stale = Path(
                        tempfile.mkdtemp(prefix=f".{entry.name[:16]}.stale.", dir=self.directory)
                    )
                    try:
                        entry.rename(stale / "entry")
                    except FileNotFoundError:
                        pass
                try:
                    staging.rename(entry)
                except OSError:
                    if not (entry / _MANIFEST).is_file():
                        raise  # not a concurrent unpack of the same wheel that won the race
            finally:
                shutil.rmtree(staging, ignore_errors=True)
                if stale is not None:
                    shutil.rmtree(stale, ignore_errors=True)
            return entry
        except WheelInstallFailed:
            raise
        except NOT_A_WHEEL as error:
            raise WheelInstallFailed(wheel, shown, f"it is not a valid wheel ({error})") from None
        except OSError as error:
            raise WheelInstallFailed(
                wheel, shown, f"it could not be unpacked into the cache ({error})"
            ) from None

    def load(self, wheel: Path, sha256: str, *, name: str) -> tuple[Path, dict[str, Any]]:
        """The intact entry of ``wheel`` and its install manifest, unpacking (again) as needed.
        Raises what :meth:`entry` raises, and ValueError, KeyError or TypeError for a manifest
        that does not describe a valid wheel; OSError for a cache that cannot be read."""
        entry = self.entry(wheel, sha256, name=name)
        manifest = _load_install_manifest(entry)
        if manifest is None or not _entry_intact(entry, manifest):
            # a file of the entry changed since it was unpacked (edited in place through a
            # hard link in some venv): never link from it, unpack the verified wheel again
            entry = self.entry(wheel, sha256, name=name, replace=True)
            manifest = _load_install_manifest(entry)
            if manifest is None:
                raise WheelInstallFailed(wheel, name, "its cache entry keeps changing")
        return entry, manifest


def _unpack_wheel(wheel: Path, directory: Path, *, name: str | None = None) -> None:
    """Unpack ``wheel`` into the empty ``directory`` with its two manifests (the file manifest
    last). Member names and sizes are judged first (:func:`check_archive`); the bytes actually
    written are counted too, so an archive that lies about its sizes cannot fill the disk."""
    project, version, _, _ = parse_wheel_filename(wheel.name)
    shown = name or str(project)
    files: list[list[object]] = []
    with zipfile.ZipFile(wheel) as archive:
        members = check_archive(archive, wheel, shown)
        budget = sum(info.file_size for info in members)
        written = 0
        for info in members:
            member = info.filename
            parts = PurePosixPath(member).parts
            if "__pycache__" in parts[:-1]:
                continue  # what installer skips too: bytecode from a wheel is never trusted
            mode = info.external_attr >> 16
            executable = bool(mode and stat.S_ISREG(mode) and mode & 0o111)
            target = directory.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            size = 0
            with archive.open(info) as source, target.open("wb") as sink:
                for block in iter(lambda: source.read(_COPY_CHUNK), b""):
                    size += len(block)
                    if size > info.file_size or written + size > budget:
                        raise UnsafeWheel(
                            wheel,
                            shown,
                            member,
                            f"its member {member!r} inflates past the {info.file_size} bytes "
                            "the archive declares",
                        )
                    digest.update(block)
                    sink.write(block)
            written += size
            if executable:
                target.chmod(0o755)
            files.append([member, executable, encode_digest(digest.digest()), size])
    tops = {str(entry[0]).split("/", 1)[0] for entry in files}
    dist_infos = sorted(t for t in tops if t.endswith(".dist-info"))
    if len(dist_infos) != 1:
        raise ValueError(f"expected one .dist-info directory, found {dist_infos!r}")
    manifest = {
        "project": project,
        "version": str(version),
        "dist_info": dist_infos[0],
        "files": files,
    }
    install_manifest = _describe_entry(directory, manifest)
    (directory / _INSTALL_MANIFEST).write_text(json.dumps(install_manifest), encoding="utf-8")
    # the completeness marker, written last
    (directory / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _project_of(wheel: Path) -> str:
    """The project a wheel's file name names, for messages; the file name when it names none."""
    try:
        return str(parse_wheel_filename(wheel.name)[0])
    except InvalidWheelFilename:
        return wheel.name


def _entry_intact(entry: Path, manifest: Mapping[str, Any]) -> bool:
    """Whether every file of the cache entry is as unpacked: same size, mtime and mode (one
    ``stat`` each, no hashing). An in-place edit through a hard link changes the mtime (and
    usually the size); a ``chmod`` changes the mode."""
    files = manifest["files"]
    stats = manifest.get("stats")
    if not isinstance(stats, list) or len(stats) != len(files):
        return False
    prefix = str(entry) + os.sep
    posix = os.sep == "/"
    for row, recorded in zip(files, stats, strict=True):
        member, size = row[0], row[4]
        try:
            found = os.stat(prefix + (member if posix else member.replace("/", os.sep)))
        except OSError:
            return False
        if [found.st_size, found.st_mtime_ns, found.st_mode] != [int(size), *recorded]:
            return False
    return True


def _load_install_manifest(entry: Path) -> dict[str, Any] | None:
    """The entry's install manifest; an entry unpacked by an older envspec (no install manifest,
    or one without the files' stats) gets one now, computed from its file manifest and files
    (each hashed once against the file manifest), and kept for the next install. None when a file
    differs from what the file manifest says: the entry must be unpacked again."""
    try:
        loaded = json.loads((entry / _INSTALL_MANIFEST).read_bytes())
    except (FileNotFoundError, ValueError):  # absent, or damaged: made again from the files
        loaded = None
    if isinstance(loaded, dict) and loaded.get("format") == _INSTALL_FORMAT:
        return loaded
    manifest = json.loads((entry / _MANIFEST).read_bytes())
    described = _describe_entry(entry, manifest, verify=True)
    if described is None:
        return None
    try:
        atomic_write_text(entry / _INSTALL_MANIFEST, json.dumps(described))
    except OSError:
        pass  # a read-only cache: compute it again next time
    return described


@overload
def _describe_entry(
    entry: Path, manifest: Mapping[str, Any], *, verify: Literal[False] = False
) -> dict[str, Any]: ...
@overload
def _describe_entry(
    entry: Path, manifest: Mapping[str, Any], *, verify: bool
) -> dict[str, Any] | None: ...
def _describe_entry(
    entry: Path, manifest: Mapping[str, Any], *, verify: bool = False
) -> dict[str, Any] | None:
    """The install manifest of an unpacked wheel: what pypa ``installer``'s core decides per file
    (``_process_WHEEL_file``, ``_determine_scheme``, the RECORD and ``__pycache__`` skips,
    ``fix_shebang``'s test, ``parse_entrypoints``), decided once, and each file's size, mtime and
    mode as found (what :func:`_entry_intact` compares before every install). ValueError: not a
    valid wheel. ``verify``: hash each file first; None when one differs from the manifest."""
    dist_info: str = manifest["dist_info"]
    data_dir = dist_info[: -len(".dist-info")] + ".data"
    wheel_metadata = parse_metadata_file((entry / dist_info / "WHEEL").read_text(encoding="utf-8"))
    wheel_version = wheel_metadata["Wheel-Version"]
    if not (wheel_version and wheel_version.startswith("1.")):
        raise ValueError(f"incompatible Wheel-Version {wheel_version!r}, only 1.x is supported")
    root_scheme = "purelib" if wheel_metadata["Root-Is-Purelib"] == "true" else "platlib"
    record_path = f"{dist_info}/RECORD"
    files: list[list[object]] = []
    stats: list[list[int]] = []
    directories: set[tuple[str, str]] = set()
    for member, executable, digest, size in manifest["files"]:
        member = str(member)
        if member == record_path:
            continue  # written at the end, from what was installed
        found = os.stat(entry / member)
        if found.st_size != int(size) or (
            verify and file_record_hash(entry / member) != f"sha256={digest}"
        ):
            return None
        stats.append([found.st_mtime_ns, found.st_mode])
        top, _, rest = member.partition("/")
        if top == data_dir:
            scheme, _, relative = rest.partition("/")
            if scheme not in SCHEME_NAMES or not relative:
                raise ValueError(f"{member!r} is not inside a valid .data subdirectory")
        else:
            scheme, relative = root_scheme, member
        flags = EXECUTABLE if executable else 0
        if scheme == "scripts":
            with (entry / member).open("rb") as handle:
                if handle.read(8) == b"#!python":
                    flags |= SHEBANG
        files.append([member, scheme, relative, f"sha256={digest}", str(size), flags])
        parent = posixpath.dirname(relative)
        while parent and (scheme, parent) not in directories:
            directories.add((scheme, parent))
            parent = posixpath.dirname(parent)
    entry_points: list[list[str]] = []
    if any(str(f[0]) == f"{dist_info}/entry_points.txt" for f in manifest["files"]):
        text = (entry / dist_info / "entry_points.txt").read_text(encoding="utf-8")
        try:
            entry_points = [list(item) for item in parse_entrypoints(text)]
        except (AssertionError, configparser.Error) as error:
            raise ValueError(f"invalid entry_points.txt ({error})") from None
    schemes = {str(f[1]) for f in files} | {root_scheme}
    if entry_points:
        schemes.add("scripts")
    return {
        "format": _INSTALL_FORMAT,
        "project": manifest["project"],
        "version": manifest["version"],
        "dist_info": dist_info,
        "root_scheme": root_scheme,
        "schemes": sorted(schemes),
        # sorted: a directory before everything inside it
        "dirs": [list(item) for item in sorted(directories)],
        "files": files,
        "stats": stats,
        "entry_points": entry_points,
    }
