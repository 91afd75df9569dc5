"""Projects that come from a path or a URL instead of an index: ``[sources]`` and ``name @ URL``.

Such a project has exactly one candidate, so there is nothing to choose: before resolution each
one is *materialised* once, in parallel — the archive downloaded (or read from disk) and hashed,
verified against a ``#sha256=`` when one was written, the directory's inputs digested — and its
metadata read (from a wheel's METADATA) or built (an sdist or a directory, through the PEP 517
backend). The resolver then treats it as a fixed candidate, and the lock records it as a PEP 751
``archive`` or ``directory`` entry, local paths relative to the lock.

The I/O is injected (:class:`Materials`), so that the rules — what a source may be, how its file
is named, which name it must have — are tested without a network or a build.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from packaging.utils import NormalizedName, canonicalize_name

from envspec.errors import OutsideWorldError, UserError
from envspec.fsutil import file_sha256
from envspec.lock.model import from_lock_relative, lock_relative
from envspec.values.files import CandidateMetadata, FileInfo
from envspec.spec.model import Source, Spec
from envspec.values.urls import redact_url
from envspec.resolve.candidates import DirectPackage

__all__ = [
    "DirectPackage",
    "Materials",
    "SourceNotUsable",
    "archive_filename",
    "from_lock_relative",
    "lock_relative",
    "materialise",
]

_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")


class SourceNotUsable(UserError):
    """A source that names nothing installable: a missing path, an unknown file type, another
    project than the one it is for."""

    def __init__(self, name: str, source: Source, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"The source of {name!r} ({source.describe()}) {reason}.", hint=hint)
        self.name = name


@dataclass(frozen=True, slots=True, kw_only=True)
class Materials:
    """The I/O a materialisation needs, injected by the caller."""

    download: Callable[[FileInfo], Path]
    """A remote archive into the cache, verified against ``file.hashes`` when there are any."""
    archive_metadata: Callable[[Path, FileInfo], bytes]
    """METADATA of a local wheel or sdist (an sdist may need a build)."""
    directory_metadata: Callable[[Path, NormalizedName, bool], bytes]
    """METADATA of a source directory (``editable``: through the PEP 660 hooks)."""
    digest: Callable[[Path, bool], str]
    """The digest of a source directory's inputs (``editable``: only what changes metadata)."""


def materialise(
    spec: Spec, materials: Materials, *, names: set[NormalizedName] | None = None
) -> dict[NormalizedName, DirectPackage]:
    """Every source of the spec (or of ``names``), materialised in parallel; the first error
    raised as it is."""
    wanted = [(n, s) for n, s in spec.sources.items() if names is None or n in names]
    if not wanted:
        return {}
    base = spec.project_dir
    with ThreadPoolExecutor(
        max_workers=min(8, len(wanted)), thread_name_prefix="envspec-src"
    ) as pool:
        done = list(pool.map(lambda pair: _one(pair[0], pair[1], base, materials), wanted))
    return {package.name: package for package in done}


def _one(name: NormalizedName, source: Source, base: Path, materials: Materials) -> DirectPackage:
    local = source.local_path(base)
    if local is not None and local.is_dir():
        return _directory(name, source, local, base, materials)
    if source.editable:
        raise SourceNotUsable(
            name, source, "is not a directory; only a source directory can be editable"
        )
    if local is not None and not local.exists():
        raise SourceNotUsable(
            name,
            source,
            f"names {str(local)!r}, which does not exist",
            hint="Fix the path in [sources]; a relative path is relative to the spec's directory.",
        )
    filename = archive_filename(name, source)
    if local is not None:
        if not local.is_file():
            raise SourceNotUsable(
                name,
                source,
                f"names {str(local)!r}, which does not exist",
                hint="Fix the path in [sources]; a relative path is relative to the spec's directory.",
            )
        sha256 = file_sha256(local)
        if source.sha256 is not None and source.sha256 != sha256:
            raise OutsideWorldError(
                f"The file {str(local)!r} for {name!r} does not match its #sha256=: expected "
                f"{source.sha256}, got {sha256}."
            )
        file = FileInfo(
            filename=filename,
            url=local.as_uri(),
            index_url="",
            hashes={"sha256": sha256},
            size=local.stat().st_size,
        )
        path = local
        location = lock_relative(local, base)
    else:
        assert source.url is not None
        hashes = {"sha256": source.sha256} if source.sha256 else {}
        # the download is the one place the URL's own credentials are used; everything kept
        # after it (the candidate, the lock, messages) has them redacted
        pending = FileInfo(filename=filename, url=source.url, index_url="", hashes=hashes)
        shown = redact_url(source.url)
        try:
            path = materials.download(pending)
        except OutsideWorldError as error:
            error.message = f"Cannot use the source of {name!r}: {error.message}"
            raise
        sha256 = source.sha256 or file_sha256(path)
        file = FileInfo(
            filename=filename,
            url=shown,
            index_url="",
            hashes={"sha256": sha256},
            size=path.stat().st_size,
        )
        location = shown
    metadata = _parsed(materials.archive_metadata(path, file), file.url)
    _check_name(name, source, metadata)
    return DirectPackage(
        name=name,
        source=source,
        kind="archive",
        file=file,
        metadata=metadata,
        location=location,
        local=local is not None,
    )


def _directory(
    name: NormalizedName, source: Source, directory: Path, base: Path, materials: Materials
) -> DirectPackage:
    if not any((directory / marker).is_file() for marker in ("pyproject.toml", "setup.py")):
        raise SourceNotUsable(
            name,
            source,
            f"is the directory {str(directory)!r}, which has neither a "
            "pyproject.toml nor a setup.py: it is not a Python project",
        )
    digest = materials.digest(directory, source.editable)
    file = FileInfo(filename=directory.name, url=directory.as_uri(), index_url="")
    metadata = _parsed(materials.directory_metadata(directory, name, source.editable), file.url)
    _check_name(name, source, metadata)
    return DirectPackage(
        name=name,
        source=source,
        kind="directory",
        file=file,
        metadata=metadata,
        location=lock_relative(directory, base),
        local=True,
        digest=digest,
    )


def archive_filename(name: str, source: Source) -> str:
    """The archive's file name (from the URL's last path segment); it decides wheel or sdist."""
    if source.path is not None:
        filename = PurePosixPath(source.path.replace("\\", "/")).name
    else:
        assert source.url is not None
        filename = unquote(urlsplit(source.url).path.rsplit("/", 1)[-1])
    if not filename.endswith(_ARCHIVE_SUFFIXES):
        raise SourceNotUsable(
            name,
            source,
            f"names {filename!r}, which is not a wheel (.whl) or an sdist (.tar.gz, .zip)",
        )
    return filename


def _parsed(data: bytes, origin: str) -> CandidateMetadata:
    return CandidateMetadata.from_bytes(data, origin=origin)


def _check_name(name: NormalizedName, source: Source, metadata: CandidateMetadata) -> None:
    if canonicalize_name(metadata.name) != name:
        raise SourceNotUsable(
            name,
            source,
            f"is the project {metadata.name!r}, not {name!r}",
            hint=f"Name the source after the project it holds ({metadata.name!r}).",
        )
