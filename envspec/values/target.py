"""The environment a resolution or an install is *for*.

envspec runs on one interpreter (>= 3.11) and builds venvs for another (any CPython >= 3.8), so
nothing may read ``sys`` or ``platform`` of the running process to decide what fits: every such
decision goes through a Target, which ``pythons/`` fills by probing the chosen interpreter and tests
build by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import parse_wheel_filename
from packaging.version import Version

__all__ = ["Target"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    python_version: Version
    """The full interpreter version (``3.11.7``), which Requires-Python is checked against."""

    markers: Mapping[str, str]
    """The PEP 508 marker environment (``packaging.markers.default_environment()`` of the target)."""

    tags: tuple[Tag, ...]
    """Supported wheel tags, most preferred first (``packaging.tags.sys_tags()`` of the target)."""

    _priority: dict[Tag, int] = field(init=False, repr=False, compare=False, hash=False)
    _ranks: dict[str, int | None] = field(init=False, repr=False, compare=False, hash=False)
    _python_answers: dict[str, bool] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        priority: dict[Tag, int] = {}
        for rank, tag in enumerate(self.tags):
            priority.setdefault(tag, rank)
        object.__setattr__(self, "_priority", priority)
        object.__setattr__(self, "_ranks", {})
        object.__setattr__(self, "_python_answers", {})

    def wheel_rank(self, filename: str) -> int | None:
        """The rank of a wheel's best tag for this target (0 = most preferred), or None if none fits.

        Memoised per filename: parsing tags is the costly part of choosing files."""
        if filename in self._ranks:
            return self._ranks[filename]
        try:
            _, _, _, tags = parse_wheel_filename(filename)
        except ValueError:
            rank = None
        else:
            ranks = [self._priority[tag] for tag in tags if tag in self._priority]
            rank = min(ranks) if ranks else None
        self._ranks[filename] = rank
        return rank

    def supports_wheel(self, filename: str) -> bool:
        return self.wheel_rank(filename) is not None

    def allows_python(self, requires_python: SpecifierSet | str | None) -> bool:
        """Whether a Requires-Python specifier admits this target (pre-releases of Python count).

        Answers for strings are memoised: a popular project's page repeats the same handful of
        Requires-Python values on thousands of files."""
        if requires_python is None or requires_python == "":
            return True
        if isinstance(requires_python, SpecifierSet):
            return requires_python.contains(self.python_version, prereleases=True)
        answer = self._python_answers.get(requires_python)
        if answer is None:
            answer = SpecifierSet(requires_python).contains(self.python_version, prereleases=True)
            self._python_answers[requires_python] = answer
        return answer

    def evaluate(self, marker: Marker | None, extras: Iterable[str] = ()) -> bool:
        """Evaluate a marker for this target, true for any of ``extras`` (no extras: ``extra == ""``)."""
        if marker is None:
            return True
        wanted = list(extras) or [""]
        return any(
            marker.evaluate({**self.markers, "extra": extra}) for extra in wanted
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "python_version": str(self.python_version),
            "markers": dict(self.markers),
            "tags": [str(tag) for tag in self.tags],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Target:
        tags: list[Tag] = []
        for text in data["tags"]:
            tags.extend(parse_tag(text))
        return cls(
            python_version=Version(data["python_version"]),
            markers=dict(data["markers"]),
            tags=tuple(tags),
        )
