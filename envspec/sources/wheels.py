"""Each selected package's wheel on disk before anything is installed: downloaded in parallel
into the cache and verified (size, sha256, and the wheel's own METADATA against the lock), or built
from its sdist or source directory (or taken from the built-wheel cache).

One step of the session pipeline (:mod:`envspec.commands.session`), for ``sync`` and for build
environments alike.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name

from envspec.errors import EnvspecError, OutsideWorldError, UserError
from envspec.fsutil import file_sha256
from envspec.index.download import HashMismatch
from envspec.index.metadata import wheel_metadata
from envspec.values.files import CandidateMetadata, FileInfo, InvalidMetadata
from envspec.values.urls import file_url_path, redact_url

if TYPE_CHECKING:
    from envspec.index.source import IndexSource
    from envspec.plan import Action, Wanted
    from envspec.sources.builds import SourceBuilds

__all__ = ["STAGES", "ProgressCallback", "obtain_wheels"]

_UNPACK_FAILURES: tuple[type[Exception], ...] = (
    OSError,
    ValueError,
    LookupError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
)
"""What unpacking a wheel raises for bad data or a failing disk (not for a bug in envspec)."""

ProgressCallback = Callable[[str, int, int, int], None]
"""``progress(stage, done, total, nbytes)``: stage is one of :data:`STAGES`, items done of total,
and the bytes downloaded so far (0 for builds and installs). The one progress type of the install
pipeline: ``sync`` passes the CLI's, the build environments none."""

STAGES = ("download", "build", "install")


def _check_wheel_metadata(want: Wanted, wheel: Path) -> None:
    """Refuse a wheel whose own METADATA is not what was locked (exit 3, naming the package).

    The lock was resolved from metadata the index served separately (PEP 658) or from the wheel;
    the hash check proves the wheel is the one locked, not that the separate file told the truth
    about it. Name, version and every locked dependency name must be in the wheel's METADATA."""
    info = FileInfo(filename=want.filename, url=want.url, index_url="", hashes={})
    origin = redact_url(want.url)
    try:
        with zipfile.ZipFile(wheel) as archive:
            metadata = CandidateMetadata.from_bytes(wheel_metadata(archive, info), origin=origin)
    except (zipfile.BadZipFile, OSError, ValueError, InvalidMetadata) as error:
        raise OutsideWorldError(
            f"Could not read the METADATA of {want.name} from {origin!r}: {error}."
        ) from None
    problems = []
    if metadata.name != want.name:
        problems.append(f"its name is {metadata.name!r}, the lock says {want.name!r}")
    if want.version is not None and metadata.version != want.version:
        problems.append(f"its version is {metadata.version}, the lock says {want.version}")
    if want.dependencies is not None:
        declared = {canonicalize_name(r.name) for r in metadata.requires_dist}
        missing = [name for name in want.dependencies if name not in declared]
        if missing:
            problems.append(
                "the lock says it depends on " + ", ".join(missing) + ", its METADATA does not"
            )
    if problems:
        raise OutsideWorldError(
            f"The wheel of {want.name} {want.version} disagrees with the lock: "
            + "; ".join(problems)
            + ". The index's metadata for it did not match the wheel itself; nothing was installed.",
            hint="The index (or a mirror) serves wrong metadata for this file: report it to "
            "its maintainers.",
        )


def obtain_wheels(
    actions: Sequence[Action],
    *,
    source: IndexSource,
    builds: SourceBuilds | None,
    progress: ProgressCallback | None = None,
    unpack: Callable[[Path, str | None], object] | None = None,
) -> dict[NormalizedName, Path]:
    """Every wheel the actions install: downloaded in parallel into the cache and verified (size
    and sha256), sdists and source directories built (or taken from the built-wheel cache). A
    mismatch or a failed build raises before anything is installed.

    ``unpack`` (the installer's unpacked-wheel cache) runs in the worker threads as each wheel
    is ready, so unzipping overlaps the network; it writes only into the cache."""
    wanted = [a.wanted for a in actions if a.wanted is not None]
    total = len(wanted)
    found: dict[NormalizedName, Path] = {}
    nbytes = 0
    builds_total = sum(1 for w in wanted if w.kind != "wheel")
    builds_started = 0

    def building() -> None:
        nonlocal builds_started
        builds_started += 1  # under the GIL; a count for the progress line only
        if progress is not None:
            progress("build", builds_started, builds_total, 0)

    def fetch(want: Wanted) -> Path:
        assert want.sha256 is not None
        local = file_url_path(want.url)
        if local is not None:
            if not local.is_file():
                raise UserError(f"{want.name}: the locked file {str(local)!r} does not exist.")
            actual = file_sha256(local)
            if actual != want.sha256:
                raise HashMismatch(want.url, {"sha256": want.sha256}, {"sha256": actual})
            return local
        info = FileInfo(
            filename=want.filename,
            url=want.url,
            index_url="",
            hashes={"sha256": want.sha256},
            size=want.size,
        )
        return source.download(info)

    def unpacking(wheel: Path, sha256: str | None, name: str) -> None:
        """The ``unpack`` callback, whose failures (a hostile or broken archive, a full disk)
        become envspec errors naming the package: it runs in a worker thread, and whatever it
        raises reaches the user through ``pool.map``."""
        if unpack is None:
            return
        try:
            unpack(wheel, sha256)
        except EnvspecError:
            raise
        except _UNPACK_FAILURES as error:
            raise OutsideWorldError(
                f"Could not unpack {name} from {str(wheel)!r}: {error}."
            ) from None

    def obtain(want: Wanted) -> tuple[NormalizedName, Path]:
        if want.kind == "directory":
            directory = file_url_path(want.url)
            if builds is None or directory is None:
                raise OutsideWorldError(f"{want.name}: cannot build {want.url} here.")
            if not directory.is_dir():
                raise UserError(
                    f"{want.name} is locked from the directory {str(directory)!r}, which does "
                    "not exist.",
                    hint="Restore it, or change the spec's [sources] and re-lock.",
                )
            building()
            wheel = builds.directory_wheel(
                directory, want.name, editable=want.editable, digest=want.source_digest
            )
            unpacking(wheel, None, want.name)
            return want.name, wheel
        path = fetch(want)
        if want.kind == "sdist":
            if builds is None:
                raise OutsideWorldError(f"{want.name}: cannot build {want.filename} here.")
            assert want.sha256 is not None
            building()
            wheel = builds.sdist_wheel(path, want.sha256, want.name, str(want.version))
            unpacking(wheel, None, want.name)
            return want.name, wheel
        _check_wheel_metadata(want, path)
        unpacking(path, want.sha256, want.name)
        return want.name, path

    if not wanted:
        return found
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="envspec-download") as pool:
        for name, path in pool.map(obtain, wanted):
            found[name] = path
            nbytes += path.stat().st_size
            if progress is not None:
                progress("download", len(found), total, nbytes)
    return found
