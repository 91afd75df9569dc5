"""The on-disk index cache: revalidation, time-to-live, offline answers, atomic writes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from envspec.index.cache import CachedPage, IndexCache, OfflineMiss
from envspec.index.source import IndexSource
from envspec.spec.model import Index

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
INDEX = [Index(name="i", url="https://idx.example/simple")]


def _page(version: str) -> bytes:
    filename = f"demo-{version}-py3-none-any.whl"
    return json.dumps(
        {"name": "demo", "files": [{"filename": filename, "url": f"/f/{filename}", "hashes": {}}]}
    ).encode()


class PageServer:
    """Serves /simple/demo/ with or without validators; honours If-None-Match."""

    def __init__(self, *, etag: str | None) -> None:
        self.etag = etag
        self.version = "1.0"
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path != "/simple/demo/":
            return httpx.Response(404)
        headers = {"Content-Type": JSON_TYPE}
        if self.etag is not None:
            current = f'"{self.etag}-{self.version}"'
            headers["ETag"] = current
            if request.headers.get("If-None-Match") == current:
                return httpx.Response(304, headers=headers)
        return httpx.Response(200, headers=headers, content=_page(self.version))


def _versions(source: IndexSource) -> list[str]:
    return [str(f.name_and_version()[1]) for f in source.project("demo").files]  # type: ignore[index]


def _source(tmp_path: Path, server: PageServer | None, **kwargs: object) -> IndexSource:
    transport = httpx.MockTransport(server) if server is not None else None
    return IndexSource(INDEX, cache_dir=tmp_path, transport=transport, **kwargs)  # type: ignore[arg-type]


def test_page_with_etag_is_revalidated_and_304_reuses_the_body(tmp_path: Path) -> None:
    server = PageServer(etag="v")
    with _source(tmp_path, server) as first:
        assert _versions(first) == ["1.0"]
    with _source(tmp_path, server) as second:
        assert _versions(second) == ["1.0"]
    assert len(server.requests) == 2
    assert server.requests[1].headers["If-None-Match"] == '"v-1.0"'
    server.version = "2.0"  # a new release changes the ETag: the new page is used
    with _source(tmp_path, server) as third:
        assert _versions(third) == ["2.0"]


def test_page_without_validators_is_reused_within_ttl_then_refetched(tmp_path: Path) -> None:
    server = PageServer(etag=None)
    with _source(tmp_path, server) as first:
        _versions(first)
    with _source(tmp_path, server) as second:
        _versions(second)
    assert len(server.requests) == 1  # reused, no request at all
    server.version = "2.0"
    with _source(tmp_path, server, page_ttl=0.0) as expired:
        assert _versions(expired) == ["2.0"]
    assert len(server.requests) == 2
    assert "If-None-Match" not in server.requests[1].headers


def test_offline_answers_from_cache_regardless_of_age(tmp_path: Path) -> None:
    server = PageServer(etag="v")
    with _source(tmp_path, server) as online:
        _versions(online)
    with _source(tmp_path, None, offline=True, page_ttl=0.0) as offline:
        assert _versions(offline) == ["1.0"]
    assert len(server.requests) == 1


def test_offline_miss_names_what_is_missing(tmp_path: Path) -> None:
    with _source(tmp_path, None, offline=True) as offline, pytest.raises(OfflineMiss) as caught:
        offline.project("demo")
    assert "'demo'" in str(caught.value) and "https://idx.example/simple" in str(caught.value)
    assert caught.value.exit_code == 3


def test_ttl_uses_the_clock(tmp_path: Path) -> None:
    now = [1000.0]
    cache = IndexCache(tmp_path, page_ttl=60, clock=lambda: now[0])
    stored = cache.store_page("https://h/simple/a/", CachedPage(url="https://h/simple/a/", status=200, body=b"x"))
    assert cache.is_fresh(stored)
    now[0] += 61
    assert not cache.is_fresh(stored)
    with_etag = cache.store_page("https://h/simple/b/", CachedPage(url="https://h/simple/b/", status=200, etag='"e"'))
    assert not cache.is_fresh(with_etag)  # validators: always revalidated


def test_corrupt_entry_is_a_miss_not_an_error(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    url = "https://h/simple/a/"
    cache.store_page(url, CachedPage(url=url, status=200, body=b"body"))
    (entry,) = (tmp_path / "pages-v1").rglob("*.page")
    entry.write_bytes(b"{not json")
    assert cache.load_page(url) is None


def test_concurrent_writers_never_leave_a_torn_or_temporary_entry(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    url = "https://h/simple/a/"
    bodies = [bytes([65 + n]) * 200_000 for n in range(8)]
    torn: list[bytes] = []
    stop = threading.Event()

    def write(body: bytes) -> None:
        for _ in range(5):
            cache.store_page(url, CachedPage(url=url, status=200, body=body))

    def read() -> None:
        while not stop.is_set():
            page = cache.load_page(url)
            if page is not None and page.body not in bodies:
                torn.append(page.body[:10])

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(body,)) for body in bodies]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reader.join()
    assert torn == []
    assert cache.load_page(url) is not None
    assert [p.name for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".page")] == []


def test_keys_strip_credentials(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    cache.store_page("https://u:pw@h/simple/a/", CachedPage(url="https://u:pw@h/simple/a/", status=200))
    loaded = cache.load_page("https://h/simple/a/")
    assert loaded is not None and loaded.url == "https://h/simple/a/"
    assert b"pw" not in b"".join(p.read_bytes() for p in tmp_path.rglob("*.page"))
