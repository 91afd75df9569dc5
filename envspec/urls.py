"""URL hygiene: credentials may be *used* but never written down.

An index URL like ``https://user:token@host/simple`` authenticates the client, but the lock, the
cache keys, error messages and logs must only ever see ``https://host/simple``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["file_url_path", "redact_url", "strip_credentials"]


def strip_credentials(url: str) -> str:
    """The URL without its ``user:password@`` part (the form stored anywhere)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_url(url: str) -> str:
    """The URL for messages: credentials replaced by ``***`` so the user sees some were given."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    bare = urlsplit(strip_credentials(url))
    return urlunsplit((bare.scheme, f"***@{bare.netloc}", bare.path, bare.query, bare.fragment))


def file_url_path(url: str) -> Path | None:
    """The local path a ``file:`` URL names; None for any other URL."""
    if not url.startswith("file:"):
        return None
    from urllib.request import url2pathname

    return Path(url2pathname(unquote(urlsplit(url).path)))
