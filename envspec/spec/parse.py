"""The spec's value parsers: a string as written in a spec → its typed form, or why not.

Each ``parse_*`` function either returns the typed value (a ``Requirement``, a ``SpecifierSet``, a
UTC ``datetime``, a URL and its digest) or raises ``ValueError`` with a message for someone editing
a TOML file. The schema's ``format`` checkers (:data:`envspec.spec.schema.FORMAT_CHECKERS`) are
these same functions, so checking a value and converting it can never disagree; the loader uses
them to build the :class:`~envspec.spec.model.Spec`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from urllib.parse import SplitResult, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envspec.values.urls import redact_text, redact_url

__all__ = [
    "ENVIRONMENT_VARIABLES",
    "parse_environment_marker",
    "parse_constraint",
    "parse_date_time_or_date",
    "parse_direct_url",
    "parse_index_url",
    "parse_python_specifier",
    "parse_requirement",
]


def _reason(error: Exception) -> str:
    """packaging's reason, without the caret diagram it draws under the input."""
    return str(error).splitlines()[0].strip()


def parse_requirement(text: str) -> Requirement:
    """A PEP 508 requirement; ValueError says why not (a ``name @ URL`` must be one envspec can
    fetch: see :func:`parse_direct_url`)."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        raise ValueError(f"invalid requirement {redact_text(text)!r}: {_reason(error)}") from None
    if requirement.url is not None:
        try:
            parse_direct_url(requirement.url)
        except ValueError as error:
            raise ValueError(f"invalid requirement {redact_text(text)!r}: {error}") from None
    return requirement


_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def parse_direct_url(text: str) -> tuple[str, str | None]:
    """A direct reference's URL → (the URL without its fragment, the ``#sha256=`` digest or None).

    Only what envspec can fetch and verify: http(s) URLs and absolute ``file:`` URLs. A relative
    path is not a URL (PEP 508); it belongs in ``[sources]`` where it is relative to the spec.
    """
    parts, shown = _split_url(text, "the URL {shown!r}")
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError(f"the URL {shown!r} has no host")
    elif parts.scheme == "file":
        if not parts.path.startswith("/"):
            raise ValueError(f"the file URL {shown!r} has no absolute path")
    elif not parts.scheme or len(parts.scheme) == 1:  # "./libs/x", "libs/x", "C:\\x"
        raise ValueError(
            f"{shown!r} is a path, not a URL; put local paths in [sources] "
            '(mylib = { path = "libs/mylib" }), where they are relative to the spec'
        )
    else:
        raise ValueError(
            f"the URL {shown!r} has the scheme {parts.scheme!r}; envspec fetches http, https "
            "and file URLs (version-control URLs are not supported)"
        )
    sha256: str | None = None
    if parts.fragment:
        for item in parts.fragment.split("&"):
            key, _, value = item.partition("=")
            if key == "sha256" and _SHA256.fullmatch(value):
                sha256 = value.lower()
            elif key == "sha256":
                raise ValueError(f"the URL {shown!r} has a malformed #sha256= (64 hex digits)")
            elif key in ("md5", "sha1", "sha224", "sha384", "sha512"):
                raise ValueError(
                    f"the URL {shown!r} has a #{key}= hash; envspec verifies sha256 only "
                    "(#sha256=<64 hex digits>)"
                )
            elif key not in ("egg",):
                raise ValueError(f"the URL {shown!r} has an unsupported fragment {item!r}")
    return parts._replace(fragment="").geturl(), sha256


def parse_constraint(text: str) -> Requirement:
    """A requirement that only bounds versions: no extras, no URL."""
    requirement = parse_requirement(text)
    if requirement.url:
        raise ValueError(
            f"constraint {redact_text(text)!r} is a URL requirement; a constraint can only bound versions"
        )
    if requirement.extras:
        extras = ",".join(sorted(requirement.extras))
        raise ValueError(
            f"constraint {text!r} has extras [{extras}]; a constraint can only bound versions"
        )
    return requirement


ENVIRONMENT_VARIABLES = frozenset(
    {
        "sys_platform",
        "platform_system",
        "os_name",
        "platform_machine",
        "python_version",
        "python_full_version",
        "implementation_name",
        "platform_python_implementation",
        "implementation_version",
    }
)
"""What an ``environments`` marker may test: the variables that tell covered environments apart
(a lock cannot promise anything about ``platform_release`` or an ``extra``)."""


def parse_environment_marker(text: str) -> Marker:
    """A PEP 508 marker over :data:`ENVIRONMENT_VARIABLES` only."""
    try:
        marker = Marker(text)
    except InvalidMarker as error:
        raise ValueError(f"invalid marker {text!r}: {_reason(error)}") from None
    unknown = sorted(_marker_variables(marker._markers) - ENVIRONMENT_VARIABLES)
    if unknown:
        raise ValueError(
            f"marker {text!r} tests {', '.join(unknown)}, which cannot tell the environments a "
            "lock covers apart (use sys_platform, platform_machine, python_version, ...)"
        )
    return marker


def _marker_variables(node: object) -> set[str]:
    """The variable names in packaging's parsed marker (nested lists of (left, op, right))."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _marker_variables(item)
    elif isinstance(node, tuple) and len(node) == 3:
        for side in (node[0], node[2]):
            if type(side).__name__ == "Variable":
                found.add(str(side.value))
    return found


def parse_python_specifier(text: str) -> SpecifierSet:
    """A PEP 440 specifier, or a bare version meaning that series ("3.12" → "==3.12.*").

    A bare version with fewer than three release numbers names a series ("3" → "==3.*",
    "3.12" → "==3.12.*"); anything more precise is pinned exactly ("3.12.1" → "==3.12.1").
    """
    stripped = text.strip()
    try:
        version = Version(stripped)
    except InvalidVersion:
        version = None
    if version is not None:
        plain = not (version.pre or version.post or version.dev or version.local or version.epoch)
        if plain and len(version.release) < 3:
            return SpecifierSet("==" + ".".join(map(str, version.release)) + ".*")
        return SpecifierSet(f"=={stripped}")
    try:
        return SpecifierSet(stripped)
    except InvalidSpecifier:
        pass
    bad = []
    for part in stripped.split(","):
        try:
            Specifier(part.strip())
        except InvalidSpecifier:
            bad.append(part.strip())
    culprit = f": {bad[0]!r} is not a valid specifier" if bad and bad[0] != stripped else ""
    raise ValueError(
        f"invalid version specifier {text!r}{culprit} "
        f"(write a PEP 440 specifier like '>=3.11,<3.13' or a version like '3.12')"
    )


_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}(?P<time>[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?(?P<zone>[Zz]|[+-]\d{2}:\d{2})?)?"
)


def parse_date_time_or_date(text: str) -> datetime:
    """An RFC 3339 date-time with a timezone, or a date meaning midnight UTC; returned in UTC."""
    match = _RFC3339.fullmatch(text.strip())
    expected = (
        "expected an RFC 3339 date-time like '2026-11-01T00:00:00Z' or a date like '2026-11-01'"
    )
    if match is None:
        raise ValueError(f"invalid date-time {text!r}: {expected}")
    if match["time"] and not match["zone"]:
        raise ValueError(
            f"date-time {text!r} has no timezone; add one, e.g. 'Z' for UTC ({text.strip()}Z)"
        )
    try:
        if not match["time"]:
            return datetime.combine(date.fromisoformat(text.strip()), time(), tzinfo=UTC)
        return datetime.fromisoformat(text.strip().replace("z", "Z")).astimezone(UTC)
    except ValueError as error:
        raise ValueError(f"invalid date-time {text!r}: {error}") from None


def _split_url(text: str, what: str) -> tuple[SplitResult, str]:
    """``text`` split, and as it may be shown (credentials redacted); ValueError for whitespace
    or a bad port. ``what`` names the URL in the message, with ``{shown!r}`` in it."""
    shown = redact_url(text) if "@" in text else text
    named = what.format(shown=shown)
    if text != text.strip() or any(char.isspace() for char in text):
        raise ValueError(f"{named} contains whitespace")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        raise ValueError(f"{named} is invalid: {error}") from None
    return parts, shown


def parse_index_url(text: str) -> str:
    parts, shown = _split_url(text, "invalid index URL {shown!r}: it")
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError(f"invalid index URL {shown!r}: it has no host")
    elif parts.scheme == "file":
        if not parts.path:
            raise ValueError(f"invalid index URL {shown!r}: it has no path")
    else:
        raise ValueError(f"invalid index URL {shown!r}: the scheme must be http, https or file")
    return text
