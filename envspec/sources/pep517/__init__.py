"""Building from source: sdists and local directories, through their own PEP 517 backends.

What the rest of envspec uses to get the metadata of a package that has no wheel for the target, to
build that wheel (or a PEP 660 editable one for a local project), to fingerprint a local directory
for the lock, and to keep built wheels so each sdist is built once per target:

- :func:`read_build_system` (``backend``): the tree's ``[build-system]``, or pip's default;
- :func:`unpack_sdist` (``sdist``): an sdist archive extracted without trusting its member names;
- :class:`Builder` (``frontend``): isolated build environments and the hook subprocesses;
- :func:`source_digest` (``digest``): the lock's hash of a local source directory;
- :class:`BuiltWheelCache` (``cache``): built wheels by key.
"""

from __future__ import annotations

from envspec.sources.pep517.backend import (
    DEFAULT_BUILD_SYSTEM,
    LEGACY_BACKEND,
    BuildSystem,
    InvalidBuildSystem,
    read_build_system,
)
from envspec.sources.pep517.cache import BuiltWheelCache, InvalidCacheKey
from envspec.sources.pep517.digest import SourceUnreadable, source_digest
from envspec.sources.pep517.frontend import Builder, BuildFailed, Provision, packages_being_built
from envspec.sources.pep517.sdist import SDIST_SUFFIXES, UnsafeArchive, unpack_sdist

__all__ = [
    "DEFAULT_BUILD_SYSTEM",
    "LEGACY_BACKEND",
    "SDIST_SUFFIXES",
    "BuildFailed",
    "BuildSystem",
    "Builder",
    "BuiltWheelCache",
    "InvalidBuildSystem",
    "InvalidCacheKey",
    "Provision",
    "SourceUnreadable",
    "UnsafeArchive",
    "packages_being_built",
    "read_build_system",
    "source_digest",
    "unpack_sdist",
]
