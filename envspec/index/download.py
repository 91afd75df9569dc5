"""Downloading a distribution file into the cache, verified by size and hash on the way in.

A file enters the cache only after its bytes match what the index promised (size, sha256 — or
the strongest hash the index gave that ``hashlib`` knows), so everything read back from the cache
later is trusted without re-hashing. Streaming keeps memory flat for large wheels.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envspec.errors import OutsideWorldError
from envspec.fsutil import atomic_write_bytes
from envspec.index.cache import IndexCache, OfflineMiss
from envspec.index.client import HttpResponse, IndexClient, status_error
from envspec.values.files import FileInfo
from envspec.values.urls import redact_url

__all__ = [
    "HashMismatch",
    "download_file",
    "fetch_range_or_file",
    "store_verified",
    "verify_algorithm",
]

notes = logging.getLogger("envspec.notes")  # shown under -v

_PREFERRED = ("sha256", "sha512", "sha384", "sha3_256", "blake2b", "sha224", "sha1", "md5")


class HashMismatch(OutsideWorldError):
    """Downloaded bytes are not the ones the index listed: corrupted, or tampered with."""

    def __init__(
        self, url: str, expected: Mapping[str, str], actual: Mapping[str, str]
    ) -> None:
        shown = redact_url(url)
        expected_text = ", ".join(f"{key}={value}" for key, value in sorted(expected.items()))
        actual_text = ", ".join(f"{key}={value}" for key, value in sorted(actual.items()))
        super().__init__(
            f"The file {shown!r} does not match what the index promised: "
            f"expected {expected_text}, got {actual_text}.",
            hint="Retry; if it persists the index or a proxy is serving wrong content.",
        )
        self.url = shown
        self.expected = dict(expected)
        self.actual = dict(actual)


def verify_algorithm(hashes: Mapping[str, str]) -> str | None:
    """The hash algorithm to check a file with: sha256 if given, else the best one hashlib has."""
    for name in _PREFERRED:
        if name in hashes:
            return name
    for name in sorted(hashes):
        if name in hashlib.algorithms_available:
            return name
    return None


def download_file(
    client: IndexClient | None, cache: IndexCache, file: FileInfo, *, offline: bool = False
) -> Path:
    """The cached path of ``file``, downloading (streamed, verified) when it is not there yet.

    ``client`` may be None only when ``offline``. Raises :class:`OfflineMiss` offline on a miss,
    :class:`HashMismatch` when the bytes are wrong, ``IndexUnavailable`` when the server fails.
    """
    cached = cache.cached_file(file)
    if cached is not None:
        return cached
    if offline or client is None:
        raise OfflineMiss(f"the file {cache.describe(file)}")
    try:
        result = fetch_range_or_file(client, cache, file, range_header=None)
    except HashMismatch as first:
        # Mirrors now and then serve a truncated or stale body: one more download from scratch
        # (the bad bytes were never committed to the cache) before it is an error.
        notes.info("%s; downloading it once more", first.message.rstrip("."))
        result = fetch_range_or_file(client, cache, file, range_header=None)
    assert isinstance(result, Path)
    return result


def fetch_range_or_file(
    client: IndexClient, cache: IndexCache, file: FileInfo, *, range_header: str | None
) -> HttpResponse | Path:
    """GET ``file`` (with ``Range: range_header`` if given) in one round trip.

    A 206 comes back as the response (body in ``content``); a 200 — the whole file, because there
    was no Range or the server ignored it — is streamed into the cache, verified, and its path
    returned. Any other status raises.
    """
    algorithm = verify_algorithm(file.hashes)
    state: dict[str, Any] = {}

    def reset() -> None:
        state["sha256"] = hashlib.sha256()
        state["check"] = hashlib.new(algorithm) if algorithm not in (None, "sha256") else None
        state["size"] = 0

    def on_chunk(chunk: bytes) -> None:
        state["sha256"].update(chunk)
        if state["check"] is not None:
            state["check"].update(chunk)
        state["size"] += len(chunk)

    headers = {"Range": range_header} if range_header else None
    with cache.writing_file(file) as pending:
        response = client.download(
            file.url,
            pending.open,
            headers=headers,
            on_chunk=on_chunk,
            reset=reset,
            accept_partial=range_header is not None,
        )
        if response.status == 206 and range_header is not None:
            return response
        if response.status != 200:
            raise status_error(file.url, response.status)
        actual = {"sha256": state["sha256"].hexdigest()}
        if state["check"] is not None and algorithm is not None:
            actual[algorithm] = state["check"].hexdigest()
        _check(file, actual, state["size"])
        return cache.commit_file(pending, file)


def store_verified(cache: IndexCache, file: FileInfo, data: bytes) -> Path:
    """Put bytes already in hand (a whole file that came back from a Range request) in the cache,
    after the same size and hash checks as :func:`download_file`."""
    actual = {"sha256": hashlib.sha256(data).hexdigest()}
    algorithm = verify_algorithm(file.hashes)
    if algorithm is not None and algorithm != "sha256":
        actual[algorithm] = hashlib.new(algorithm, data).hexdigest()
    _check(file, actual, len(data))
    path = cache.file_path(file)
    atomic_write_bytes(path, data)
    return path


def _check(file: FileInfo, actual: Mapping[str, str], size: int) -> None:
    expected = {key: file.hashes[key].lower() for key in actual if key in file.hashes}
    if file.size is not None and size != file.size:
        raise HashMismatch(
            file.url, {**expected, "size": str(file.size)}, {**actual, "size": str(size)}
        )
    if any(actual[key] != value for key, value in expected.items()):
        raise HashMismatch(file.url, expected, actual)
