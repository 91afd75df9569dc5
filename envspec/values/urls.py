"""URL hygiene: credentials may be *used* but never written down.

An index URL like ``https://user:token@host/simple`` authenticates the client, but the lock, the
cache keys, error messages and logs must only ever see ``https://host/simple``.

A ``[sources]`` URL or a ``name @ URL`` requirement keeps its place in the lock (it *is* where the
file comes from), so it is written with its secret replaced, ``https://user:***@host/…`` (or
``https://***@host/…`` when the userinfo is a bare token): :func:`redact_url`, the one redaction
used for every file envspec writes and every line it prints. The index client finds the real
credentials again at download time (the spec's own URL, netrc), never in the lock.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "file_url_path",
    "is_redacted",
    "redact_text",
    "redact_url",
    "strip_credentials",
    "url_credentials",
]

REDACTED = "***"
"""What stands for a secret in a URL's userinfo."""

_USERINFO = re.compile(r"(?<=://)[^/?#\s]*@")


def strip_credentials(url: str) -> str:
    """The URL without its ``user:password@`` part (the form stored anywhere)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an invalid port or IPv6 literal: drop whatever precedes an "@"
        return _USERINFO.sub("", url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_url(url: str) -> str:
    """The URL with its secret replaced by ``***``: ``user:***@`` when the userinfo has a password,
    ``***@`` when it is one bare word (a token). Everything else is kept as written, so the result
    still says where the file is and which account reads it; idempotent, and never raises."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    return urlunsplit(
        (parts.scheme, f"{_redacted_userinfo(userinfo)}@{hostport}", parts.path, parts.query,
         parts.fragment)
    )


def _redacted_userinfo(userinfo: str) -> str:
    user, colon, _secret = userinfo.partition(":")
    if colon and user and user != REDACTED:
        return f"{user}:{REDACTED}"
    return REDACTED


def redact_text(text: str) -> str:
    """Every ``scheme://userinfo@`` in free text (a requirement, a message) redacted as
    :func:`redact_url` does."""
    return _USERINFO.sub(lambda match: _redacted_userinfo(match.group(0)[:-1]) + "@", text)


def is_redacted(url: str) -> bool:
    """Whether the URL's userinfo is a redaction (its secret is ``***``), not credentials."""
    found = url_credentials(url)
    if found is None:
        return False
    user, password = found
    return password == REDACTED or (not password and user == REDACTED)


def url_credentials(url: str) -> tuple[str, str] | None:
    """``(user, password)`` from the URL's userinfo, percent-decoded; None when it has none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    userinfo, at, _hostport = parts.netloc.rpartition("@")
    if not at:
        return None
    user, _colon, password = userinfo.partition(":")
    return unquote(user), unquote(password)


def file_url_path(url: str) -> Path | None:
    """The local path a ``file:`` URL names; None for any other URL."""
    if not url.startswith("file:"):
        return None
    from urllib.request import url2pathname

    return Path(url2pathname(unquote(urlsplit(url).path)))
