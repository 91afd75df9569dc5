"""A distribution file's core metadata, fetched the cheapest way the index allows.

Resolution needs only ``Requires-Dist`` / ``Requires-Python`` of the candidates it pins, and
downloading whole wheels for that is what makes naive resolvers slow. So, cheapest first:

1. the PEP 658 ``<url>.metadata`` file, when the page advertises one (verified by its sha256);
2. for a wheel, HTTP Range requests: one suffix request reads the zip's tail (the central
   directory, and usually the ``.dist-info`` files, which wheels put last); ``zipfile`` parses it
   through :class:`RangeFile`, a seekable file that fetches missing byte ranges on demand;
3. a full download (into the file cache, verified) when the server ignores or refuses Range;
4. for an sdist, its ``PKG-INFO`` when PEP 643 says the dependency fields are static, otherwise a
   :class:`MetadataBuilder` (building from source is not supported yet: the default refuses clearly).

Whatever the route, the bytes are cached by the file's sha256 (immutable) and their Name/Version
must match the file's own.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import tarfile
import zipfile
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envspec.errors import UserError
from envspec.index.cache import IndexCache, OfflineMiss
from envspec.index.client import MAX_METADATA_BYTES, IndexClient, status_error
from envspec.index.download import (
    HashMismatch,
    download_file,
    fetch_range_or_file,
    store_verified,
)
from envspec.values.files import CandidateMetadata, FileInfo, InvalidMetadata
from envspec.values.urls import redact_url

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "TAIL_BYTES",
    "BuildNotSupported",
    "MetadataBuilder",
    "MetadataFetcher",
    "RangeFile",
    "RefuseToBuild",
    "pkg_info_is_static",
    "sdist_pkg_info",
    "wheel_metadata",
]

log = logging.getLogger(__name__)

TAIL_BYTES = 64 * 1024
"""The suffix Range request size: enough for the central directory and dist-info of most wheels."""
_LOCAL_HEADER_SLACK = 1024
"""Room for a local file header's own name + extra field when prefetching one zip member."""


class BuildNotSupported(UserError):
    """An sdist's dependencies are dynamic and would need a build, which envspec cannot do yet."""

    def __init__(self, file: FileInfo) -> None:
        super().__init__(
            f"The metadata of {file.filename!r} can only be known by building it from source "
            f"(an sdist whose dependencies are dynamic or undeclared), and building from source is "
            f"not supported yet.",
            hint="Pin a version that ships a wheel for this platform, or add the package to "
            "only-binary.",
        )
        self.filename = file.filename


class MetadataBuilder(Protocol):
    """The seam for getting metadata out of an sdist by running its build backend."""

    def build_metadata(self, sdist: Path, file: FileInfo) -> bytes:
        """Core metadata (METADATA bytes) of the unpacked-or-not sdist at ``sdist``."""
        ...


class RefuseToBuild:
    """The default :class:`MetadataBuilder`: refuses with :class:`BuildNotSupported`."""

    def build_metadata(self, sdist: Path, file: FileInfo) -> bytes:
        raise BuildNotSupported(file)


class _RangeUnsupported(Exception):
    """The server did not answer a Range request with 206: fall back to a full download."""


class RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file that fetches byte ranges as they are read.

    ``fetch(start, end)`` returns bytes ``start..end`` inclusive. Fetched ranges are kept, so each
    byte is requested at most once; :meth:`ensure` lets a caller fetch a known span in one request.
    """

    def __init__(self, size: int, fetch: Callable[[int, int], bytes]) -> None:
        super().__init__()
        self._size = size
        self._fetch = fetch
        self._pos = 0
        self._chunks: list[tuple[int, bytes]] = []  # sorted, non-overlapping
        self.requests = 0

    def add(self, start: int, data: bytes) -> None:
        """Record bytes already in hand (the response to the first suffix request)."""
        self._insert(start, data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._pos + offset
        elif whence == io.SEEK_END:
            position = self._size + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if position < 0:
            raise OSError(f"negative seek position {position!r}")
        self._pos = position
        return position

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        end = min(self._pos + len(view), self._size)
        if end <= self._pos:
            return 0
        self.ensure(self._pos, end)
        data = self._slice(self._pos, end)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def ensure(self, start: int, end: int) -> None:
        """Make bytes ``[start, end)`` available, one request per gap."""
        end = min(end, self._size)
        for gap_start, gap_end in self._gaps(start, end):
            self.requests += 1
            data = self._fetch(gap_start, gap_end - 1)
            if len(data) != gap_end - gap_start:
                raise _RangeUnsupported(
                    f"asked for {gap_end - gap_start} bytes, received {len(data)}"
                )
            self._insert(gap_start, data)

    def _gaps(self, start: int, end: int) -> list[tuple[int, int]]:
        gaps: list[tuple[int, int]] = []
        cursor = start
        for chunk_start, data in self._chunks:
            chunk_end = chunk_start + len(data)
            if chunk_end <= cursor:
                continue
            if chunk_start >= end:
                break
            if chunk_start > cursor:
                gaps.append((cursor, chunk_start))
            cursor = max(cursor, chunk_end)
            if cursor >= end:
                break
        if cursor < end:
            gaps.append((cursor, end))
        return gaps

    def _insert(self, start: int, data: bytes) -> None:
        self._chunks.append((start, data))
        self._chunks.sort(key=lambda item: item[0])
        merged: list[tuple[int, bytes]] = []
        for chunk_start, chunk in self._chunks:
            if merged and chunk_start <= merged[-1][0] + len(merged[-1][1]):
                previous_start, previous = merged[-1]
                overlap = previous_start + len(previous) - chunk_start
                merged[-1] = (previous_start, previous + chunk[overlap:])
            else:
                merged.append((chunk_start, chunk))
        self._chunks = merged

    def _slice(self, start: int, end: int) -> bytes:
        for chunk_start, data in self._chunks:
            if chunk_start <= start and start + (end - start) <= chunk_start + len(data):
                return data[start - chunk_start : end - chunk_start]
        raise AssertionError("ensure() left a gap")  # pragma: no cover


# -- pure readers ------------------------------------------------------------------------------


def wheel_metadata(archive: zipfile.ZipFile, file: FileInfo) -> bytes:
    """The ``<name>-<version>.dist-info/METADATA`` member of a wheel."""
    member = archive.getinfo(_wheel_metadata_member(archive, file))
    _check_metadata_size(member.file_size, file)
    return archive.read(member)


def _check_metadata_size(size: int, file: FileInfo) -> None:
    """Metadata is a few KiB; a member that unpacks to more than the cap is hostile (a bomb)."""
    if size > MAX_METADATA_BYTES:
        raise InvalidMetadata(
            redact_url(file.url),
            f"its metadata file is {size:,} bytes, more than the "
            f"{MAX_METADATA_BYTES // (1024 * 1024)} MiB envspec reads",
        )


def _wheel_metadata_member(archive: zipfile.ZipFile, file: FileInfo) -> str:
    candidates = [
        name
        for name in archive.namelist()
        if name.count("/") == 1 and name.endswith(".dist-info/METADATA")
    ]
    parsed = file.name_and_version()
    if parsed is not None and len(candidates) > 1:
        wanted = parsed[0]
        matching = [
            name
            for name in candidates
            if canonicalize_name(name.split("/", 1)[0].rsplit("-", 1)[0]) == wanted
        ]
        candidates = matching or candidates
    if len(candidates) != 1:
        raise InvalidMetadata(
            redact_url(file.url),
            "the wheel has no single .dist-info/METADATA file"
            f" (found {len(candidates)})",
        )
    return candidates[0]


def sdist_pkg_info(path: Path, file: FileInfo) -> bytes:
    """The top-level ``<name>-<version>/PKG-INFO`` of an sdist (.tar.gz or .zip)."""
    origin = redact_url(file.url)
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if _is_top_pkg_info(n)]
                if names:
                    info = archive.getinfo(min(names, key=len))
                    _check_metadata_size(info.file_size, file)
                    return archive.read(info)
        else:
            with tarfile.open(path, "r:*") as archive:
                for member in archive:
                    if member.isfile() and _is_top_pkg_info(member.name):
                        _check_metadata_size(member.size, file)
                        handle = archive.extractfile(member)
                        if handle is not None:
                            return handle.read()
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise InvalidMetadata(origin, f"the sdist cannot be read ({error})") from None
    raise InvalidMetadata(origin, "the sdist has no PKG-INFO file")


def _is_top_pkg_info(name: str) -> bool:
    parts = name.strip("/").split("/")
    return len(parts) == 2 and parts[1] == "PKG-INFO"


_DYNAMIC_BLOCKERS = frozenset({"requires-dist", "requires-python"})


def pkg_info_is_static(data: bytes) -> bool:
    """PEP 643: Metadata-Version >= 2.2 and neither Requires-Dist nor Requires-Python is Dynamic."""
    message = BytesParser(policy=compat32).parsebytes(data, headersonly=True)
    raw = message.get("Metadata-Version")
    if raw is None:
        return False
    try:
        version = Version(str(raw).strip())
    except InvalidVersion:
        return False
    if version < Version("2.2"):
        return False
    dynamic = {str(field).strip().lower() for field in message.get_all("Dynamic") or []}
    return not (dynamic & _DYNAMIC_BLOCKERS)


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)


# -- the fetcher -------------------------------------------------------------------------------


class MetadataFetcher:
    """Gets the metadata of one file by the cheapest route; thread-safe (no mutable state)."""

    def __init__(
        self,
        client: IndexClient | None,
        cache: IndexCache,
        *,
        builder: MetadataBuilder | None = None,
        offline: bool = False,
        download: Callable[[FileInfo], Path] | None = None,
        tail_bytes: int = TAIL_BYTES,
    ) -> None:
        self._client = client
        self._cache = cache
        self.builder: MetadataBuilder = builder or RefuseToBuild()
        self._offline = offline
        self._download = download or (
            lambda file: download_file(client, cache, file, offline=offline)
        )
        self._tail_bytes = tail_bytes

    def fetch(self, file: FileInfo) -> CandidateMetadata:
        origin = redact_url(file.url)
        data = self._cache.load_metadata(file)
        if data is None:
            data = self._fetch_bytes(file)
            result = self._parse(data, file, origin)
            self._cache.store_metadata(file, data)
            return result
        return self._parse(data, file, origin)

    def _parse(self, data: bytes, file: FileInfo, origin: str) -> CandidateMetadata:
        metadata = CandidateMetadata.from_bytes(data, origin=origin)
        parsed = file.name_and_version()
        if parsed is not None and (metadata.name, metadata.version) != parsed:
            raise InvalidMetadata(
                origin,
                f"it describes {metadata.name} {metadata.version}, "
                f"but the file is {parsed[0]} {parsed[1]}",
            )
        return metadata

    def _fetch_bytes(self, file: FileInfo) -> bytes:
        if self._offline or self._client is None:
            cached = self._cache.cached_file(file)
            if cached is None:
                raise OfflineMiss(f"the metadata of {self._cache.describe(file)}")
            return self._from_local_file(cached, file)
        if file.metadata_hashes is not None:
            data = self._pep658(self._client, file)
            if data is not None:
                return data
        if file.kind == "wheel":
            cached = self._cache.cached_file(file)
            if cached is not None:
                return self._from_local_file(cached, file)
            try:
                return self._by_ranges(self._client, file)
            except _RangeUnsupported as why:
                log.debug("range requests unusable for %s: %s", redact_url(file.url), why)
        return self._from_local_file(self._download(file), file)

    def _pep658(self, client: IndexClient, file: FileInfo) -> bytes | None:
        url = f"{file.url}.metadata"
        response = client.get(url, max_bytes=MAX_METADATA_BYTES)
        if response.status in (404, 410):
            log.debug("advertised metadata file missing: %s", redact_url(url))
            return None
        if response.status != 200:
            raise status_error(url, response.status)
        expected = (file.metadata_hashes or {}).get("sha256")
        if expected:
            actual = hashlib.sha256(response.content).hexdigest()
            if actual != expected.lower():
                raise HashMismatch(url, {"sha256": expected}, {"sha256": actual})
        return response.content

    def _by_ranges(self, client: IndexClient, file: FileInfo) -> bytes:
        """Read METADATA out of the remote zip: one suffix request, rarely a second one."""
        first = fetch_range_or_file(
            client, self._cache, file, range_header=f"bytes=-{self._tail_bytes}"
        )
        if isinstance(first, Path):  # the server ignored Range and sent the whole file
            return self._from_local_file(first, file)
        match = _CONTENT_RANGE.fullmatch(first.headers.get("content-range", "").strip())
        if match is None or match.group(3) == "*":
            raise _RangeUnsupported("no usable Content-Range header")
        start, total = int(match.group(1)), int(match.group(3))
        if start == 0 and len(first.content) == total:
            # a small wheel came whole: keep it (verified) so a later install needs no download
            path = store_verified(self._cache, file, first.content)
            return self._from_local_file(path, file)

        def fetch(range_start: int, range_end: int) -> bytes:
            response = client.get(file.url, headers={"Range": f"bytes={range_start}-{range_end}"})
            if response.status != 206:
                raise _RangeUnsupported(f"HTTP {response.status} to a Range request")
            return response.content

        remote = RangeFile(total, fetch)
        remote.add(start, first.content)
        try:
            with zipfile.ZipFile(remote) as archive:
                member = archive.getinfo(_wheel_metadata_member(archive, file))
                _check_metadata_size(member.file_size, file)
                span = 30 + len(member.filename.encode()) + _LOCAL_HEADER_SLACK
                remote.ensure(member.header_offset, member.header_offset + span + member.compress_size)
                return archive.read(member)
        except zipfile.BadZipFile as error:
            raise _RangeUnsupported(f"the remote zip could not be read ({error})") from None

    def _from_local_file(self, path: Path, file: FileInfo) -> bytes:
        if file.kind == "wheel":
            try:
                with zipfile.ZipFile(path) as archive:
                    return wheel_metadata(archive, file)
            except zipfile.BadZipFile as error:
                raise InvalidMetadata(
                    redact_url(file.url), f"the wheel is not a valid zip ({error})"
                ) from None
        data = sdist_pkg_info(path, file)
        if pkg_info_is_static(data):
            return data
        return self.builder.build_metadata(path, file)
