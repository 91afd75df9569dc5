"""The on-disk index cache: project pages (revalidated), metadata and files (immutable, by sha256).

Pages change as projects release, so each is stored with the validators the server sent (ETag,
Last-Modified) and the time it was fetched: with validators it is revalidated by a conditional
request (a 304 costs no body), without them it is reused for ``page_ttl`` seconds and then refetched.
Metadata and distribution files never change for a given sha256, so they are stored under it and
never revalidated.

Several envspec processes may share one cache, so every write lands in a temporary file in the
target directory and is renamed into place: a reader sees the old entry or the new one, never half
of one. Keys are hashes of URLs with credentials stripped, so no secret is ever written to disk.

Layout under the root::

    pages-v1/ab/<sha256(url)>.page        one JSON header line, then the raw body
    metadata-v1/ab/<sha256 of the dist>.metadata
    files-v1/ab/<sha256 of the dist>/<filename>
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from envspec.errors import OutsideWorldError
from envspec.fsutil import atomic_write_bytes
from envspec.values.files import FileInfo
from envspec.values.urls import redact_url, strip_credentials

__all__ = ["DEFAULT_PAGE_TTL", "CachedPage", "IndexCache", "OfflineMiss", "PendingFile"]

DEFAULT_PAGE_TTL = 600.0
"""Seconds a page without validators is reused before it is fetched again."""


class OfflineMiss(OutsideWorldError):
    """Offline mode was asked for something the cache does not hold."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Offline, and the cache has no copy of {what}.",
            hint="Run once without --offline to fill the cache.",
        )
        self.what = what


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedPage:
    """A project page as last fetched; ``status`` 404 records that the index lacks the project."""

    url: str
    """The final page URL (after redirects), without credentials: relative links resolve to it."""
    status: int
    content_type: str = ""
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: float = 0.0

    @property
    def has_validators(self) -> bool:
        return bool(self.etag or self.last_modified)

    def conditional_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def url_key(url: str) -> str:
    return hashlib.sha256(strip_credentials(url).encode("utf-8")).hexdigest()


class IndexCache:
    """Pages, metadata and files of the indexes, under ``root``. Safe across threads and processes."""

    def __init__(
        self,
        root: Path,
        *,
        page_ttl: float = DEFAULT_PAGE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
        self.page_ttl = page_ttl
        self._clock = clock

    # -- pages -------------------------------------------------------------------------------

    def _page_path(self, url: str) -> Path:
        key = url_key(url)
        return self.root / "pages-v1" / key[:2] / f"{key}.page"

    def load_page(self, url: str) -> CachedPage | None:
        """The stored page for ``url`` (the request URL), or None if absent or unreadable."""
        try:
            raw = self._page_path(url).read_bytes()
        except OSError:
            return None
        header, sep, body = raw.partition(b"\n")
        if not sep:
            return None
        try:
            meta = json.loads(header)
            return CachedPage(
                url=str(meta["url"]),
                status=int(meta["status"]),
                content_type=str(meta.get("content_type", "")),
                body=body,
                etag=meta.get("etag"),
                last_modified=meta.get("last_modified"),
                fetched_at=float(meta["fetched_at"]),
            )
        except (ValueError, KeyError, TypeError):
            return None  # a corrupt or foreign entry is a miss, not an error

    def store_page(self, url: str, page: CachedPage) -> CachedPage:
        """Store ``page`` for request URL ``url``; returns it with ``fetched_at`` set to now."""
        page = replace(page, url=strip_credentials(page.url), fetched_at=self._clock())
        header = {
            "url": page.url,
            "status": page.status,
            "content_type": page.content_type,
            "etag": page.etag,
            "last_modified": page.last_modified,
            "fetched_at": page.fetched_at,
        }
        data = json.dumps(header, sort_keys=True).encode("utf-8") + b"\n" + page.body
        atomic_write_bytes(self._page_path(url), data)
        return page

    def is_fresh(self, page: CachedPage) -> bool:
        """Usable without asking the server: no validators and younger than ``page_ttl``."""
        if page.has_validators:
            return False
        age = self._clock() - page.fetched_at
        return 0 <= age < self.page_ttl

    # -- metadata ----------------------------------------------------------------------------

    def _metadata_path(self, file: FileInfo) -> Path:
        key = file.sha256 or f"url-{url_key(file.url)}"
        return self.root / "metadata-v1" / key[:2] / f"{key}.metadata"

    def load_metadata(self, file: FileInfo) -> bytes | None:
        try:
            return self._metadata_path(file).read_bytes()
        except OSError:
            return None

    def store_metadata(self, file: FileInfo, data: bytes) -> None:
        atomic_write_bytes(self._metadata_path(file), data)

    # -- files -------------------------------------------------------------------------------

    def file_path(self, file: FileInfo) -> Path:
        """Where ``file`` lives in the cache (keyed by its sha256, or its URL when it has none)."""
        key = file.sha256 or f"url-{url_key(file.url)}"
        return self.root / "files-v1" / key[:2] / key / _safe_filename(file.filename)

    def cached_file(self, file: FileInfo) -> Path | None:
        path = self.file_path(file)
        return path if path.is_file() else None

    @contextmanager
    def writing_file(self, file: FileInfo) -> Iterator[PendingFile]:
        """A :class:`PendingFile` next to ``file``'s final place; removed unless committed."""
        pending = PendingFile(self.file_path(file))
        try:
            yield pending
        finally:
            pending.discard()

    def commit_file(self, pending: PendingFile, file: FileInfo) -> Path:
        """Move a verified download into place; atomic (a concurrent twin writes the same bytes)."""
        if pending.temp is None:
            raise ValueError(f"nothing was written for {file.filename!r}")
        final = self.file_path(file)
        os.replace(pending.temp, final)
        pending.temp = None
        return final

    def describe(self, file: FileInfo) -> str:
        return f"{file.filename} ({redact_url(file.url)})"


class PendingFile:
    """A temporary file in the final file's directory, created on the first :meth:`open` (so a
    request that ends up writing nothing leaves nothing behind). Each ``open`` truncates: a retry
    starts over."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.temp: Path | None = None

    def open(self) -> IO[bytes]:
        if self.temp is None:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(
                prefix=f".{self.final.name}.", suffix=".part", dir=self.final.parent
            )
            self.temp = Path(name)
            return os.fdopen(fd, "wb")
        return open(self.temp, "wb")

    def discard(self) -> None:
        if self.temp is not None:
            try:
                self.temp.unlink()
            except FileNotFoundError:
                pass
            self.temp = None


def _safe_filename(name: str) -> str:
    name = name.replace("/", "_").replace("\\", "_")
    return name if name not in ("", ".", "..") else "_"
