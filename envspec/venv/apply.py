"""Carry out a :class:`envspec.plan.Plan` on a venv: uninstall by RECORD, install wheels.

Shape (after pypa/installer's ``_core``): :func:`apply_plan` only orders the work; putting one wheel's
files into a venv is a :class:`WheelInstaller`'s job (pypa ``installer`` by default, behind the
Protocol so a faster unpacked-wheel cache can replace it), and removing a distribution is
:func:`uninstall`'s.

Crash safety, the invariant: *whatever moment the process is killed at, the next sync sees every
touched distribution as absent, damaged or extraneous, never as intact.* How each step keeps it:

- uninstall reads RECORD, then deletes METADATA first (the dist is now "damaged", and its RECORD is
  still there for the next attempt), then the files, then the dist-info directory;
- before an install, a journal ``<venv>/.envspec-pending/<name>.json`` lists every path the wheel
  will write (from the cache entry's manifest for :class:`CachedUnpackInstaller`, else from the
  archive's file list); every installer writes RECORD last, so a killed install leaves a dist-info
  without RECORD (damaged) or files and no dist-info at all (invisible), and the next
  :func:`apply_plan` first removes whatever a leftover journal lists unless that install had
  completed;
- the journal is deleted only after the install completed; the state file (``envspec.venv.state``)
  is cleared before and written after a sync by the caller, so the no-op path never trusts a venv
  that a killed sync left behind.

A package installed from a URL or a local path (``Wanted.direct_url``) gets PEP 610's
``direct_url.json`` in its dist-info, and one built from a local directory envspec's
``ENVSPEC_SOURCE`` (the lock's digest of that source): :func:`dist_info_files` makes them, every
installer writes them like INSTALLER (listed in RECORD with their hashes, before RECORD), and the
journal lists them. That is how the next sync (``envspec.venv.installed``) knows where a package
came from. A wheel built from an sdist or a directory is installed like any other wheel (an
editable one, PEP 660, is an ordinary wheel holding a ``.pth`` file or an import hook); only its
digest is not the lock's, so it is never passed to the installer as verified.

A wheel writes only inside its venv: before an install writes its journal or any file, every path
it would write (members, ``.data/<scheme>/`` entries, console-script names) is resolved, links
included, and must land inside its scheme directory, and none may be the venv's interpreter,
``pyvenv.cfg``, an activation script or envspec's bookkeeping (:mod:`envspec.venv.confine`);
member names and sizes are judged from the archive's directory first, and the cache unpack counts
the bytes it writes (a zip bomb is refused, not inflated). :class:`UnsafeWheel` says which path.
Uninstall follows the same rule for what it deletes.

Installs run in a small thread pool, biggest wheel first: they are I/O bound (a venv of 40 wheels
is ~7600 hard links and ~3800 mkdir calls) and independent once the removals are done.
Bytecode is not compiled (Python compiles on first import), which is most of what makes pip slow.
"""

from __future__ import annotations

import base64
import configparser
import csv
import errno
import hashlib
import io
import json
import os
import posixpath
import shutil
import stat
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Protocol, overload

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.records import RecordEntry as InstallerRecordEntry
from installer.scripts import Script
from installer.sources import WheelFile
from installer.utils import (
    SCHEME_NAMES,
    Scheme,
    get_launcher_kind,
    parse_entrypoints,
    parse_metadata_file,
)
from packaging.utils import NormalizedName, canonicalize_name

from envspec.errors import OutsideWorldError
from envspec.fsutil import atomic_write_text, file_sha256
from envspec.plan import Action, Plan, Wanted
from envspec.venv.installed import (
    DIRECT_URL_FILE,
    JOURNAL_DIRNAME,
    SOURCE_DIGEST_FILE,
    RecordUnreadable,
    find_dist_infos,
    read_record,
)
from envspec.venv.confine import Confinement
from envspec.venv.layout import VenvLayout
from envspec.venv.linking import LINK_MODES, LinkMode, clone_file, default_link_mode

if TYPE_CHECKING:
    from installer.scripts import LauncherKind

__all__ = [
    "INSTALLER_NAME",
    "JOURNAL_DIRNAME",
    "LINK_MODES",
    "MAX_INSTALL_THREADS",
    "CachedUnpackInstaller",
    "InstallerLibrary",
    "LinkMode",
    "UnsafeWheel",
    "WheelInstallFailed",
    "WheelInstaller",
    "apply_plan",
    "default_link_mode",
    "dist_info_files",
    "planned_paths",
    "recover_interrupted",
    "uninstall",
]

INSTALLER_NAME = "envspec"
"""Written to every installed distribution's INSTALLER file."""
MAX_INSTALL_THREADS = 4

_NO_EXTRA: Mapping[str, bytes] = MappingProxyType({})
_RESERVED_DIST_INFO = frozenset({"RECORD", "INSTALLER", "METADATA", "WHEEL"})


class WheelInstallFailed(OutsideWorldError):
    """A wheel could not be installed (not a valid wheel, wrong project, disk error, ...)."""

    def __init__(self, wheel: Path, name: str, reason: str) -> None:
        super().__init__(
            f"Could not install {name} from {str(wheel)!r}: {reason}.",
            hint="The venv was left for the next 'envspec sync' to repair.",
        )
        self.wheel = wheel
        self.name = name
        self.reason = reason


class UnsafeWheel(WheelInstallFailed):
    """A wheel that would write outside its venv (or through a link out of it), replace the venv's
    own interpreter, ``pyvenv.cfg`` or activation scripts, or unpack to far more than it weighs.
    Raised before anything of it is written, so nothing of it is installed."""

    def __init__(self, wheel: Path, name: str, path: str, reason: str) -> None:
        OutsideWorldError.__init__(
            self,
            f"Refused to install {name} from {str(wheel)!r}: {reason}.",
            hint="Nothing of it was installed. Do not use this file; tell its publisher.",
        )
        self.wheel = wheel
        self.name = name
        self.path = path
        """The offending path as the wheel gives it (a member, a script name)."""
        self.reason = reason


class WheelInstaller(Protocol):
    """Puts one wheel's files into a venv.

    Contract: ``wheel`` is a local file whose sha256 the caller already checked; ``name`` is the
    project it must contain (raise :class:`WheelInstallFailed` otherwise). The project is not
    installed when this is called (no dist-info of it exists), but stray files of an interrupted
    earlier attempt may: overwrite them. The installed dist-info must hold METADATA, INSTALLER
    ("envspec"), every ``extra_dist_info`` file, and a RECORD written *last*, listing every file
    written (console scripts and extra files included), paths relative to the site-packages
    directory. Called from several threads at once, for different projects.
    """

    def install(
        self,
        wheel: Path,
        layout: VenvLayout,
        *,
        name: NormalizedName,
        sha256: str | None = None,
        extra_dist_info: Mapping[str, bytes] = _NO_EXTRA,
    ) -> None:
        """``sha256``: the wheel's digest when the caller already verified it (saves a re-hash).
        ``extra_dist_info``: file name → content, written into the dist-info like INSTALLER
        (``direct_url.json``, ``ENVSPEC_SOURCE``); :func:`apply_plan` passes it only when
        non-empty, so an installer that never needs it may omit the keyword."""
        ...


class InstallerLibrary:
    """:class:`WheelInstaller` on pypa's ``installer``, the reference implementation of the wheel
    spec: scripts generated for the venv's python, INSTALLER = "envspec", no bytecode compiled."""

    def __init__(self, *, script_kind: LauncherKind | None = None) -> None:
        self._script_kind: LauncherKind = script_kind or get_launcher_kind()
        # installer reads the umask by setting it, which is not thread-safe: read it once, here
        self._umask = _read_umask()

    def install(
        self,
        wheel: Path,
        layout: VenvLayout,
        *,
        name: NormalizedName,
        sha256: str | None = None,
        extra_dist_info: Mapping[str, bytes] = _NO_EXTRA,
    ) -> None:
        _check_extra_names(extra_dist_info)
        try:
            # every path installer will write, judged before it writes the first one
            targets = _archive_targets(wheel, layout, name, extra_dist_info)
            _confine(wheel, name, layout, targets, follow_last=True)
            with WheelFile.open(wheel) as source:
                found = canonicalize_name(source.distribution)
                if found != name:
                    raise WheelInstallFailed(wheel, name, f"the wheel is of {found!r}")
                source.validate_record(validate_contents=False)
                destination = _Destination(
                    scheme_dict=_scheme_dict(layout, name),
                    interpreter=str(layout.python),
                    script_kind=self._script_kind,
                    bytecode_optimization_levels=(),
                    overwrite_existing=True,
                    umask=self._umask,
                )
                metadata = {"INSTALLER": f"{INSTALLER_NAME}\n".encode(), **extra_dist_info}
                install(source, destination, metadata)
        except WheelInstallFailed:
            raise
        except (InstallerError, zipfile.BadZipFile, ValueError, KeyError) as error:
            raise WheelInstallFailed(wheel, name, f"it is not a valid wheel ({error})") from None
        except OSError as error:
            raise WheelInstallFailed(
                wheel, name, f"a file could not be written ({error})"
            ) from None


class _Destination(SchemeDictionaryDestination):
    """SchemeDictionaryDestination with the executable bit set from a pre-read umask."""

    def __init__(self, *, umask: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._umask = umask

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> InstallerRecordEntry:
        entry = super().write_to_fs(scheme, path, stream, False)
        if is_executable:
            target = Path(os.path.abspath(Path(self.scheme_dict[scheme]) / path))
            target.chmod(0o777 & ~self._umask | 0o111)
        return entry


_UMASK_LOCK = threading.Lock()


def _read_umask() -> int:
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _scheme_dict(layout: VenvLayout, name: str) -> dict[str, str]:
    include = layout.include
    # pip's venv headers location: <venv>/include/site/python3.X/<project>
    if include.name.lower().startswith("python"):
        headers = layout.root / "include" / "site" / include.name / name
    else:
        headers = include / name
    return {
        "purelib": str(layout.purelib),
        "platlib": str(layout.platlib),
        "headers": str(headers),
        "scripts": str(layout.scripts),
        "data": str(layout.data),
    }


# ── what a wheel may write ─────────────────────────────────────────────────────────────────────

MAX_UNPACKED_BYTES = 4 << 30
"""A wheel may unpack to this many bytes, or to 8 times its own size when that is more (the
largest wheels on PyPI, CUDA builds of torch, unpack to about 3 times their size)."""
MAX_RATIO = 200
"""A member bigger than :data:`RATIO_FLOOR` may be at most this many times its compressed size
(source and binaries deflate 3-10:1; zeros deflate 1000:1, which is what a zip bomb is made of)."""
RATIO_FLOOR = 32 << 20
_SIZE_FACTOR = 8


def _check_archive(archive: zipfile.ZipFile, wheel: Path, name: str) -> list[zipfile.ZipInfo]:
    """The archive's file members, each with a safe relative name and a size within bounds, from
    its central directory; :class:`UnsafeWheel` otherwise. The sizes are the archive's claims:
    :func:`_unpack_wheel` counts what it actually writes against them (and ``zipfile`` never
    inflates a member past its declared size)."""
    try:
        wheel_size = os.stat(wheel).st_size
    except OSError:
        wheel_size = 0
    limit = max(MAX_UNPACKED_BYTES, _SIZE_FACTOR * wheel_size)
    total = 0
    members = []
    for info in archive.infolist():
        member = info.filename
        parts = member.split("/")
        if (
            member.startswith("/")
            or "\\" in member
            or "\0" in member
            or ".." in parts
            or ":" in parts[0]
        ):
            raise UnsafeWheel(
                wheel, name, member, f"its member {member!r} would be written outside the venv"
            )
        if member.endswith("/"):
            continue
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnsafeWheel(
                wheel,
                name,
                member,
                f"its member {member!r} inflates {info.compress_size} bytes to "
                f"{info.file_size} (more than {MAX_RATIO}:1): a zip bomb",
            )
        total += info.file_size
        if total > limit:
            raise UnsafeWheel(
                wheel,
                name,
                member,
                f"it unpacks to more than {limit} bytes (at {member!r}): a zip bomb",
            )
        members.append(info)
    return members


def _check_script_name(wheel: Path, name: str, script: str) -> None:
    """An entry point's script name becomes a file name in the scripts directory: one plain
    component, never a path."""
    if (
        not script.strip()
        or script in (".", "..")
        or any(c in script for c in "/\\\0")
        or script != script.strip()
    ):
        raise UnsafeWheel(
            wheel, name, script, f"its entry point names the script {script!r}, not a file name"
        )


_Target = tuple[str, str, str, str]
"""(the scheme directory a file must stay inside, its absolute path, the name the wheel gives
it, what it is: "file" or "console script")."""


def _confine(
    wheel: Path,
    name: str,
    layout: VenvLayout,
    targets: Iterable[_Target],
    *,
    follow_last: bool = False,
) -> None:
    """:class:`UnsafeWheel` unless every target lands inside its scheme directory, links
    resolved, and none is the venv's own interpreter, ``pyvenv.cfg``, activation script or
    envspec bookkeeping. ``follow_last``: the installer opens existing files for writing (a link
    at a target would be followed); envspec's own writers replace them instead."""
    confinement = Confinement(layout)
    for directory, path, given, what in targets:
        if not confinement.inside(path, directory, follow_last=follow_last):
            raise UnsafeWheel(
                wheel,
                name,
                given,
                f"its {what} {given!r} would be written outside {directory!r} (to {path!r})",
            )
        if confinement.protected(path):
            raise UnsafeWheel(
                wheel, name, given, f"its {what} {given!r} would replace the venv's own {path!r}"
            )


class CachedUnpackInstaller:
    """:class:`WheelInstaller` that unpacks each wheel once into a cache, then links its files into
    every venv that installs it: a second venv (or a re-sync) costs a hard link per file instead of
    a decompression, a copy and a hash.

    The cache entry ``<cache_dir>/<wheel sha256>/`` holds the wheel's files as in the archive plus
    two manifests, both written while unpacking (to a temporary directory renamed into place, so a
    killed unpack never leaves a half entry):

    - ``.envspec-manifest.json``: every file's sha256 and size (the entry is complete when it
      exists; older envspec versions sharing the cache read only this one);
    - ``.envspec-install.json``: everything an install needs that does not depend on the venv,
      worked out once per wheel per machine instead of once per file per install: each file's
      scheme (``purelib``, ``platlib``, ``scripts``, ``headers``, ``data``, from the ``.data/``
      directory and ``Root-Is-Purelib``) and path inside it, its RECORD hash and size, whether it is
      a ``#!python`` script to rewrite; the directories to create, parents first; the console and
      GUI entry points. An entry made by an older envspec gets it on first use.

    An install is then a loop of ``os.link`` calls (a system call each, the GIL released) plus a
    handful of generated files — console scripts (pypa ``installer``'s own generator, for the
    venv's python), rewritten ``#!python`` scripts, INSTALLER — and RECORD *last*, assembled from
    the manifest's precomputed rows: the same files, modes and RECORD bytes as
    :class:`InstallerLibrary` writes. ``link_mode`` chooses clone, hardlink or copy
    (:mod:`envspec.venv.linking`); a hard link or clone the file system refuses (another device, no
    support, too many links) falls back to a copy.

    Hard-linked files are shared: editing one in place inside a venv edits the cache entry and
    every venv using it (uv's default makes the same trade). So the install manifest also records
    each file's size, mtime and mode as unpacked, and :meth:`_prepare` compares them (one ``stat``
    per file, no hashing) before anything is linked from the entry: a changed entry is unpacked
    again from the verified wheel, and a venv synced later never inherits the edit. ``envspec
    check`` compares RECORD hashes and so reports the edit in the venvs sharing it. Generated
    files are always new inodes, never written through a link.

    Every destination (from the manifest, which a hostile wheel's names built) is judged by
    :func:`_confine` before the journal or any file is written: see :class:`UnsafeWheel`.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        link: bool = True,
        link_mode: LinkMode | None = None,
        script_kind: LauncherKind | None = None,
    ) -> None:
        """``link_mode``: how files get from the cache into a venv (:mod:`envspec.venv.linking`);
        by default the platform's (:func:`default_link_mode`), or "copy" when ``link`` is false."""
        if link_mode is None:
            link_mode = default_link_mode() if link else "copy"
        if link_mode not in LINK_MODES:
            raise ValueError(f"link_mode must be one of {LINK_MODES!r}, not {link_mode!r}")
        self._cache_dir = Path(cache_dir)
        self.link_mode: LinkMode = link_mode
        self._script_kind: LauncherKind = script_kind or get_launcher_kind()
        self._umask = _read_umask()

    def install(
        self,
        wheel: Path,
        layout: VenvLayout,
        *,
        name: NormalizedName,
        sha256: str | None = None,
        extra_dist_info: Mapping[str, bytes] = _NO_EXTRA,
    ) -> None:
        prepared = self._prepare(
            wheel, layout, name=name, sha256=sha256, extra_dist_info=extra_dist_info
        )
        self._install_prepared(prepared)

    def forget(self, sha256: str) -> None:
        """Drop the entry of the wheel with this digest; the next install unpacks it afresh."""
        shutil.rmtree(self._cache_dir / sha256, ignore_errors=True)

    def unpacked(self, wheel: Path, sha256: str | None = None, *, name: str | None = None) -> Path:
        """The cache entry of ``wheel``, unpacking it first when absent. ``sha256`` is the wheel's
        digest when the caller verified it already; otherwise it is computed here. ``name``: the
        project, for messages (else read from the file name).

        Raises only :class:`WheelInstallFailed` (:class:`UnsafeWheel` for a hostile archive): it
        runs in the download threads, where anything else would end as a traceback."""
        return self._unpacked(wheel, sha256, name=name, replace=False)

    def _unpacked(
        self, wheel: Path, sha256: str | None, *, name: str | None, replace: bool
    ) -> Path:
        """``replace``: unpack again over an entry whose files changed since it was unpacked (an
        edit made through a hard link in some venv): the fresh copy is renamed in, the stale one
        aside, then removed; a venv linked to the stale files keeps them."""
        shown = name or _project_of(wheel)
        try:
            if sha256 is None:
                sha256 = file_sha256(wheel)
            entry = self._cache_dir / sha256
            if not replace and (entry / _MANIFEST).is_file():
                return entry
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{entry.name[:16]}.", dir=self._cache_dir))
            stale: Path | None = None
            try:
                _unpack_wheel(wheel, staging, name=shown)
                if replace:
                    stale = Path(
                        tempfile.mkdtemp(prefix=f".{entry.name[:16]}.stale.", dir=self._cache_dir)
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
        except _NOT_A_WHEEL as error:
            raise WheelInstallFailed(wheel, shown, f"it is not a valid wheel ({error})") from None
        except OSError as error:
            raise WheelInstallFailed(
                wheel, shown, f"it could not be unpacked into the cache ({error})"
            ) from None

    # The two halves of install(), apart so that apply_plan can write the journal from the
    # manifest (no second read of the wheel) between them.

    def _prepare(
        self,
        wheel: Path,
        layout: VenvLayout,
        *,
        name: NormalizedName,
        sha256: str | None,
        extra_dist_info: Mapping[str, bytes] = _NO_EXTRA,
    ) -> _PreparedInstall:
        """Unpack (when not cached yet) and load the install manifest; nothing in the venv is
        touched. :class:`WheelInstallFailed` for a wheel that is invalid or of another project."""
        _check_extra_names(extra_dist_info)
        try:
            if sha256 is None:
                sha256 = file_sha256(wheel)
            entry = self.unpacked(wheel, sha256, name=name)
            manifest = _load_install_manifest(entry)
            if manifest is None or not _entry_intact(entry, manifest):
                # a file of the entry changed since it was unpacked (edited in place through a
                # hard link in some venv): never link from it, unpack the verified wheel again
                entry = self._unpacked(wheel, sha256, name=name, replace=True)
                manifest = _load_install_manifest(entry)
                if manifest is None:
                    raise WheelInstallFailed(wheel, name, "its cache entry keeps changing")
        except WheelInstallFailed:
            raise
        except (zipfile.BadZipFile, ValueError, KeyError, TypeError) as error:
            raise WheelInstallFailed(wheel, name, f"it is not a valid wheel ({error})") from None
        except OSError as error:
            raise WheelInstallFailed(
                wheel, name, f"it could not be unpacked into the cache ({error})"
            ) from None
        found = canonicalize_name(manifest["project"])
        if found != name:
            raise WheelInstallFailed(wheel, name, f"the wheel is of {found!r}")
        schemes = {key: os.path.abspath(value) for key, value in _scheme_dict(layout, name).items()}
        prepared = _PreparedInstall(
            wheel=wheel,
            name=name,
            entry=str(entry),
            manifest=manifest,
            roots=schemes,
            interpreter=str(layout.python),
            extra_dist_info=dict(extra_dist_info),
        )
        # before the journal and the first file: every destination inside its scheme directory
        _confine(wheel, name, layout, prepared.targets())
        return prepared

    def _install_prepared(self, prepared: _PreparedInstall) -> None:
        try:
            self._write_files(prepared)
        except WheelInstallFailed:
            raise
        except (ValueError, KeyError, TypeError) as error:
            raise WheelInstallFailed(
                prepared.wheel, prepared.name, f"it is not a valid wheel ({error})"
            ) from None
        except OSError as error:
            raise WheelInstallFailed(
                prepared.wheel, prepared.name, f"a file could not be written ({error})"
            ) from None

    def _write_files(self, prepared: _PreparedInstall) -> None:
        manifest = prepared.manifest
        roots = prepared.roots
        root_scheme: str = manifest["root_scheme"]
        dist_info: str = manifest["dist_info"]
        sep = os.sep
        executable_mode = 0o777 & ~self._umask | 0o111
        # RECORD paths are relative to the root scheme's directory (installer's rule)
        prefixes = {scheme: _record_prefix(roots, scheme, root_scheme) for scheme in roots}
        # (path inside its scheme, RECORD path, hash, size), in installer's order: the entry-point
        # scripts, the wheel's files, INSTALLER, RECORD; sorted (stably) by the first item last
        rows: list[tuple[str, str, str, str]] = []

        for scheme in manifest["schemes"]:
            os.makedirs(roots[scheme], exist_ok=True)  # headers' may not exist yet
        _make_directories(roots, manifest["dirs"])

        scripts_dir = roots["scripts"]
        script_mode = executable_mode | (executable_mode & 0o444) >> 2  # installer's write_script
        for script_name, module, attr, section in manifest["entry_points"]:
            filename, data = Script(script_name, module, attr, section).generate(
                prepared.interpreter, self._script_kind
            )
            _write_generated(scripts_dir + sep + filename, data, script_mode)
            rows.append(
                (filename, prefixes["scripts"] + filename, _record_hash(data), str(len(data)))
            )
        # after the scripts, as installer does: a wheel file at a script's path wins
        rows += _place_files(
            manifest["files"],
            entry=prepared.entry,
            roots=roots,
            prefixes=prefixes,
            interpreter=prepared.interpreter,
            executable_mode=executable_mode,
            link_mode=self.link_mode,
        )

        root = roots[root_scheme]
        generated = {"INSTALLER": f"{INSTALLER_NAME}\n".encode(), **prepared.extra_dist_info}
        for filename, data in generated.items():  # installer's additional_metadata
            path = f"{dist_info}/{filename}"
            _write_generated(root + sep + path.replace("/", sep), data, None)
            rows.append((path, prefixes[root_scheme] + path, _record_hash(data), str(len(data))))
        record_path = f"{dist_info}/RECORD"
        rows.append((record_path, prefixes[root_scheme] + record_path, "", ""))
        rows.sort(key=_first)
        text = io.StringIO(newline="")
        writer = csv.writer(text, delimiter=",", quotechar='"', lineterminator="\n")
        if sep == "/":
            writer.writerows(row[1:] for row in rows)
        else:
            writer.writerows((row[1].replace("\\", "/"), row[2], row[3]) for row in rows)
        # last: until RECORD exists the distribution reads as damaged, never as intact
        _write_generated(root + sep + record_path.replace("/", sep), text.getvalue().encode(), None)


def _make_directories(roots: Mapping[str, str], directories: Iterable[tuple[str, str]]) -> None:
    """One mkdir system call per directory; parents come first (or were made already)."""
    sep = os.sep
    posix = sep == "/"
    mkdir = os.mkdir
    for scheme, directory in directories:
        try:
            mkdir(roots[scheme] + sep + (directory if posix else directory.replace("/", sep)))
        except FileExistsError:
            pass


def _place_files(
    files: Iterable[list[Any]],
    *,
    entry: str,
    roots: Mapping[str, str],
    prefixes: Mapping[str, str],
    interpreter: str,
    executable_mode: int,
    link_mode: LinkMode,
) -> list[tuple[str, str, str, str]]:
    """Put install-manifest ``files`` of the cache ``entry`` into the venv (directories made
    already); their RECORD rows, as :meth:`CachedUnpackInstaller._write_files` collects them."""
    # Written for speed: this loop runs once per file of every wheel of a sync (thousands),
    # so plain strings, local names, and in the common case one system call per file.
    sep = os.sep
    posix = sep == "/"
    source_prefix = entry + sep
    make_link = os.link if link_mode == "hardlink" else None
    cloning = link_mode == "clone"
    plain_mode = executable_mode & 0o666  # what a new file gets under the umask
    rows: list[tuple[str, str, str, str]] = []
    append = rows.append
    for member, scheme, relative, digest, size, flags in files:
        source = source_prefix + (member if posix else member.replace("/", sep))
        target = roots[scheme] + sep + (relative if posix else relative.replace("/", sep))
        if flags & _SHEBANG:
            data = _with_shebang(source, interpreter)
            _write_generated(target, data, executable_mode if flags & _EXECUTABLE else None)
            append((relative, prefixes[scheme] + relative, _record_hash(data), str(len(data))))
            continue
        if make_link is not None:
            try:
                make_link(source, target)
            except OSError as error:
                if not _link_again(source, target, error):
                    make_link = None  # the file system refuses links here: copy the rest
                    _copy(source, target, executable_mode if flags & _EXECUTABLE else None)
        elif cloning:
            if not _clone(source, target, executable_mode if flags & _EXECUTABLE else plain_mode):
                cloning = False  # the file system cannot clone here: copy the rest, silently
                _copy(source, target, executable_mode if flags & _EXECUTABLE else None)
        else:
            _copy(source, target, executable_mode if flags & _EXECUTABLE else None)
        append((relative, prefixes[scheme] + relative, digest, size))
    return rows


@dataclass(frozen=True, slots=True, kw_only=True)
class _PreparedInstall:
    """One wheel's install, worked out and not started: its cache entry and manifest, and the
    venv's absolute scheme directories."""

    wheel: Path
    name: NormalizedName
    entry: str
    manifest: dict[str, Any]
    roots: dict[str, str]
    """scheme → absolute directory, for this venv and project."""
    interpreter: str
    extra_dist_info: dict[str, bytes]
    """File name → content, written into the dist-info after INSTALLER (direct_url.json, ...)."""

    def planned_paths(self) -> list[str]:
        """Every absolute path the install may write (for the journal)."""
        return [path for _, path, _, _ in self.targets()]

    def targets(self) -> list[_Target]:
        """Every path the install may write, with its scheme directory and the wheel's name for
        it; :class:`UnsafeWheel` for an entry point whose name is not a file name."""
        sep = os.sep
        roots = self.roots
        targets: list[_Target] = []
        for member, scheme, relative, _, _, _ in self.manifest["files"]:
            directory = roots[scheme]
            targets.append(
                (directory, directory + sep + relative.replace("/", sep), member, "file")
            )
        root = roots[self.manifest["root_scheme"]]
        dist_info = self.manifest["dist_info"]
        for generated in ("INSTALLER", *self.extra_dist_info, "RECORD"):
            path = f"{dist_info}/{generated}"
            targets.append((root, root + sep + path.replace("/", sep), path, "file"))
        scripts = roots["scripts"]
        for script, _, _, _ in self.manifest["entry_points"]:
            _check_script_name(self.wheel, self.name, script)
            for variant in (script, f"{script}.exe", f"{script}-script.py", f"{script}.pya"):
                targets.append((scripts, scripts + sep + variant, script, "console script"))
        return [(d, os.path.normpath(p), given, what) for d, p, given, what in targets]


_MANIFEST = ".envspec-manifest.json"
_INSTALL_MANIFEST = ".envspec-install.json"
_INSTALL_FORMAT = 3
_EXECUTABLE = 1
"""Install-manifest file flag: the archive marks the file executable."""
_SHEBANG = 2
"""Install-manifest file flag: a ``scripts`` file starting with ``#!python``, to rewrite."""
_COPY_CHUNK = 1 << 20


def _first(row: tuple[str, str, str, str]) -> str:
    return row[0]


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _record_prefix(roots: Mapping[str, str], scheme: str, root_scheme: str) -> str:
    """What installer puts before a RECORD path of ``scheme``: nothing in the root scheme, else
    the scheme directory relative to the root scheme's (absolute on Windows), with a slash."""
    if scheme == root_scheme:
        return ""
    if os.name == "nt":  # pragma: no cover - installer's Windows rule
        return roots[scheme] + "/"
    return os.path.relpath(roots[scheme], start=roots[root_scheme]) + "/"


def _write_generated(path: str, data: bytes, mode: int | None) -> None:
    """Write ``data`` to a new file at ``path`` (a stray file there is replaced, never written
    through: it may be a hard link into the cache); ``mode`` is set when given."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except FileExistsError:
        os.unlink(path)
        fd = os.open(path, flags, 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    if mode is not None:
        os.chmod(path, mode)


def _with_shebang(source: str, interpreter: str) -> bytes:
    """installer's ``fix_shebang``: the first line replaced by ``#!<interpreter>``."""
    with open(source, "rb") as handle:
        handle.readline()
        return f"#!{interpreter}\n".encode() + handle.read()


def _link_again(source: str, target: str, error: OSError) -> bool:
    """After ``os.link`` failed with ``error``: replace a stray file or make a missing directory
    and link again. False when the file system refuses hard links (the caller copies)."""
    if isinstance(error, FileExistsError):
        os.unlink(target)  # left by an interrupted earlier attempt
    elif isinstance(error, FileNotFoundError):
        if not os.path.exists(source):
            raise error  # the cache entry lost a file: not something a copy can fix
        os.makedirs(os.path.dirname(target), exist_ok=True)
    elif error.errno in _NO_LINKS:
        return False
    else:
        raise error
    try:
        os.link(source, target)
    except OSError as again:
        if again.errno in _NO_LINKS:
            return False
        raise
    return True


_NO_LINKS = frozenset(
    code
    for code in (
        getattr(errno, "EXDEV", None),
        getattr(errno, "EPERM", None),
        getattr(errno, "EMLINK", None),
        getattr(errno, "ENOTSUP", None),
        getattr(errno, "EOPNOTSUPP", None),
        getattr(errno, "EACCES", None),
    )
    if code is not None
)
"""errno values of a file system that will not hard-link here (another device, no support,
too many links to the inode): the file is copied instead."""


def _clone(source: str, target: str, mode: int) -> bool:
    """A copy-on-write clone of ``source`` at ``target`` (a stray file there replaced); False,
    with nothing written, when the file system cannot clone."""
    try:
        os.unlink(target)  # never write through a stray file: it may be a link into the cache
    except FileNotFoundError:
        os.makedirs(os.path.dirname(target), exist_ok=True)
    if not clone_file(source, target):
        return False
    os.chmod(target, mode)  # a clone may start with the source's mode (macOS): as a copy's

    return True


def _copy(source: str, target: str, mode: int | None) -> None:
    try:
        os.unlink(target)  # never copy *through* a stray file: it may be a link into the cache
    except FileNotFoundError:
        os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(source, target)
    if mode is not None:
        os.chmod(target, mode)


def _unpack_wheel(wheel: Path, directory: Path, *, name: str | None = None) -> None:
    """Unpack ``wheel`` into the empty ``directory`` with its two manifests (the file manifest
    last). Member names and sizes are judged first (:func:`_check_archive`); the bytes actually
    written are counted too, so an archive that lies about its sizes cannot fill the disk."""
    from packaging.utils import parse_wheel_filename

    project, version, _, _ = parse_wheel_filename(wheel.name)
    shown = name or str(project)
    files: list[list[object]] = []
    with zipfile.ZipFile(wheel) as archive:
        members = _check_archive(archive, wheel, shown)
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
            record_hash = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
            files.append([member, executable, record_hash, size])
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
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        return str(parse_wheel_filename(wheel.name)[0])
    except InvalidWheelFilename:
        return wheel.name


_NOT_A_WHEEL: tuple[type[Exception], ...] = (
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
            verify and _file_record_hash(entry / member) != f"sha256={digest}"
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
        flags = _EXECUTABLE if executable else 0
        if scheme == "scripts":
            with (entry / member).open("rb") as handle:
                if handle.read(8) == b"#!python":
                    flags |= _SHEBANG
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


def _file_record_hash(path: Path) -> str:
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


# ── uninstall ───────────────────────────────────────────────────────────────────────────────────


def uninstall(layout: VenvLayout, name: NormalizedName) -> None:
    """Remove project ``name`` from the venv: every file its RECORD lists (and every file a
    leftover install journal lists), their bytecode, the dist-info, then directories left empty.

    A missing file is not an error, nor is a project that is not installed. Only files inside the
    venv are deleted, judged with their directories resolved: a RECORD path through a symbolic
    link out of the venv (``site-packages/evil -> /tmp/outside``) is not followed, and a link is
    removed, never what it points to. The venv's own interpreter, ``pyvenv.cfg``, activation
    scripts and envspec's bookkeeping are never deleted, whatever a RECORD says.
    """
    confinement = Confinement(layout)
    dist_infos = find_dist_infos(layout, name)
    files: set[Path] = set()
    linked: list[Path] = []
    for dist_info in dist_infos:
        try:
            files.update(entry.location(dist_info.parent) for entry in read_record(dist_info))
        except RecordUnreadable:
            pass  # damaged: only the dist-info and what a journal lists can be found
        if dist_info.is_symlink() or not confinement.inside_venv(
            str(dist_info), follow_last=True
        ):
            linked.append(dist_info)
            _unlink(dist_info)  # the link goes, never what it points to
            continue
        # from here on the next sync sees it as damaged, with its RECORD still readable
        _unlink(dist_info / "METADATA")
    journal = _journal_path(layout, name)
    files.update(_read_journal(layout, journal))
    inside_dist_info = tuple(d for d in dist_infos if d not in linked)
    touched_dirs: set[Path] = set()
    for path in sorted(files):
        text = str(path)
        if not confinement.inside_venv(text) or confinement.protected(text):
            continue
        if any(_is_inside(path, d) for d in inside_dist_info):
            continue  # removed with the directory, RECORD last
        if path.is_dir() and not path.is_symlink():
            continue
        _unlink(path)
        if path.suffix == ".py":
            _remove_bytecode(path)
        touched_dirs.add(path.parent)
    for dist_info in inside_dist_info:
        shutil.rmtree(dist_info, ignore_errors=True)
        touched_dirs.add(dist_info.parent)
    _prune_empty_dirs(layout, touched_dirs, confinement)
    _unlink(journal)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _is_inside(path: Path, directory: Path) -> bool:
    try:
        return os.path.commonpath([path, directory]) == str(directory)
    except ValueError:  # different drives on Windows
        return False


def _remove_bytecode(source: Path) -> None:
    cache = source.parent / "__pycache__"
    try:
        with os.scandir(cache) as entries:
            stale = [
                Path(entry.path)
                for entry in entries
                if entry.name.startswith(source.stem + ".") and entry.name.endswith(".pyc")
            ]
    except (FileNotFoundError, NotADirectoryError):
        return
    for path in stale:
        _unlink(path)


def _prune_empty_dirs(
    layout: VenvLayout, dirs: Iterable[Path], confinement: Confinement | None = None
) -> None:
    """Remove directories (deepest first, then their parents) left holding nothing, or only a
    ``__pycache__`` of bytecode whose sources are gone; never a scheme directory or its ancestors,
    never one that resolves outside the venv."""
    confinement = confinement or Confinement(layout)
    keep: set[Path] = set()
    for base in (layout.purelib, layout.platlib, layout.scripts, layout.data, layout.include):
        keep.add(base)
        keep.update(base.parents)
    keep.add(layout.root)
    pending = {d for d in dirs if _is_inside(d, layout.root)}
    while pending:
        directory = max(pending, key=lambda p: (len(p.parts), str(p)))
        pending.discard(directory)
        if (
            directory in keep
            or not _is_inside(directory, layout.root)
            or not confinement.inside_venv(str(directory), follow_last=True)
        ):
            continue
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if set(names) - {"__pycache__"}:
            continue
        if names:
            cache = directory / "__pycache__"
            try:
                cached = os.listdir(cache)
            except NotADirectoryError:
                continue
            if any(not n.endswith(".pyc") for n in cached):
                continue
            shutil.rmtree(cache, ignore_errors=True)
        try:
            directory.rmdir()
        except OSError:
            continue  # another process wrote into it meanwhile: keep it
        pending.add(directory.parent)


# ── the install journal ─────────────────────────────────────────────────────────────────────────


def _journal_path(layout: VenvLayout, name: str) -> Path:
    return layout.root / JOURNAL_DIRNAME / f"{name}.json"


def _read_journal(layout: VenvLayout, journal: Path) -> list[Path]:
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        paths = data["paths"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(paths, list):
        return []
    return [Path(os.path.normpath(layout.root / p)) for p in paths if isinstance(p, str) and p]


def planned_paths(
    wheel: Path, layout: VenvLayout, name: str, extra_dist_info: Iterable[str] = ()
) -> list[Path]:
    """Every path installing ``wheel`` into ``layout`` may write, from the archive's file list
    and its ``entry_points.txt`` (console and GUI scripts, with the Windows launcher variants),
    plus the generated dist-info files (INSTALLER and the ``extra_dist_info`` names)."""
    return [Path(p) for p in _planned(wheel, layout, name, extra_dist_info)]


def _planned(
    wheel: Path, layout: VenvLayout, name: str, extra_dist_info: Iterable[str] = ()
) -> list[str]:
    return [path for _, path, _, _ in _archive_targets(wheel, layout, name, extra_dist_info)]


def _archive_targets(
    wheel: Path, layout: VenvLayout, name: str, extra_dist_info: Iterable[str] = ()
) -> list[_Target]:
    """Every file installing ``wheel`` may write, with the scheme directory it must stay in and
    the name the wheel gives it; :class:`UnsafeWheel` for an unsafe member name, script name or
    size (the destinations themselves are judged by :func:`_confine`)."""
    # strings, not pathlib: this runs for every file of every wheel of a sync
    with zipfile.ZipFile(wheel) as archive:
        members = [info.filename for info in _check_archive(archive, wheel, name)]
        tops = {m.partition("/")[0] for m in members}
        dist_infos = sorted(t for t in tops if t.endswith(".dist-info"))
        if len(dist_infos) != 1:
            raise ValueError(f"expected one .dist-info directory, found {dist_infos!r}")
        dist_info = dist_infos[0]
        data_dir = dist_info[: -len(".dist-info")] + ".data"
        wheel_text = archive.read(f"{dist_info}/WHEEL").decode("utf-8", errors="replace")
        entry_points = None
        if f"{dist_info}/entry_points.txt" in members:
            entry_points = archive.read(f"{dist_info}/entry_points.txt").decode("utf-8")
    purelib = "root-is-purelib: true" in wheel_text.lower().replace("\r", "")
    schemes = {key: os.path.abspath(value) for key, value in _scheme_dict(layout, name).items()}
    root = schemes["purelib" if purelib else "platlib"]
    sep = os.sep
    targets: list[_Target] = []
    for member in members:
        top, _, rest = member.partition("/")
        if top == data_dir:
            scheme, _, inner = rest.partition("/")
            if inner:
                directory = schemes.get(scheme, root)
                target = directory + sep + inner.replace("/", sep)
                targets.append((directory, target, member, "file"))
                continue
        targets.append((root, root + sep + member.replace("/", sep), member, "file"))
    for generated in ("INSTALLER", *extra_dist_info):
        path = f"{dist_info}/{generated}"
        targets.append((root, root + sep + path.replace("/", sep), path, "file"))
    if entry_points:
        scripts = schemes["scripts"]
        try:
            parsed = list(parse_entrypoints(entry_points))
        except (AssertionError, configparser.Error) as error:
            raise ValueError(f"invalid entry_points.txt ({error})") from None
        for script, _, _, _ in parsed:
            _check_script_name(wheel, name, script)
            for variant in (script, f"{script}.exe", f"{script}-script.py", f"{script}.pya"):
                targets.append((scripts, scripts + sep + variant, script, "console script"))
    return [(d, os.path.normpath(p), given, what) for d, p, given, what in targets]


def _write_journal(layout: VenvLayout, name: str, paths: list[str]) -> None:
    prefix = str(layout.root) + os.sep
    relative = sorted(
        {
            p[len(prefix) :] if p.startswith(prefix) else os.path.relpath(p, layout.root)
            for p in paths
        }
    )
    atomic_write_text(
        _journal_path(layout, name),
        json.dumps({"name": name, "paths": relative}, indent=1) + "\n",
    )


def recover_interrupted(layout: VenvLayout) -> list[NormalizedName]:
    """Finish what a killed sync left: for each leftover install journal, keep the install if it
    completed (METADATA and a readable RECORD), else remove everything it may have written.
    Returns the names whose half-installed files were removed."""
    directory = layout.root / JOURNAL_DIRNAME
    try:
        journals = sorted(directory.glob("*.json"))
    except OSError:
        return []
    removed: list[NormalizedName] = []
    for journal in journals:
        name = canonicalize_name(journal.stem)
        if _installed_completely(layout, name):
            _unlink(journal)
        else:
            uninstall(layout, name)
            _unlink(journal)  # a journal under an unexpected spelling
            removed.append(name)
    try:
        directory.rmdir()
    except OSError:
        pass
    return removed


def _installed_completely(layout: VenvLayout, name: str) -> bool:
    dist_infos = find_dist_infos(layout, name)
    if len(dist_infos) != 1 or not (dist_infos[0] / "METADATA").is_file():
        return False
    try:
        read_record(dist_infos[0])
    except RecordUnreadable:
        return False
    return True


# ── the plan ────────────────────────────────────────────────────────────────────────────────────


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
    its :class:`WheelInstallFailed` is raised; the venv is then left for the next sync to complete.

    A package whose wanted ``kind`` is not ``"wheel"`` was built from source: its wheel's digest
    is not the lock's, so none is passed to the installer (which hashes the wheel itself when it
    needs to). A package with a ``direct_url`` or ``source_digest`` gets the dist-info files
    :func:`dist_info_files` makes.
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
                dist_info_files(a.wanted) if a.wanted is not None else _NO_EXTRA,
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


def dist_info_files(wanted: Wanted) -> dict[str, bytes]:
    """The files envspec adds to the dist-info of ``wanted`` besides INSTALLER: PEP 610's
    ``direct_url.json`` (compact JSON) when it comes from a URL or a local path, and
    ``ENVSPEC_SOURCE`` (the lock's digest of its local source and a newline) when it has one.

    The URL's secret is redacted, as PEP 610 asks (``user:***@``): anyone who can read the venv
    can read this file."""
    from envspec.values.urls import redact_url

    files: dict[str, bytes] = {}
    if wanted.direct_url is not None:
        document: dict[str, Any] = {"url": redact_url(wanted.direct_url)}
        if wanted.kind == "directory":
            document["dir_info"] = {"editable": True} if wanted.editable else {}
        elif wanted.sha256:
            document["archive_info"] = {
                "hashes": {"sha256": wanted.sha256},
                "hash": f"sha256={wanted.sha256}",
            }
        else:
            document["archive_info"] = {}
        files[DIRECT_URL_FILE] = json.dumps(document, separators=(",", ":")).encode()
    if wanted.source_digest is not None:
        files[SOURCE_DIGEST_FILE] = f"{wanted.source_digest}\n".encode()
    return files


def _check_extra_names(extra_dist_info: Mapping[str, bytes]) -> None:
    for filename in extra_dist_info:
        if (
            not filename
            or filename in _RESERVED_DIST_INFO
            or "/" in filename
            or "\\" in filename
            or filename in (".", "..")
        ):
            raise ValueError(f"not a file name an installer may add to a dist-info: {filename!r}")


def _install_one(
    installer: WheelInstaller,
    wheel: Path,
    layout: VenvLayout,
    name: NormalizedName,
    sha256: str | None = None,
    extra_dist_info: Mapping[str, bytes] = _NO_EXTRA,
) -> None:
    cached = installer if isinstance(installer, CachedUnpackInstaller) else None
    prepared: _PreparedInstall | None = None
    if cached is not None:
        # the journal from the cache entry's manifest: no second read of the wheel
        prepared = cached._prepare(
            wheel, layout, name=name, sha256=sha256, extra_dist_info=extra_dist_info
        )
        paths = prepared.planned_paths()
    else:
        try:
            targets = _archive_targets(wheel, layout, name, extra_dist_info)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise WheelInstallFailed(wheel, name, f"it is not a valid wheel ({error})") from None
        # refused before the journal, the directories or any file is written
        _confine(wheel, name, layout, targets, follow_last=True)
        paths = [path for _, path, _, _ in targets]
    _write_journal(layout, name, paths)
    try:
        if cached is not None and prepared is not None:
            cached._install_prepared(prepared)  # makes its own directories, parents first
        else:
            _make_parent_directories(layout, paths)
            if extra_dist_info:
                installer.install(
                    wheel, layout, name=name, sha256=sha256, extra_dist_info=extra_dist_info
                )
            else:  # an installer written before extra_dist_info existed still works
                installer.install(wheel, layout, name=name, sha256=sha256)
    except BaseException:
        uninstall(layout, name)  # removes the half-written files and the journal
        raise
    _unlink(_journal_path(layout, name))


def _make_parent_directories(layout: VenvLayout, paths: Iterable[str]) -> None:
    """Parents exist before any thread writes: installer's exists()-then-mkdir() races otherwise.
    Every directory with its ancestors below the venv, sorted (a parent before its children):
    one mkdir system call each, instead of makedirs' stat-and-retry walk per file."""
    root = str(layout.root)
    directories: set[str] = set()
    for path in paths:
        parent = os.path.dirname(path)
        while parent not in directories and len(parent) > len(root):
            directories.add(parent)
            parent = os.path.dirname(parent)
    for directory in sorted(directories):
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass
        except FileNotFoundError:  # a path outside the venv root (an absolute scheme path)
            os.makedirs(directory, exist_ok=True)
