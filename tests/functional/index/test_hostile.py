"""A hostile or broken index costs bounded time and memory, and one bad entry never breaks a lock."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from envspec.errors import EnvspecError, OutsideWorldError
from envspec.index.cache import IndexCache
from envspec.index.client import IndexClient, IndexUnavailable
from envspec.index.download import HashMismatch, download_file
from envspec.index.simple import InvalidIndexPage, parse_html_page, parse_json_page
from envspec.sources.wheels import _check_wheel_metadata
from envspec.plan import Wanted
from envspec.values.files import FileInfo
from packaging.utils import canonicalize_name
from packaging.version import Version

PAGE_URL = "https://index.example/simple/demo/"
INDEX = "https://index.example/simple"


def _client(handler: object, **kwargs: object) -> IndexClient:
    return IndexClient(
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        sleep=lambda _: None,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_drip_feeding_index_is_cut_off_at_the_total_timeout() -> None:
    def drip() -> Iterator[bytes]:
        for _ in range(1000):
            time.sleep(0.05)  # never silent long enough to trip the per-read timeout
            yield b" "

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=drip())

    client = _client(handler, total_timeout=0.4)
    started = time.monotonic()
    with pytest.raises(IndexUnavailable) as caught:
        client.get(PAGE_URL)
    assert time.monotonic() - started < 5  # not 50 s, and not retried four times
    assert "longer than 0.4 s" in str(caught.value)
    assert "ENVSPEC_HTTP_TIMEOUT" in (caught.value.hint or "")


def test_the_total_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVSPEC_HTTP_TIMEOUT", "7.5")
    assert IndexClient().total_timeout == 7.5
    monkeypatch.setenv("ENVSPEC_HTTP_TIMEOUT", "soon")
    with pytest.raises(EnvspecError) as caught:
        IndexClient()
    assert caught.value.exit_code == 2 and "'soon'" in str(caught.value)


def test_a_huge_page_is_refused_without_being_read_whole() -> None:
    sent = 0

    def endless() -> Iterator[bytes]:
        nonlocal sent
        while True:
            sent += 65536
            yield b"x" * 65536

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    with pytest.raises(IndexUnavailable) as caught:
        _client(handler).get("https://user:secret@index.example/simple/demo/", max_bytes=1 << 20)
    assert "larger than the 1 MiB" in str(caught.value)
    assert "secret" not in str(caught.value)
    assert sent < 2 << 20  # stopped at the cap, not at the end of the stream


def test_a_declared_huge_page_is_refused_before_reading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(700 << 20)}, content=b"")

    with pytest.raises(IndexUnavailable, match="declares 734,003,200 bytes"):
        _client(handler).get(PAGE_URL)


def _json_page(*files: dict[str, object]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": list(files)}).encode()


def test_one_file_with_a_bad_requires_python_is_skipped_and_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = {"filename": "demo-1.0-py3-none-any.whl", "url": "demo-1.0-py3-none-any.whl",
            "hashes": {"sha256": "a" * 64}, "requires-python": ">=3.8"}
    bad = {"filename": "demo-2.0-py3-none-any.whl", "url": "demo-2.0-py3-none-any.whl",
           "hashes": {"sha256": "b" * 64}, "requires-python": ">=3.8,<<4"}
    with caplog.at_level(logging.INFO, logger="envspec.notes"):
        files = parse_json_page(_json_page(good, bad), page_url=PAGE_URL, index_url=INDEX).files
    assert [f.filename for f in files] == ["demo-1.0-py3-none-any.whl"]
    assert "demo-2.0-py3-none-any.whl" in caplog.text and "'>=3.8,<<4'" in caplog.text
    html = (
        b'<a href="demo-1.0.tar.gz" data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a>'
        b'<a href="demo-2.0.tar.gz" data-requires-python="=&gt;3">demo-2.0.tar.gz</a>'
    )
    files = parse_html_page(html, page_url=PAGE_URL, index_url=INDEX).files
    assert [f.filename for f in files] == ["demo-1.0.tar.gz"]


def test_a_file_with_a_5000_digit_version_is_skipped() -> None:
    huge = {"filename": f"demo-{'9' * 5000}-py3-none-any.whl", "url": "x.whl", "hashes": {}}
    sane = {"filename": "demo-1.0-py3-none-any.whl", "url": "y.whl", "hashes": {}}
    started = time.monotonic()
    files = parse_json_page(_json_page(huge, sane), page_url=PAGE_URL, index_url=INDEX).files
    assert [f.filename for f in files] == ["demo-1.0-py3-none-any.whl"]
    html = f'<a href="demo-{"9" * 5000}.tar.gz">x</a>'.encode()
    assert parse_html_page(html, page_url=PAGE_URL, index_url=INDEX).files == ()
    assert time.monotonic() - started < 1


def test_a_deeply_nested_json_page_is_an_index_failure() -> None:
    with pytest.raises(InvalidIndexPage) as caught:
        parse_json_page(b'{"files": ' + b"[" * 100_000, page_url=PAGE_URL, index_url=INDEX)
    assert caught.value.exit_code == 3


def test_a_corrupt_download_is_retried_once_and_then_fails_uncached(tmp_path: Path) -> None:
    good = b"the real wheel bytes"
    answers = [good[:-3], good]  # a mirror's truncated body (no Content-Length), then the file
    asked = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal asked
        asked += 1
        return httpx.Response(200, content=iter([answers.pop(0) if answers else b"junk"]))

    file = FileInfo(
        filename="demo-1.0-py3-none-any.whl", url="https://files.example/demo-1.0-py3-none-any.whl",
        index_url=INDEX, hashes={"sha256": hashlib.sha256(good).hexdigest()}, size=len(good),
    )
    cache = IndexCache(tmp_path / "cache")
    path = download_file(_client(handler), cache, file)
    assert path.read_bytes() == good and asked == 2

    bad_file = FileInfo(
        filename="demo-2.0-py3-none-any.whl", url="https://files.example/demo-2.0-py3-none-any.whl",
        index_url=INDEX, hashes={"sha256": "0" * 64},
    )
    asked = 0
    with pytest.raises(HashMismatch):
        download_file(_client(handler), cache, bad_file)
    assert asked == 2  # once more from scratch, then the error
    assert cache.cached_file(bad_file) is None  # never committed, so never installed


def _wheel(tmp_path: Path, metadata: str) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("demo/__init__.py", "")
        archive.writestr("demo-1.0.dist-info/METADATA", metadata)
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(buffer.getvalue())
    return path


def _wanted(dependencies: tuple[str, ...] | None) -> Wanted:
    return Wanted(
        name=canonicalize_name("demo"), version=Version("1.0"),
        url="https://files.example/demo-1.0-py3-none-any.whl",
        filename="demo-1.0-py3-none-any.whl", sha256="0" * 64, dependencies=dependencies,
    )


def test_a_wheel_whose_metadata_disagrees_with_the_lock_is_refused(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: six\n")
    _check_wheel_metadata(_wanted(("six",)), wheel)  # agrees: nothing said
    with pytest.raises(OutsideWorldError) as caught:
        _check_wheel_metadata(_wanted(("six", "lib-b")), wheel)
    assert caught.value.exit_code == 3
    assert "demo" in str(caught.value) and "lib-b" in str(caught.value)
    other = _wheel(tmp_path, "Metadata-Version: 2.1\nName: demo\nVersion: 6.6\n")
    with pytest.raises(OutsideWorldError, match="its version is 6.6"):
        _check_wheel_metadata(_wanted(None), other)
