"""A remembered verdict: "this spec and this lock were found to agree", keyed by their bytes.

Deciding freshness properly means parsing the spec (schema, PEP 508) and the lock (PEP 751), which
costs more than the whole budget of a no-op ``envspec lock`` (tens of milliseconds). When neither
file has changed by a single byte since envspec last found them fresh, the answer cannot have
changed either, so it is remembered in the cache, keyed by the spec's path, with both files'
sha256. Any difference in either file falls back to the full semantic comparison, so a stale
verdict is impossible; a missing or corrupt entry only costs the slow path.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from envspec.fsutil import atomic_write_text
from envspec import __version__

__all__ = ["FreshnessMemo"]


class FreshnessMemo:
    def __init__(self, cache_dir: Path, spec_path: Path) -> None:
        key = hashlib.sha256(str(spec_path.resolve()).encode()).hexdigest()[:32]
        # per envspec version: a release that knows a newer Python minor judges freshness anew
        self.path = cache_dir / f"fresh-v2-{__version__}" / f"{key}.json"
        self.spec_path = spec_path

    @staticmethod
    def _digest(path: Path) -> str | None:
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None

    def recall(self, lock_path: Path) -> int | None:
        """The lock's package count if both files are byte-identical to when they agreed."""
        try:
            entry = json.loads(self.path.read_text(encoding="utf-8"))
            remembered = (entry["spec"], entry["lock"], int(entry["packages"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        spec, lock = self._digest(self.spec_path), self._digest(lock_path)
        if spec is None or lock is None or (spec, lock) != remembered[:2]:
            return None
        return remembered[2]

    def remember(self, lock_path: Path, package_count: int) -> None:
        spec, lock = self._digest(self.spec_path), self._digest(lock_path)
        if spec is None or lock is None:
            return
        document = {"spec": spec, "lock": lock, "packages": package_count}
        try:
            atomic_write_text(self.path, json.dumps(document))
        except OSError:
            pass  # a read-only cache only costs speed
