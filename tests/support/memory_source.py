"""An in-memory PackageSource over a test universe, and realistic Targets built by hand.

The resolver is tested without HTTP: :class:`MemorySource` lists a universe's files as an index
would (filename, url, hashes, requires-python, yanked, upload-time) and answers metadata straight from
each release's ``metadata_text()``, no wheel built. It records every call, so a test can assert that
the resolver fetched only what it needed and sent its prefetch hints.

:func:`make_target` builds the Target of a CPython version on a platform from ``packaging.tags``
(``cpython_tags`` / ``compatible_tags`` with explicit versions and platforms), never from the
interpreter running the tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from packaging.tags import compatible_tags, cpython_tags, mac_platforms
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envspec.values.files import CandidateMetadata, FileInfo, ProjectFiles
from envspec.resolve.source import PackageNotFound
from envspec.values.target import Target
from tests.support.universe import Release, Universe

__all__ = ["MemorySource", "Platform", "make_target"]

Platform = Literal["linux", "windows", "macos"]

_PLATFORM_MARKERS: dict[Platform, dict[str, str]] = {
    "linux": {
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "platform_release": "6.1.0",
        "platform_version": "#1 SMP",
    },
    "windows": {
        "os_name": "nt",
        "sys_platform": "win32",
        "platform_system": "Windows",
        "platform_machine": "AMD64",
        "platform_release": "10",
        "platform_version": "10.0.19045",
    },
    "macos": {
        "os_name": "posix",
        "sys_platform": "darwin",
        "platform_system": "Darwin",
        "platform_machine": "arm64",
        "platform_release": "23.0.0",
        "platform_version": "Darwin Kernel Version 23.0.0",
    },
}


def _platform_tags(platform: Platform) -> list[str]:
    if platform == "linux":
        manylinux = [f"manylinux_2_{minor}_x86_64" for minor in range(35, 16, -1)]
        return [*manylinux, "manylinux2014_x86_64", "linux_x86_64"]
    if platform == "windows":
        return ["win_amd64"]
    return list(mac_platforms((14, 0), "arm64"))


def make_target(python: str = "3.11.7", platform: Platform = "linux") -> Target:
    """The Target of CPython ``python`` on ``platform`` (x86_64 Linux/Windows, arm64 macOS)."""
    version = Version(python)
    major, minor = version.major, version.minor
    platforms = _platform_tags(platform)
    tags = [
        *cpython_tags((major, minor), abis=[f"cp{major}{minor}"], platforms=platforms),
        *compatible_tags((major, minor), interpreter=f"cp{major}{minor}", platforms=platforms),
    ]
    markers = {
        "implementation_name": "cpython",
        "implementation_version": str(version),
        "platform_python_implementation": "CPython",
        "python_full_version": str(version),
        "python_version": f"{major}.{minor}",
        **_PLATFORM_MARKERS[platform],
    }
    return Target(python_version=version, markers=markers, tags=tuple(tags))


@dataclass(slots=True)
class MemorySource:
    """A PackageSource answering from a universe; every call is recorded in order."""

    universe: Universe
    index_url: str = "https://example.test/simple"
    index_requires_python: bool = True
    """False: the listing omits Requires-Python (as old indexes do); only the metadata says it."""
    project_calls: list[NormalizedName] = field(default_factory=list)
    metadata_calls: list[str] = field(default_factory=list)
    """Filenames whose metadata was asked for."""
    prefetch_calls: list[tuple[NormalizedName, ...]] = field(default_factory=list)
    prefetch_metadata_calls: list[tuple[str, ...]] = field(default_factory=list)
    _releases_by_file: dict[str, Release] = field(default_factory=dict)

    def project(self, name: NormalizedName) -> ProjectFiles:
        self.project_calls.append(name)
        versions = self.universe.releases.get(canonicalize_name(name))
        if versions is None:
            raise PackageNotFound(name, [self.index_url])
        files: list[FileInfo] = []
        for release in versions.values():
            for filename in release.filenames():
                self._releases_by_file[filename] = release
                files.append(self._file_info(release, filename))
        return ProjectFiles(name=name, index_url=self.index_url, files=tuple(files))

    def metadata(self, file: FileInfo) -> CandidateMetadata:
        self.metadata_calls.append(file.filename)
        release = self._releases_by_file[file.filename]
        return CandidateMetadata.from_bytes(release.metadata_text().encode(), origin=file.url)

    def prefetch(self, names: Iterable[NormalizedName], on_project: object = None) -> None:
        self.prefetch_calls.append(tuple(names))

    def prefetch_metadata(self, files: Iterable[FileInfo], on_metadata: object = None) -> None:
        self.prefetch_metadata_calls.append(tuple(file.filename for file in files))

    def _file_info(self, release: Release, filename: str) -> FileInfo:
        base = self.index_url.rstrip("/").rsplit("/", 1)[0]
        return FileInfo(
            filename=filename,
            url=f"{base}/files/{filename}",
            index_url=self.index_url,
            hashes={"sha256": hashlib.sha256(filename.encode()).hexdigest()},
            requires_python=release.requires_python if self.index_requires_python else None,
            yanked=release.is_yanked,
            yanked_reason=release.yanked_reason,
            size=len(filename) * 100,
            upload_time=release.upload_time,
            metadata_hashes={},
        )
