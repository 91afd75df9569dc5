"""Metadata cheapest first: PEP 658 file, Range requests into the wheel, full download, sdist."""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import tarfile
import zipfile
from pathlib import Path

import httpx
import pytest

from envspec.index.cache import IndexCache
from envspec.index.client import IndexClient
from envspec.index.download import HashMismatch, download_file
from envspec.index.metadata import (
    BuildNotSupported,
    MetadataFetcher,
    RangeFile,
    pkg_info_is_static,
)
from envspec.values.files import FileInfo, InvalidMetadata

METADATA = b"Metadata-Version: 2.1\nName: Demo\nVersion: 1.0\nRequires-Dist: dep>=2\nRequires-Python: >=3.9\n"
BASE = "https://files.example"


def _wheel(padding: int = 300_000, metadata: bytes = METADATA) -> bytes:
    buffer = io.BytesIO()
    noise = random.Random(7).randbytes(padding)  # incompressible: the wheel really is large
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("demo/__init__.py", b"")
        archive.writestr("demo/blob.bin", noise)
        archive.writestr("demo-1.0.dist-info/METADATA", metadata)
        archive.writestr("demo-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n")
        archive.writestr("demo-1.0.dist-info/RECORD", b"")
    return buffer.getvalue()


def _sdist(pkg_info: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("demo-1.0/PKG-INFO", pkg_info), ("demo-1.0/setup.py", b"")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class FileServer:
    """Serves files by path, with optional Range support, recording every request."""

    def __init__(self, files: dict[str, bytes], *, ranges: bool = True) -> None:
        self.files = files
        self.ranges = ranges
        self.requests: list[httpx.Request] = []
        self.bytes_served = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        data = self.files.get(request.url.path)
        if data is None:
            return httpx.Response(404)
        header = request.headers.get("Range")
        if header and self.ranges:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", header)
            assert match, header
            if match.group(1):
                start, end = int(match.group(1)), min(int(match.group(2) or len(data) - 1), len(data) - 1)
            else:
                start, end = max(0, len(data) - int(match.group(2))), len(data) - 1
            self.bytes_served += end + 1 - start
            return httpx.Response(
                206,
                headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"},
                content=data[start : end + 1],
            )
        self.bytes_served += len(data)
        return httpx.Response(200, content=data)

    def ranges_sent(self) -> list[str | None]:
        return [r.headers.get("Range") for r in self.requests]


def _file(filename: str, data: bytes, *, metadata: bytes | None = None, **extra: object) -> FileInfo:
    return FileInfo(
        filename=filename,
        url=f"{BASE}/{filename}",
        index_url=f"{BASE}/simple",
        hashes={"sha256": hashlib.sha256(data).hexdigest()},
        metadata_hashes=None if metadata is None else {"sha256": hashlib.sha256(metadata).hexdigest()},
        **{"size": len(data), **extra},  # type: ignore[arg-type]
    )


def _fetcher(server: FileServer, tmp_path: Path, **kwargs: object) -> MetadataFetcher:
    client = IndexClient(transport=httpx.MockTransport(server), sleep=lambda _: None)
    return MetadataFetcher(client, IndexCache(tmp_path), **kwargs)  # type: ignore[arg-type]


def test_pep658_metadata_file_is_used_and_verified(tmp_path: Path) -> None:
    wheel = _wheel(1000)
    file = _file("demo-1.0-py3-none-any.whl", wheel, metadata=METADATA)
    server = FileServer({"/demo-1.0-py3-none-any.whl.metadata": METADATA, "/demo-1.0-py3-none-any.whl": wheel})
    result = _fetcher(server, tmp_path).fetch(file)
    assert [str(r) for r in result.requires_dist] == ["dep>=2"]
    assert str(result.requires_python) == ">=3.9"
    assert [r.url.path for r in server.requests] == ["/demo-1.0-py3-none-any.whl.metadata"]
    # cached by sha256: a second fetcher over the same cache asks nothing
    _fetcher(server, tmp_path).fetch(file)
    assert len(server.requests) == 1


def test_pep658_metadata_with_wrong_hash_is_rejected(tmp_path: Path) -> None:
    wheel = _wheel(1000)
    file = _file("demo-1.0-py3-none-any.whl", wheel, metadata=b"something else")
    server = FileServer({"/demo-1.0-py3-none-any.whl.metadata": METADATA})
    with pytest.raises(HashMismatch) as caught:
        _fetcher(server, tmp_path).fetch(file)
    assert hashlib.sha256(METADATA).hexdigest() in str(caught.value)


def test_range_requests_read_only_the_tail_of_a_large_wheel(tmp_path: Path) -> None:
    wheel = _wheel()
    file = _file("demo-1.0-py3-none-any.whl", wheel)
    server = FileServer({"/demo-1.0-py3-none-any.whl": wheel})
    result = _fetcher(server, tmp_path).fetch(file)
    assert result.name == "demo" and [str(r) for r in result.requires_dist] == ["dep>=2"]
    assert server.ranges_sent() == ["bytes=-65536"]  # one suffix request, no full download
    assert server.bytes_served == 65536 < len(wheel)
    assert not (tmp_path / "files-v1").exists()  # nothing downloaded, not even a temp file


def test_range_requests_fetch_more_when_the_tail_is_too_short(tmp_path: Path) -> None:
    wheel = _wheel()
    file = _file("demo-1.0-py3-none-any.whl", wheel)
    server = FileServer({"/demo-1.0-py3-none-any.whl": wheel})
    result = _fetcher(server, tmp_path, tail_bytes=100).fetch(file)
    assert result.version.public == "1.0"
    sent = server.ranges_sent()
    assert sent[0] == "bytes=-100" and None not in sent
    assert 2 <= len(sent) <= 4
    assert server.bytes_served < 2_000 < len(wheel)


def test_server_ignoring_range_gives_one_full_download_kept_in_the_cache(tmp_path: Path) -> None:
    wheel = _wheel()
    file = _file("demo-1.0-py3-none-any.whl", wheel)
    server = FileServer({"/demo-1.0-py3-none-any.whl": wheel}, ranges=False)
    fetcher = _fetcher(server, tmp_path)
    assert fetcher.fetch(file).name == "demo"
    assert len(server.requests) == 1  # the 200 answer to the Range request is the download
    cached = download_file(None, IndexCache(tmp_path), file, offline=True)
    assert cached.read_bytes() == wheel


def test_download_with_wrong_hash_lists_expected_and_actual(tmp_path: Path) -> None:
    wheel = _wheel(1000)
    file = _file("demo-1.0-py3-none-any.whl", b"other bytes", size=None)
    server = FileServer({"/demo-1.0-py3-none-any.whl": wheel})
    client = IndexClient(transport=httpx.MockTransport(server), sleep=lambda _: None)
    with pytest.raises(HashMismatch) as caught:
        download_file(client, IndexCache(tmp_path), file)
    message = str(caught.value)
    assert hashlib.sha256(b"other bytes").hexdigest() in message
    assert hashlib.sha256(wheel).hexdigest() in message
    assert list(tmp_path.rglob("*.whl*")) == []  # nothing unverified is left behind


def test_metadata_naming_another_version_is_invalid(tmp_path: Path) -> None:
    wheel = _wheel(1000, metadata=METADATA.replace(b"Version: 1.0", b"Version: 9.9"))
    file = _file("demo-1.0-py3-none-any.whl", wheel)
    server = FileServer({"/demo-1.0-py3-none-any.whl": wheel})
    with pytest.raises(InvalidMetadata, match="9.9"):
        _fetcher(server, tmp_path).fetch(file)


def test_sdist_with_static_pkg_info_is_read(tmp_path: Path) -> None:
    pkg_info = METADATA.replace(b"2.1", b"2.2") + b"Dynamic: Classifier\n"
    sdist = _sdist(pkg_info)
    file = _file("demo-1.0.tar.gz", sdist)
    server = FileServer({"/demo-1.0.tar.gz": sdist})
    result = _fetcher(server, tmp_path).fetch(file)
    assert [str(r) for r in result.requires_dist] == ["dep>=2"]


def test_sdist_with_dynamic_dependencies_needs_a_builder(tmp_path: Path) -> None:
    sdist = _sdist(METADATA.replace(b"2.1", b"2.2") + b"Dynamic: Requires-Dist\n")
    file = _file("demo-1.0.tar.gz", sdist)
    server = FileServer({"/demo-1.0.tar.gz": sdist})
    with pytest.raises(BuildNotSupported) as caught:
        _fetcher(server, tmp_path).fetch(file)
    assert "demo-1.0.tar.gz" in str(caught.value) and "not supported yet" in str(caught.value)
    assert caught.value.exit_code == 2

    class Builder:
        def __init__(self) -> None:
            self.calls: list[tuple[Path, str]] = []

        def build_metadata(self, sdist: Path, file: FileInfo) -> bytes:
            self.calls.append((sdist, file.filename))
            return METADATA

    builder = Builder()
    result = _fetcher(server, tmp_path / "other", builder=builder).fetch(file)
    assert result.name == "demo" and builder.calls[0][1] == "demo-1.0.tar.gz"
    assert builder.calls[0][0].read_bytes() == sdist


@pytest.mark.parametrize(
    ("pkg_info", "static"),
    [
        (b"Metadata-Version: 2.1\nName: a\nVersion: 1\n", False),
        (b"Metadata-Version: 2.2\nName: a\nVersion: 1\n", True),
        (b"Metadata-Version: 2.4\nName: a\nVersion: 1\nDynamic: requires-python\n", False),
        (b"Metadata-Version: 2.3\nName: a\nVersion: 1\nDynamic: Summary\n", True),
    ],
)
def test_pep643_static_check(pkg_info: bytes, static: bool) -> None:
    assert pkg_info_is_static(pkg_info) is static


def test_range_file_fetches_each_byte_once() -> None:
    data = os.urandom(10_000)
    calls: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> bytes:
        calls.append((start, end))
        return data[start : end + 1]

    remote = RangeFile(len(data), fetch)
    remote.add(9_000, data[9_000:])
    remote.seek(8_500)
    assert remote.read(1_000) == data[8_500:9_500]
    remote.seek(-10, os.SEEK_END)
    assert remote.read(100) == data[-10:]
    remote.seek(8_000)
    assert remote.read(2_000) == data[8_000:]
    assert calls == [(8_500, 8_999), (8_000, 8_499)]
