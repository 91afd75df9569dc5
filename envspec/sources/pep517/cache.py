"""Wheels built from source, kept so that the same sdist is built once per target.

Building is slow (seconds to minutes) and deterministic enough for a given sdist, backend and
target interpreter, so the built wheel is cached under a key the caller derives from exactly those
(e.g. ``"<sdist sha256>/<target key>"``). Layout: ``<root>/<key>/<wheel filename>``.

Writers never expose a partial file: the wheel is copied to a temporary name in the entry's own
directory and renamed into place (``os.replace`` is atomic), so concurrent processes storing the
same key each win a complete file and readers see a whole wheel or none.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from envspec.fsutil import atomic_copy

__all__ = ["BuiltWheelCache", "InvalidCacheKey"]

_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+=-]*$")


class InvalidCacheKey(ValueError):
    """A key that is not a relative path of safe segments (a programming error of the caller)."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"invalid built-wheel cache key {key!r}: expected '/'-separated segments of "
            "letters, digits and '._+=-', none starting with '.'"
        )
        self.key = key


class BuiltWheelCache:
    """A directory of built wheels, one per key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def get(self, key: str) -> Path | None:
        """The wheel stored for ``key``, or None (nothing stored, or only a write in progress)."""
        entry = self._entry(key)
        try:
            names = sorted(
                name
                for name in os.listdir(entry)
                if name.endswith(".whl") and not name.startswith(".")
            )
        except (FileNotFoundError, NotADirectoryError):
            return None
        return entry / names[0] if names else None

    def put(self, key: str, wheel: Path) -> Path:
        """Store a copy of ``wheel`` for ``key`` and return the stored path; a wheel of the same
        name already stored is replaced (atomically: readers see the old file or the new)."""
        wheel = Path(wheel)
        entry = self._entry(key)
        entry.mkdir(parents=True, exist_ok=True)
        return atomic_copy(wheel, entry / wheel.name)

    def _entry(self, key: str) -> Path:
        segments = key.split("/")
        if not key or not all(_KEY_SEGMENT.match(segment) for segment in segments):
            raise InvalidCacheKey(key)
        return self.root.joinpath(*segments)
