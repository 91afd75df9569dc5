"""The seam between the resolver and wherever packages come from.

The resolver asks a :class:`PackageSource` two questions: *which files does project X have?* and
*what does this file's metadata say?*. The real implementation is ``envspec.index.source.IndexSource``
(HTTP, cache, PEP 691/503/658, Range requests); tests use an in-memory one built from
``fixtures/universe/``. Everything here is pure data so that the resolver can be tested without a
network.

Costs the resolver must respect: ``project()`` may be a network round trip the first time and is
cached by the source afterwards; ``metadata()`` may be a round trip per file (cheapest first: a PEP 658
file, a Range request, a full download), so the resolver asks only for the candidate it is about to
pin, and calls ``prefetch()`` early so that a real source can overlap the round trips.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from packaging.utils import NormalizedName

from envspec.errors import UserError
from envspec.values.files import CandidateMetadata, FileInfo, ProjectFiles

__all__ = ["PackageNotFound", "PackageSource"]


class PackageSource(Protocol):
    """Where the resolver gets projects and metadata. Implementations cache; calls are idempotent."""

    def project(self, name: NormalizedName) -> ProjectFiles:
        """Every file of ``name`` from the first index that has it.

        Raises :class:`PackageNotFound` when no index has the project.
        """
        ...

    def metadata(self, file: FileInfo) -> CandidateMetadata:
        """The metadata of one file, fetched the cheapest way the index allows."""
        ...

    def prefetch(
        self,
        names: Iterable[NormalizedName],
        on_project: Callable[[ProjectFiles], None] | None = None,
    ) -> None:
        """A hint: these projects' pages will probably be needed soon. May start fetching in the
        background; must return at once. An in-memory source ignores it.

        ``on_project`` is called (in the background) with each page once it has arrived, so that
        the resolver can speculate further; at most once per page, whoever asked first."""
        ...

    def prefetch_metadata(
        self,
        files: Iterable[FileInfo],
        on_metadata: Callable[[CandidateMetadata], None] | None = None,
    ) -> None:
        """A hint: the metadata of these files will probably be asked for soon (the candidates the
        resolver is likely to pin next). Must return at once; ``on_metadata`` as for ``prefetch``."""
        ...


class PackageNotFound(UserError):
    """No configured index has a project of that name."""

    def __init__(self, name: str, indexes: Iterable[str]) -> None:
        where = ", ".join(indexes) or "no index configured"
        super().__init__(f"No package named {name!r} was found on any index ({where}).")
        self.name = name
