"""RECORD, the one model: written by the linked installer, read by ``installed`` and ``uninstall``,
checked by ``verify``.

Every wheel installer leaves ``<name>.dist-info/RECORD``, a CSV file of ``path,hash,size`` rows
(the wheel spec; PEP 376's format): which files a distribution owns, so that an uninstall knows
what to delete and a check knows what to compare. One dataclass (:class:`RecordEntry`), one parser
(:func:`read_record`), one writer (:func:`format_record`) and one hash encoding
(:func:`encode_digest`: urlsafe base64 of the sha256 without padding, ``sha256=`` before it in the
file) keep the three users agreeing on what a row says. pypa ``installer`` writes its own RECORD
rows for :class:`envspec.venv.installers.InstallerLibrary`; they are byte for byte what
:func:`format_record` writes (a test compares).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from envspec.errors import OutsideWorldError

__all__ = [
    "RecordEntry",
    "RecordUnreadable",
    "encode_digest",
    "file_record_hash",
    "format_record",
    "read_record",
    "record_hash",
]


class RecordUnreadable(OutsideWorldError):
    """A dist-info's RECORD is missing or is not a valid RECORD file."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"Cannot read the RECORD file {str(path)!r}: {reason}.")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordEntry:
    """One row of a RECORD file."""

    path: str
    """As written in RECORD: relative to the site-packages directory holding the dist-info (may
    climb out of it, ``../../../bin/tool``), or absolute (installers on Windows write those)."""
    sha256: str | None
    """The urlsafe-base64 sha256 digest without padding, as RECORD writes it; None for RECORD
    itself, for generated files like ``.pyc``, or when another algorithm was used."""
    size: int | None

    def location(self, site_packages: Path) -> Path:
        """The entry's absolute, normalised path (``..`` resolved lexically, links not followed).
        It may lead out of the venv, as written or through a link: whoever deletes or reads it
        judges it first (``envspec.venv.confine``)."""
        return Path(os.path.normpath(site_packages / self.path))


def encode_digest(digest: bytes) -> str:
    """A sha256 digest as RECORD spells it after ``sha256=``: urlsafe base64, no padding."""
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def record_hash(data: bytes) -> str:
    """The RECORD hash field of ``data``: ``sha256=<encoded digest>``."""
    return "sha256=" + encode_digest(hashlib.sha256(data).digest())


def file_record_hash(path: Path) -> str:
    """The RECORD hash field of the file at ``path``, streamed."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").digest()
    return "sha256=" + encode_digest(digest)


def format_record(rows: Iterable[tuple[str, str, str]]) -> bytes:
    """RECORD's bytes for ``(path, hash, size)`` rows, in the given order: CSV quoted as pypa
    ``installer`` writes it (``"a, b.txt"``), ``\\n`` line ends, ``/`` separators."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=",", quotechar='"', lineterminator="\n")
    if os.sep == "/":
        writer.writerows(rows)
    else:
        writer.writerows((path.replace("\\", "/"), digest, size) for path, digest, size in rows)
    return text.getvalue().encode()


def read_record(dist_info: Path) -> list[RecordEntry]:
    """The rows of ``<dist_info>/RECORD``; :class:`RecordUnreadable` when missing or malformed."""
    path = dist_info / "RECORD"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordUnreadable(path, "it does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RecordUnreadable(path, f"it cannot be read ({error})") from None
    entries: list[RecordEntry] = []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise RecordUnreadable(path, f"it is not valid CSV ({error})") from None
    for number, row in enumerate(rows, start=1):
        if not row:
            continue
        if len(row) != 3 or not row[0]:
            raise RecordUnreadable(path, f"line {number} is not 'path,hash,size': {row!r}")
        name, hash_text, size_text = row
        if "\0" in name:  # no file system takes it: every os call on it would raise ValueError
            raise RecordUnreadable(path, f"line {number} has a NUL character in its path")
        sha256: str | None = None
        if hash_text:
            algorithm, sep, digest = hash_text.partition("=")
            if not sep or not digest:
                raise RecordUnreadable(path, f"line {number} has a malformed hash {hash_text!r}")
            if algorithm.lower() == "sha256":
                sha256 = digest
            elif algorithm.lower() not in hashlib.algorithms_available:
                raise RecordUnreadable(
                    path, f"line {number} uses an unknown hash algorithm {algorithm!r}"
                )
        size: int | None = None
        if size_text:
            try:
                size = int(size_text)
            except ValueError:
                raise RecordUnreadable(
                    path, f"line {number} has a malformed size {size_text!r}"
                ) from None
            if size < 0:
                raise RecordUnreadable(path, f"line {number} has a negative size {size_text!r}")
        entries.append(RecordEntry(path=name, sha256=sha256, size=size))
    return entries
