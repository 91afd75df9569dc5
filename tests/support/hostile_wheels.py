"""Hostile wheels, generated: each a valid-looking wheel (METADATA, WHEEL, a RECORD that lists
every member with its hash) that tries to write outside its venv, replace the venv's interpreter,
or inflate to far more than it weighs. Built in memory in milliseconds, never kept as binary
fixtures, so a reader sees exactly what each attack is.

Every builder returns an :class:`~tests.support.wheels.Artifact` (``.data``, ``.filename``,
``.sha256``, ``.metadata``), the shape the loopback index serves.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from types import MappingProxyType

from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.universe import Release, Universe
from tests.support.wheels import Artifact, BuiltUniverse, build_wheel, record_hash

__all__ = [
    "hostile_universe",
    "member_wheel",
    "ratio_bomb_wheel",
    "release",
    "script_wheel",
    "zip_bomb_wheel",
]


def release(name: str = "evil", version: str = "1.0", **fields: object) -> Release:
    """A plain release of the test universe (``scripts=`` and the rest as :class:`Release`)."""
    if "scripts" in fields:
        fields["scripts"] = MappingProxyType(dict(fields["scripts"]))  # type: ignore[call-overload]
    return Release(name=canonicalize_name(name), version=Version(version), **fields)  # type: ignore[arg-type]


def script_wheel(script: str, *, name: str = "evil", version: str = "1.0") -> Artifact:
    """A wheel whose ``entry_points.txt`` declares the console script ``script`` (a name such as
    ``../../../../tmp/x/out-script`` or ``python``)."""
    return build_wheel(release(name, version, scripts={script: f"{name}:main"}))


def member_wheel(
    members: Mapping[str, bytes], *, name: str = "evil", version: str = "1.0"
) -> Artifact:
    """A wheel with extra archive members: ``../x`` traversal, ``/abs`` paths,
    ``evil-1.0.data/data/bin/python``, ``evil-1.0.data/scripts/activate``, ..."""
    return build_wheel(release(name, version), extra_files=dict(members))


def ratio_bomb_wheel(
    size: int = 64 << 20, *, name: str = "evil", version: str = "1.0"
) -> Artifact:
    """A real, honest zip whose one big member is ``size`` zero bytes deflated (about 1000:1)."""
    base = build_wheel(release(name, version))
    entries = _entries_of(base)
    member = f"{release(name, version).module_name}/blob.bin"
    data = bytes(size)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = compressor.compress(data) + compressor.flush()
    entries.insert(0, _RawEntry(member, 8, raw, zlib.crc32(data), len(data)))
    return _artifact_like(base, _record_again(entries, base, {member: data}))


def zip_bomb_wheel(
    declared: int = 2 << 30, *, name: str = "evil", version: str = "1.0"
) -> Artifact:
    """A wheel holding a member that inflates to ``declared`` bytes (2 GiB) of zeros from a
    couple of megabytes: the deflate stream is one self-contained block of 1 MiB of zeros,
    repeated, so building it costs milliseconds. Its CRC is left 0: nothing may get far enough
    to check it."""
    base = build_wheel(release(name, version))
    entries = _entries_of(base)
    chunk_size = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = compressor.compress(bytes(chunk_size)) + compressor.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(declared, chunk_size)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = chunk * count + tail.compress(bytes(rest)) + tail.flush()
    member = f"{release(name, version).module_name}/bomb.bin"
    entries.insert(0, _RawEntry(member, 8, raw, 0, declared))
    return _artifact_like(base, _zip(entries))


def hostile_universe(artifact: Artifact) -> tuple[Universe, BuiltUniverse]:
    """A universe of one release served as ``artifact`` (pass both to the index as
    ``index_server(universe, built=built)``)."""
    found = artifact.release
    universe = Universe(
        name=f"hostile-{found.name}",
        releases=MappingProxyType({found.name: MappingProxyType({found.version: found})}),
    )
    built = BuiltUniverse(universe=universe, artifacts=MappingProxyType({artifact.filename: artifact}))
    return universe, built


# ── a raw zip writer: the sizes and CRC a member declares are the test's to choose ─────────────


class _RawEntry:
    def __init__(self, name: str, method: int, raw: bytes, crc: int, size: int) -> None:
        self.name, self.method, self.raw, self.crc, self.size = name, method, raw, crc, size


def _entries_of(artifact: Artifact) -> list[_RawEntry]:
    import io
    import zipfile

    entries = []
    with zipfile.ZipFile(io.BytesIO(artifact.data)) as archive:
        for info in archive.infolist():
            data = archive.read(info)
            entries.append(_RawEntry(info.filename, 0, data, zlib.crc32(data), len(data)))
    return entries


def _record_again(
    entries: list[_RawEntry], base: Artifact, contents: Mapping[str, bytes]
) -> bytes:
    """The zip with its RECORD listing the added members too (so only the size gives it away)."""
    dist_info = f"{base.release.filename_stem}.dist-info"
    record = next(e for e in entries if e.name == f"{dist_info}/RECORD")
    lines = [f"{name},sha256={record_hash(data)},{len(data)}" for name, data in contents.items()]
    text = "\n".join(lines).encode() + b"\n" + record.raw
    record.raw, record.crc, record.size = text, zlib.crc32(text), len(text)
    return _zip(entries)


def _zip(entries: list[_RawEntry]) -> bytes:
    out = bytearray()
    central = bytearray()
    for entry in entries:
        name = entry.name.encode()
        offset = len(out)
        # date 1980-01-01: time 0, date (0 << 9) | (1 << 5) | 1
        fields = (20, 0, entry.method, 0, 0x21, entry.crc, len(entry.raw), entry.size)
        out += struct.pack("<IHHHHHIII", 0x04034B50, *fields) + struct.pack("<HH", len(name), 0)
        out += name + entry.raw
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            (3 << 8) | 20,
            *fields,
            len(name),
            0,
            0,
            0,
            0,
            (0o100644 << 16),
            offset,
        )
        central += name
    start = len(out)
    out += central
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0
    )
    return bytes(out)


def _artifact_like(base: Artifact, data: bytes) -> Artifact:
    return Artifact.of(
        filename=base.filename, data=data, kind="wheel", release=base.release, metadata=base.metadata
    )
