"""BuiltWheelCache: whole wheels or none, under concurrent writers, keys kept inside the root."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from envspec.sources.pep517 import BuiltWheelCache, InvalidCacheKey

WHEEL = "demo-1.0-py3-none-any.whl"


def make_wheel(directory: Path, payload: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / WHEEL
    path.write_bytes(payload)
    return path


def test_get_before_put_is_none(tmp_path: Path) -> None:
    assert BuiltWheelCache(tmp_path / "cache").get("abc/cp311") is None


def test_put_then_get_returns_a_copy(tmp_path: Path) -> None:
    cache = BuiltWheelCache(tmp_path / "cache")
    source = make_wheel(tmp_path / "built", b"wheel bytes")
    stored = cache.put("0123abcd/cp311-manylinux_x86_64", source)
    assert stored == tmp_path / "cache" / "0123abcd" / "cp311-manylinux_x86_64" / WHEEL
    assert cache.get("0123abcd/cp311-manylinux_x86_64") == stored
    assert stored.read_bytes() == b"wheel bytes"
    assert source.exists()  # the caller's file is left alone
    assert cache.get("0123abcd/cp312-manylinux_x86_64") is None  # another target


def test_a_write_in_progress_is_invisible(tmp_path: Path) -> None:
    cache = BuiltWheelCache(tmp_path / "cache")
    entry = tmp_path / "cache" / "key"
    entry.mkdir(parents=True)
    (entry / f".{WHEEL}.x1y2.tmp").write_bytes(b"half")
    assert cache.get("key") is None


def test_concurrent_puts_of_one_key_leave_one_whole_wheel(tmp_path: Path) -> None:
    cache = BuiltWheelCache(tmp_path / "cache")
    payloads = [bytes([n]) * 300_000 for n in range(8)]
    sources = [make_wheel(tmp_path / f"b{n}", payload) for n, payload in enumerate(payloads)]
    barrier = threading.Barrier(len(sources))
    errors: list[BaseException] = []

    def put(source: Path) -> None:
        try:
            barrier.wait()
            cache.put("same/key", source)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=put, args=(source,)) for source in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = cache.get("same/key")
    assert stored is not None and stored.read_bytes() in payloads
    assert [p.name for p in stored.parent.iterdir()] == [WHEEL]  # no temporary left behind


@pytest.mark.parametrize("key", ["", "../escape", "a/../../b", "/abs", "a//b", ".hidden", "a:b"])
def test_unsafe_keys_are_refused(tmp_path: Path, key: str) -> None:
    cache = BuiltWheelCache(tmp_path / "cache")
    with pytest.raises(InvalidCacheKey):
        cache.get(key)
    with pytest.raises(InvalidCacheKey):
        cache.put(key, make_wheel(tmp_path / "w", b"x"))
    assert not (tmp_path / "escape").exists()
