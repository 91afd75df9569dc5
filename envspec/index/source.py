"""IndexSource: the real :class:`~envspec.resolve.source.PackageSource`, over HTTP indexes.

It puts the index client, the cache, the page parsers and the metadata fetcher behind the two
questions the resolver asks, and makes them fast: one pooled client, a thread pool that overlaps
round trips (``prefetch`` / ``prefetch_metadata``), and an in-memory memo of futures so each page and
each metadata file is fetched at most once per run, whoever asked first.

Several indexes are never merged: a project comes entirely from the first index (in spec order) that
has it, and an index restricted to ``packages`` is asked only about those. This is what keeps a
private package from being shadowed by a same-named public one (dependency confusion).

``httpx`` is not imported here at module level (the client imports it when constructed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, cast

from packaging.utils import NormalizedName, canonicalize_name

from envspec.index.cache import DEFAULT_PAGE_TTL, CachedPage, IndexCache, OfflineMiss
from envspec.index.client import DEFAULT_RETRIES, SIMPLE_ACCEPT, IndexClient, status_error
from envspec.index.download import download_file
from envspec.index.metadata import MetadataBuilder, MetadataFetcher
from envspec.index.simple import parse_page
from envspec.values.files import CandidateMetadata, FileInfo, ProjectFiles
from envspec.resolve.source import PackageNotFound
from envspec.spec.model import Index
from envspec.values.urls import redact_url, strip_credentials

if TYPE_CHECKING:
    import httpx

__all__ = ["IndexSource"]

log = logging.getLogger(__name__)

class _Memo:
    """Futures by key: the first caller computes (inline or in the pool), later callers wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[object, Future[object]] = {}
        self._followed: set[object] = set()

    def claim(self, key: object) -> tuple[Future[object], bool]:
        """The future for ``key`` and whether the caller created it (and so must fill it)."""
        with self._lock:
            future = self._futures.get(key)
            if future is not None:
                return future, False
            future = Future()
            self._futures[key] = future
            return future, True

    def first_follow_up(self, key: object) -> bool:
        """True the first time it is asked for ``key``: who may attach the follow-up."""
        with self._lock:
            if key in self._followed:
                return False
            self._followed.add(key)
            return True

    def cancel_pending(self) -> None:
        with self._lock:
            futures = list(self._futures.values())
        for future in futures:
            future.cancel()  # only affects futures no one has started


def _fill(future: Future[object], compute: Callable[[], object]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(compute())
    except BaseException as error:  # noqa: BLE001  (re-raised in whoever asks for the result)
        future.set_exception(error)


def _follow_up(then: Callable[[Any], None], future: Future[object]) -> None:
    """Run a prefetch's follow-up on success; speculation must never break the resolution."""
    if future.cancelled() or future.exception() is not None:
        return
    try:
        then(future.result())
    except Exception:  # noqa: BLE001 - a failed guess costs only the time it took
        log.debug("speculative follow-up failed", exc_info=True)


class IndexSource:
    """Projects and metadata from simple-API indexes, cached on disk and memoised in memory."""

    def __init__(
        self,
        indexes: Sequence[Index],
        *,
        cache_dir: Path,
        offline: bool = False,
        transport: httpx.BaseTransport | None = None,
        builder: MetadataBuilder | None = None,
        max_workers: int = 16,
        page_ttl: float = DEFAULT_PAGE_TTL,
        retries: int | None = None,
        sleep: Callable[[float], None] | None = None,
        source_urls: Iterable[str] = (),
    ) -> None:
        """``source_urls``: the spec's ``[sources]`` URLs as written, whose credentials serve the
        same URLs that the lock keeps redacted (``user:***@``). ``builder`` builds an sdist's
        metadata when its PKG-INFO cannot be trusted; given here, once (the session pipeline
        passes itself, and makes the builds it delegates to when the target is known)."""
        self.offline = offline
        self._cache = IndexCache(cache_dir, page_ttl=page_ttl)
        self._client: IndexClient | None = None
        if not offline:
            self._client = IndexClient(
                transport=transport,
                max_connections=max(max_workers, 4) * 2,
                retries=DEFAULT_RETRIES if retries is None else retries,
                sleep=time.sleep if sleep is None else sleep,
            )
        if self._client is not None:
            for url in source_urls:
                self._client.register_url(url)
        # credentials are remembered by the client for their host, then dropped from every URL
        self._indexes: tuple[tuple[str, frozenset[NormalizedName] | None], ...] = tuple(
            (
                (self._client.register_index(index.url) if self._client else strip_credentials(index.url))
                .rstrip("/"),
                index.packages,
            )
            for index in indexes
        )
        self._fetcher = MetadataFetcher(
            self._client, self._cache, builder=builder, offline=offline, download=self.download
        )
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="envspec-index")
        self._projects = _Memo()
        self._metadata = _Memo()
        self._downloads = _Memo()
        self._closed = False

    # -- PackageSource -----------------------------------------------------------------------

    def project(self, name: NormalizedName | str) -> ProjectFiles:
        """Every file of ``name`` from the first index that has it; :class:`PackageNotFound` if none."""
        key = canonicalize_name(name)
        return cast(ProjectFiles, self._get(self._projects, key, partial(self._fetch_project, key)))

    def metadata(self, file: FileInfo) -> CandidateMetadata:
        result = self._get(self._metadata, file.url, partial(self._fetcher.fetch, file))
        return cast(CandidateMetadata, result)

    def prefetch(
        self,
        names: Iterable[NormalizedName | str],
        on_project: Callable[[ProjectFiles], None] | None = None,
    ) -> None:
        for name in names:
            key = canonicalize_name(name)
            self._start(self._projects, key, partial(self._fetch_project, key), on_project)

    def prefetch_metadata(
        self,
        files: Iterable[FileInfo],
        on_metadata: Callable[[CandidateMetadata], None] | None = None,
    ) -> None:
        for file in files:
            self._start(self._metadata, file.url, partial(self._fetcher.fetch, file), on_metadata)

    def download(self, file: FileInfo) -> Path:
        """The verified file in the cache (downloaded once per run, even when asked concurrently)."""
        compute = partial(download_file, self._client, self._cache, file, offline=self.offline)
        return cast(Path, self._get(self._downloads, file.url, compute))

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        self._closed = True  # speculative callbacks still running must not start new work
        self._pool.shutdown(wait=True, cancel_futures=True)
        for memo in (self._projects, self._metadata, self._downloads):
            memo.cancel_pending()  # queued prefetches that never ran must not block a late caller
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _get(self, memo: _Memo, key: object, compute: Callable[[], object]) -> object:
        future, mine = memo.claim(key)
        if mine:
            _fill(future, compute)
        return future.result()

    def _start(
        self,
        memo: _Memo,
        key: object,
        compute: Callable[[], object],
        then: Callable[[Any], None] | None = None,
    ) -> None:
        if self._closed:
            return
        future, mine = memo.claim(key)
        if then is not None and memo.first_follow_up(key):
            # also when the work was started earlier without one (the root pages are fetched
            # before the target is known), but once per key: speculation is not free
            future.add_done_callback(partial(_follow_up, then))
        if not mine:
            return
        try:
            self._pool.submit(_fill, future, compute)
        except RuntimeError:  # pool shut down: compute lazily on demand instead
            _fill(future, compute)

    def _fetch_project(self, name: NormalizedName) -> ProjectFiles:
        consulted: list[str] = []
        for index_url, packages in self._indexes:
            if packages is not None and name not in packages:
                continue
            consulted.append(index_url)
            page = self._page(index_url, name)
            if page is None:
                continue
            return parse_page(
                page.body,
                content_type=page.content_type,
                page_url=page.url,
                index_url=index_url,
                name=name,
            )
        raise PackageNotFound(name, consulted or [url for url, _ in self._indexes])

    def _page(self, index_url: str, name: NormalizedName) -> CachedPage | None:
        """The project page on one index (None when that index does not have the project)."""
        url = f"{index_url}/{name}/"
        cached = self._cache.load_page(url)
        if self.offline or self._client is None:
            if cached is None:
                raise OfflineMiss(f"the page of {name!r} on {redact_url(index_url)}")
            return cached if cached.status == 200 else None
        if cached is not None and cached.status == 200 and self._cache.is_fresh(cached):
            return cached
        headers = {"Accept": SIMPLE_ACCEPT}
        if cached is not None and cached.status == 200:
            headers.update(cached.conditional_headers())
        response = self._client.get(url, headers=headers)
        if response.status == 304 and cached is not None and cached.status == 200:
            log.debug("not modified: %s", url)
            return self._cache.store_page(url, cached)
        if response.status in (404, 410):
            self._cache.store_page(url, CachedPage(url=url, status=404))
            return None
        if response.status != 200:
            raise status_error(url, response.status)
        return self._cache.store_page(
            url,
            CachedPage(
                url=response.url,
                status=200,
                content_type=response.content_type,
                body=response.content,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            ),
        )
