"""Putting one wheel's files into a venv: the :class:`WheelInstaller` Protocol, and pypa
``installer`` behind it.

Shape (after pypa/installer's ``_core``): :func:`envspec.venv.apply.apply_plan` orders the work and
keeps the crash journal; an installer only places files. An install happens in two steps, because
the journal must list every path before the first is written: :meth:`WheelInstaller.prepare`
checks the wheel and works out every path it will write, touching nothing in the venv (so an
unsafe or invalid wheel is refused before anything exists of it), and the prepared install's
:meth:`PreparedInstall.run` writes them, RECORD last. Two installers implement it fully:
:class:`InstallerLibrary` here (pypa ``installer``, the reference implementation of the wheel
spec) and ``envspec.venv.linked.CachedUnpackInstaller`` (an unpacked-wheel cache linked into
every venv), which syncs use; ``apply_plan`` never asks which one it has.
"""

from __future__ import annotations

import os
import threading
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.records import RecordEntry as InstallerRecordEntry
from installer.sources import WheelFile
from installer.utils import Scheme, get_launcher_kind
from packaging.utils import NormalizedName, canonicalize_name

from envspec.venv.dist_info import INSTALLER_NAME, NO_EXTRA, check_extra_names
from envspec.venv.layout import VenvLayout
from envspec.venv.placement import (
    UnsafeWheel,
    WheelInstallFailed,
    archive_targets,
    confine_targets,
    scheme_dict,
)

if TYPE_CHECKING:
    from installer.scripts import LauncherKind

__all__ = [
    "InstallerLibrary",
    "PreparedInstall",
    "UnsafeWheel",
    "WheelInstallFailed",
    "WheelInstaller",
    "read_umask",
]


class PreparedInstall(Protocol):
    """One wheel's install into one venv, checked and worked out, not started."""

    def planned_paths(self) -> list[str]:
        """Every absolute path :meth:`run` may write (for the journal), each already judged to
        land inside its scheme directory."""
        ...

    def run(self) -> None:
        """Write the files: METADATA, INSTALLER ("envspec"), every ``extra_dist_info`` file, and a
        RECORD written *last*, listing every file written (console scripts and extra files
        included), paths relative to the site-packages directory. Stray files of an interrupted
        earlier attempt may exist: overwrite them. :class:`WheelInstallFailed` when it fails;
        cleaning up what it wrote is the caller's job (it has the journal)."""
        ...


class WheelInstaller(Protocol):
    """Puts one wheel's files into a venv.

    Contract: ``wheel`` is a local file whose sha256 the caller already checked; ``name`` is the
    project it must contain (:class:`WheelInstallFailed` otherwise). The project is not installed
    when the install runs (no dist-info of it exists). Called from several threads at once, for
    different projects.
    """

    def prepare(
        self,
        wheel: Path,
        layout: VenvLayout,
        *,
        name: NormalizedName,
        sha256: str | None = None,
        extra_dist_info: Mapping[str, bytes] = NO_EXTRA,
    ) -> PreparedInstall:
        """Check the wheel and work out its install; nothing in the venv is touched.
        :class:`UnsafeWheel` for a wheel that would write outside its scheme directories,
        :class:`WheelInstallFailed` for one that is invalid or of another project, ValueError for
        an ``extra_dist_info`` name that is not a plain file name.

        ``sha256``: the wheel's digest when the caller already verified it (saves a re-hash).
        ``extra_dist_info``: file name → content, written into the dist-info like INSTALLER
        (``direct_url.json``, ``ENVSPEC_SOURCE``)."""
        ...

    def install(
        self,
        wheel: Path,
        layout: VenvLayout,
        *,
        name: NormalizedName,
        sha256: str | None = None,
        extra_dist_info: Mapping[str, bytes] = NO_EXTRA,
    ) -> None:
        """:meth:`prepare` and run in one step, without a journal (tests, one-off installs)."""
        self.prepare(
            wheel, layout, name=name, sha256=sha256, extra_dist_info=extra_dist_info
        ).run()


class InstallerLibrary(WheelInstaller):
    """:class:`WheelInstaller` on pypa's ``installer``, the reference implementation of the wheel
    spec: scripts generated for the venv's python, INSTALLER = "envspec", no bytecode compiled."""

    def __init__(self, *, script_kind: LauncherKind | None = None) -> None:
        self._script_kind: LauncherKind = script_kind or get_launcher_kind()
        # installer reads the umask by setting it, which is not thread-safe: read it once, here
        self._umask = read_umask()

    def prepare(
        self,
        wheel: Path,
        layout: VenvLayout,
        *,
        name: NormalizedName,
        sha256: str | None = None,
        extra_dist_info: Mapping[str, bytes] = NO_EXTRA,
    ) -> PreparedInstall:
        check_extra_names(extra_dist_info)
        try:
            targets = archive_targets(wheel, layout, name, extra_dist_info)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise WheelInstallFailed(wheel, name, f"it is not a valid wheel ({error})") from None
        # every path installer will write, judged before it writes the first one
        confine_targets(wheel, name, layout, targets, follow_last=True)
        return _LibraryInstall(
            installer=self,
            wheel=wheel,
            layout=layout,
            name=name,
            extra_dist_info=dict(extra_dist_info),
            paths=[path for _, path, _, _ in targets],
        )

    def _run(self, prepared: _LibraryInstall) -> None:
        wheel, layout, name = prepared.wheel, prepared.layout, prepared.name
        _make_parent_directories(layout, prepared.paths)
        try:
            with WheelFile.open(wheel) as source:
                found = canonicalize_name(source.distribution)
                if found != name:
                    raise WheelInstallFailed(wheel, name, f"the wheel is of {found!r}")
                source.validate_record(validate_contents=False)
                destination = _Destination(
                    scheme_dict=scheme_dict(layout, name),
                    interpreter=str(layout.python),
                    script_kind=self._script_kind,
                    bytecode_optimization_levels=(),
                    overwrite_existing=True,
                    umask=self._umask,
                )
                metadata = {"INSTALLER": f"{INSTALLER_NAME}\n".encode(), **prepared.extra_dist_info}
                install(source, destination, metadata)
        except WheelInstallFailed:
            raise
        except (InstallerError, zipfile.BadZipFile, ValueError, KeyError) as error:
            raise WheelInstallFailed(wheel, name, f"it is not a valid wheel ({error})") from None
        except OSError as error:
            raise WheelInstallFailed(
                wheel, name, f"a file could not be written ({error})"
            ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class _LibraryInstall:
    """:class:`InstallerLibrary`'s prepared install: the archive's targets, judged."""

    installer: InstallerLibrary
    wheel: Path
    layout: VenvLayout
    name: NormalizedName
    extra_dist_info: dict[str, bytes]
    paths: list[str]

    def planned_paths(self) -> list[str]:
        return list(self.paths)

    def run(self) -> None:
        self.installer._run(self)


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


def read_umask() -> int:
    """The process's umask (read by setting it, so under a lock: not thread-safe otherwise)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


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
