"""The package index client: PEP 691 JSON / PEP 503 HTML pages, PEP 658 metadata, Range requests,
an on-disk HTTP cache and one pooled HTTP client, behind :class:`IndexSource`.

Importing this package must stay cheap (``envspec --version`` and the no-op sync go nowhere near the
network), so nothing here imports ``httpx`` at module level; the client imports it when built.
"""

from __future__ import annotations

from envspec.index.cache import OfflineMiss
from envspec.index.client import IndexUnavailable
from envspec.index.download import HashMismatch
from envspec.index.metadata import BuildNotSupported, MetadataBuilder
from envspec.index.source import IndexSource

__all__ = [
    "BuildNotSupported",
    "HashMismatch",
    "IndexSource",
    "IndexUnavailable",
    "MetadataBuilder",
    "OfflineMiss",
]
