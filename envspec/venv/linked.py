"""The installer syncs use: wheels unpacked once into a cache, then linked into every venv.

:class:`CachedUnpackInstaller` implements :class:`envspec.venv.installers.WheelInstaller` over the
unpacked-wheel cache (:mod:`envspec.venv.unpacked`): a second venv (or a re-sync) costs a hard link
per file instead of a decompression, a copy and a hash. An install is a loop of ``os.link`` calls (a
system call each, the GIL released) plus a handful of generated files — console scripts (pypa
``installer``'s own generator, for the venv's python), rewritten ``#!python`` scripts, INSTALLER —
and RECORD *last*, assembled from the manifest's precomputed rows: the same files, modes and RECORD
bytes as :class:`envspec.venv.installers.InstallerLibrary` writes. ``link_mode`` chooses clone,
hardlink or copy (:mod:`envspec.venv.linking`); a hard link or clone the file system refuses
(another device, no support, too many links) falls back to a copy.

Hard-linked files are shared: editing one in place inside a venv edits the cache entry and every
venv using it (uv's default makes the same trade). The cache checks each entry's files before an
install links from it, so a venv synced later never inherits the edit, and ``envspec check``
compares RECORD hashes and so reports the edit in the venvs sharing it. Generated files are always
new inodes, never written through a link.

Every destination (from the manifest, which a hostile wheel's names built) is judged by
:func:`envspec.venv.placement.confine_targets` when the install is prepared, before the journal or
any file is written.
"""

from __future__ import annotations

import errno
import os
import shutil
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.scripts import Script
from installer.utils import get_launcher_kind
from packaging.utils import NormalizedName, canonicalize_name

from envspec.fsutil import file_sha256
from envspec.venv.dist_info import INSTALLER_NAME, NO_EXTRA, check_extra_names
from envspec.venv.installers import WheelInstaller, read_umask
from envspec.venv.layout import VenvLayout
from envspec.venv.linking import LINK_MODES, LinkMode, clone_file, default_link_mode
from envspec.venv.placement import (
    Target,
    WheelInstallFailed,
    check_script_name,
    confine_targets,
    scheme_dict,
    script_variants,
)
from envspec.venv.record import format_record, record_hash
from envspec.venv.unpacked import EXECUTABLE, SHEBANG, UnpackedCache

if TYPE_CHECKING:
    from installer.scripts import LauncherKind

__all__ = ["CachedUnpackInstaller"]


class CachedUnpackInstaller(WheelInstaller):
    """:class:`WheelInstaller` that unpacks each wheel once into a cache (``cache_dir``), then
    links its files into every venv that installs it."""

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
        self._cache = UnpackedCache(Path(cache_dir))
        self.link_mode: LinkMode = link_mode
        self._script_kind: LauncherKind = script_kind or get_launcher_kind()
        self._umask = read_umask()

    def forget(self, sha256: str) -> None:
        """Drop the entry of the wheel with this digest; the next install unpacks it afresh."""
        self._cache.forget(sha256)

    def unpacked(self, wheel: Path, sha256: str | None = None, *, name: str | None = None) -> Path:
        """The cache entry of ``wheel``, unpacking it first when absent. ``sha256`` is the wheel's
        digest when the caller verified it already; otherwise it is computed here. ``name``: the
        project, for messages (else read from the file name).

        Raises only :class:`WheelInstallFailed` (``UnsafeWheel`` for a hostile archive): it runs
        in the download threads, where anything else would end as a traceback."""
        return self._cache.entry(wheel, sha256, name=name)

    def prepare(
        self,
        wheel: Path,
        layout: VenvLayout,
        *,
        name: NormalizedName,
        sha256: str | None = None,
        extra_dist_info: Mapping[str, bytes] = NO_EXTRA,
    ) -> _LinkedInstall:
        """Unpack (when not cached yet) and load the install manifest; nothing in the venv is
        touched. The journal's paths come from the manifest: no second read of the wheel."""
        check_extra_names(extra_dist_info)
        try:
            if sha256 is None:
                sha256 = file_sha256(wheel)
            entry, manifest = self._cache.load(wheel, sha256, name=name)
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
        schemes = {key: os.path.abspath(value) for key, value in scheme_dict(layout, name).items()}
        prepared = _LinkedInstall(
            installer=self,
            wheel=wheel,
            name=name,
            entry=str(entry),
            manifest=manifest,
            roots=schemes,
            interpreter=str(layout.python),
            extra_dist_info=dict(extra_dist_info),
        )
        # before the journal and the first file: every destination inside its scheme directory
        confine_targets(wheel, name, layout, prepared.targets())
        return prepared

    def _run(self, prepared: _LinkedInstall) -> None:
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

    def _write_files(self, prepared: _LinkedInstall) -> None:
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
            rows.append((filename, prefixes["scripts"] + filename, record_hash(data), str(len(data))))
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
            rows.append((path, prefixes[root_scheme] + path, record_hash(data), str(len(data))))
        record_path = f"{dist_info}/RECORD"
        rows.append((record_path, prefixes[root_scheme] + record_path, "", ""))
        rows.sort(key=_first)
        text = format_record((row[1], row[2], row[3]) for row in rows)
        # last: until RECORD exists the distribution reads as damaged, never as intact
        _write_generated(root + sep + record_path.replace("/", sep), text, None)


@dataclass(frozen=True, slots=True, kw_only=True)
class _LinkedInstall:
    """One wheel's install, worked out and not started: its cache entry and manifest, and the
    venv's absolute scheme directories."""

    installer: CachedUnpackInstaller
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

    def run(self) -> None:
        self.installer._run(self)  # makes its own directories, parents first

    def targets(self) -> list[Target]:
        """Every path the install may write, with its scheme directory and the wheel's name for
        it; ``UnsafeWheel`` for an entry point whose name is not a file name."""
        sep = os.sep
        roots = self.roots
        targets: list[Target] = []
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
            check_script_name(self.wheel, self.name, script)
            for variant in script_variants(script):
                targets.append((scripts, scripts + sep + variant, script, "console script"))
        return [(d, os.path.normpath(p), given, what) for d, p, given, what in targets]


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
        if flags & SHEBANG:
            data = _with_shebang(source, interpreter)
            _write_generated(target, data, executable_mode if flags & EXECUTABLE else None)
            append((relative, prefixes[scheme] + relative, record_hash(data), str(len(data))))
            continue
        if make_link is not None:
            try:
                make_link(source, target)
            except OSError as error:
                if not _link_again(source, target, error):
                    make_link = None  # the file system refuses links here: copy the rest
                    _copy(source, target, executable_mode if flags & EXECUTABLE else None)
        elif cloning:
            if not _clone(source, target, executable_mode if flags & EXECUTABLE else plain_mode):
                cloning = False  # the file system cannot clone here: copy the rest, silently
                _copy(source, target, executable_mode if flags & EXECUTABLE else None)
        else:
            _copy(source, target, executable_mode if flags & EXECUTABLE else None)
        append((relative, prefixes[scheme] + relative, digest, size))
    return rows


def _first(row: tuple[str, str, str, str]) -> str:
    return row[0]


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
