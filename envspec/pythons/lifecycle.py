"""CPython's release lifecycle: which minor versions upstream still supports.

``envspec init`` writes a floor for ``python`` (``">=3.11"``) rather than the one version it runs
on, so that a teammate with an older but still supported Python can sync the same spec. The floor
is the oldest supported minor this machine has; a version upstream no longer patches is not offered
as the floor, since a new project should not start on it.
"""

from __future__ import annotations

import datetime

from packaging.version import Version

__all__ = ["END_OF_LIFE", "is_supported_upstream"]

END_OF_LIFE: dict[tuple[int, int], datetime.date] = {
    (3, 8): datetime.date(2024, 10, 7),
    (3, 9): datetime.date(2025, 10, 31),
    (3, 10): datetime.date(2026, 10, 31),
    (3, 11): datetime.date(2027, 10, 31),
    (3, 12): datetime.date(2028, 10, 31),
    (3, 13): datetime.date(2029, 10, 31),
    (3, 14): datetime.date(2030, 10, 31),
}
"""The day each minor's last security release is due (PEP 602: five years after its .0)."""


def is_supported_upstream(version: Version, today: datetime.date | None = None) -> bool:
    """Whether CPython ``version`` still gets security releases on ``today``. Minors newer than
    the table are supported; minors older than it (3.7 and before) are not."""
    minor = (version.major, version.minor)
    if minor in END_OF_LIFE:
        return (today or datetime.date.today()) <= END_OF_LIFE[minor]
    return minor > max(END_OF_LIFE)
