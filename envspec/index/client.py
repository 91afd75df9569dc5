"""The one HTTP client of a run: pooling, HTTP/2, timeouts, retries, credentials, redaction.

Every request envspec makes to an index goes through :class:`IndexClient`, so there is exactly one
place that decides how hard to try (exponential backoff on connection errors, 5xx and truncated
bodies), which credentials to attach, and how a failure is worded (:class:`IndexUnavailable`, URL
redacted, reason given).

Credentials, first match wins: a URL's own real ``user:pass@``; for a URL whose secret was redacted
(``user:***@``, as the lock keeps a ``[sources]`` URL) the URL registered with the same redacted
form (:meth:`IndexClient.register_url`: the spec's, which is on disk); the index URL's
``user:pass@`` for that host; the netrc file (``$NETRC``, else ``~/.netrc``) for that host. In CI,
write a netrc file from a secret and point ``NETRC`` at it. The request itself never carries a
userinfo: the credentials go in an ``Authorization`` header, which httpx drops on a redirect to
another host.

``httpx`` is imported lazily, inside the constructor and methods: ``envspec --version`` and the
no-op sync must not pay for it, and a test proves ``import envspec.index`` leaves it unloaded.
"""

from __future__ import annotations

import logging
import netrc
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Self, TypeVar
from urllib.parse import urlsplit

from envspec.errors import OutsideWorldError
from envspec.values.urls import is_redacted, redact_url, strip_credentials, url_credentials

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TOTAL_TIMEOUT",
    "MAX_METADATA_BYTES",
    "MAX_PAGE_BYTES",
    "MIN_DOWNLOAD_RATE",
    "SIMPLE_ACCEPT",
    "HttpResponse",
    "IndexClient",
    "IndexUnavailable",
    "host_key",
    "status_error",
]

log = logging.getLogger(__name__)

SIMPLE_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
DEFAULT_TIMEOUT = 30.0
"""Seconds to connect, and to wait for each read: the bound on silence."""
DEFAULT_TOTAL_TIMEOUT = 120.0
"""Seconds a whole page, metadata file or Range answer may take (``ENVSPEC_HTTP_TIMEOUT``): a
server that drips one byte every few seconds never trips the per-read timeout, so the whole
response is bounded too."""
MIN_DOWNLOAD_RATE = 64 * 1024
"""Bytes per second a file download must average once it has run for the total timeout: a big
wheel on a slow link may take as long as it keeps moving, a drip is cut off."""
MAX_PAGE_BYTES = 64 * 1024 * 1024
"""The largest body :meth:`IndexClient.get` reads by default (a project page: PyPI's largest are a
few MiB); the body is streamed and the read stops at the cap, so memory stays bounded."""
MAX_METADATA_BYTES = 16 * 1024 * 1024
"""The largest PEP 658 metadata file read (real ones are a few KiB)."""
TIMEOUT_ENV = "ENVSPEC_HTTP_TIMEOUT"
DEFAULT_RETRIES = 3
"""Retries after the first attempt (so up to four attempts)."""
DEFAULT_BACKOFF = 0.5
"""Seconds before the first retry; doubled before each further one."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_T = TypeVar("_T")


class IndexUnavailable(OutsideWorldError):
    """An index (or a file on it) could not be fetched, after every retry."""

    def __init__(self, url: str, reason: str, *, hint: str | None = None) -> None:
        shown = redact_url(url)
        super().__init__(f"Could not fetch {shown!r}: {reason}.", hint=hint)
        self.url = shown
        self.reason = reason


class _Retryable(Exception):
    """One attempt failed in a way that another attempt may fix; carries the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse:
    """A finished response: status, headers (lower-cased names) and the body that was read."""

    url: str
    """The final URL after redirects, without credentials."""
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def host_key(url: str) -> str:
    """``host[:port]`` of a URL, lower-cased: the unit credentials are attached to."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return host if parts.port is None else f"{host}:{parts.port}"


class IndexClient:
    """One pooled ``httpx.Client`` for the whole run; thread-safe (the pool is shared).

    ``transport`` replaces the network (``httpx.MockTransport`` in unit tests); ``sleep`` replaces
    ``time.sleep`` between retries so retry tests take no time.
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        max_connections: int = 32,
        netrc_path: Path | None = None,
        user_agent: str | None = None,
        total_timeout: float | None = None,
    ) -> None:
        self.total_timeout = total_timeout_from_env() if total_timeout is None else total_timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._credentials: dict[str, tuple[str, str]] = {}
        self._url_credentials: dict[str, tuple[str, str]] = {}
        self._netrc_path = netrc_path
        self._netrc: netrc.netrc | None = None
        self._netrc_loaded = False
        self._netrc_lock = threading.Lock()
        self._settings = (transport, timeout, max_connections, user_agent)
        self._made: httpx.Client | None = None
        self._make_lock = threading.Lock()

    @property
    def _client(self) -> httpx.Client:
        """The httpx client, made on first use: a sync whose files are all cached, or an
        offline run, never pays for importing httpx, loading CA certificates and h2."""
        if self._made is None:
            with self._make_lock:
                if self._made is None:
                    self._made = self._make_client()
        return self._made

    def _make_client(self) -> httpx.Client:
        import httpx

        from envspec import __version__

        transport, timeout, max_connections, user_agent = self._settings
        # HTTP/2 is negotiated through ALPN, so it is used exactly where the server offers it
        # (and httpx applies the same settings to the transports it makes for $HTTPS_PROXY).
        return httpx.Client(
            transport=transport,
            http2=_h2_available(),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,
            headers={"User-Agent": user_agent or f"envspec/{__version__}"},
            trust_env=True,
        )

    # -- credentials -------------------------------------------------------------------------

    def register_index(self, url: str) -> str:
        """Remember the credentials in an index URL for its host; return the URL without them."""
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            from urllib.parse import unquote

            self._credentials[host_key(url)] = (
                unquote(parts.username or ""),
                unquote(parts.password or ""),
            )
        return strip_credentials(url)

    def register_url(self, url: str) -> str:
        """Remember the credentials in a file URL (a ``[sources]`` URL as the spec writes it) for
        that URL's redacted form, which is what the lock keeps; return that form."""
        shown = redact_url(url)
        found = url_credentials(url)
        if found is not None and not is_redacted(url):
            self._url_credentials[shown] = found
        return shown

    def _netrc_for(self, host: str) -> tuple[str, str] | None:
        with self._netrc_lock:
            if not self._netrc_loaded:
                self._netrc_loaded = True
                path = self._netrc_path
                if path is None:
                    env = os.environ.get("NETRC")
                    path = Path(env) if env else Path.home() / ".netrc"
                self._netrc = _read_netrc(path)
            if self._netrc is None:
                return None
        entry = self._netrc.authenticators(host)
        if entry is None:
            return None
        login, _account, password = entry
        return login or "", password or ""

    def _auth_for(self, url: str) -> tuple[str, httpx.BasicAuth | None]:
        """The URL to request (never with a userinfo) and the credentials to send with it."""
        import httpx

        request_url = strip_credentials(url)
        creds = url_credentials(url)
        if creds is not None and is_redacted(url):
            creds = self._url_credentials.get(redact_url(url))
        if creds is None:
            creds = self._credentials.get(host_key(url))
        if creds is None:
            creds = self._netrc_for(urlsplit(url).hostname or "")
        return request_url, (httpx.BasicAuth(*creds) if creds is not None else None)

    # -- requests ----------------------------------------------------------------------------

    def _with_retries(self, url: str, attempt: Callable[[], _T]) -> _T:
        """Run ``attempt`` until it succeeds, backing off between tries; then IndexUnavailable."""
        import httpx

        delay = self.backoff
        last_reason = "no attempt was made"
        for number in range(self.retries + 1):
            if number:
                log.debug("retrying %s in %.2fs (%s)", redact_url(url), delay, last_reason)
                self._sleep(delay)
                delay *= 2
            try:
                return attempt()
            except _Retryable as error:
                last_reason = error.reason
            except httpx.TimeoutException as error:
                last_reason = f"timed out ({type(error).__name__})"
            except httpx.TransportError as error:
                last_reason = _describe_transport_error(error)
        tries = self.retries + 1
        raise IndexUnavailable(
            url,
            f"{last_reason} (gave up after {tries} attempt{'s' if tries != 1 else ''})",
            hint="Check the network connection and the index URL, or use --offline with a warm cache.",
        )

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int = MAX_PAGE_BYTES,
    ) -> HttpResponse:
        """GET ``url`` with its body, retried. Any final status but 429/5xx is returned for the
        caller to judge (404 means "not on this index", 304 "your copy is current").

        The body may take at most ``total_timeout`` seconds and ``max_bytes`` bytes; beyond either
        the request fails at once (not retried: a hostile or broken server would only repeat it)."""
        request_url, auth = self._auth_for(url)

        def attempt() -> HttpResponse:
            deadline = time.monotonic() + self.total_timeout
            with self._client.stream("GET", request_url, headers=headers, auth=auth) as response:
                if response.status_code in RETRY_STATUSES:
                    raise _Retryable(f"the server answered HTTP {response.status_code}")
                body = self._bounded_body(url, response, deadline, max_bytes)
                _check_complete(response, len(body))
                return HttpResponse(
                    url=strip_credentials(str(response.url)),
                    status=response.status_code,
                    headers=_lower_headers(response.headers),
                    content=body,
                )

        return self._with_retries(url, attempt)

    def download(
        self,
        url: str,
        open_sink: Callable[[], IO[bytes]],
        *,
        headers: Mapping[str, str] | None = None,
        on_chunk: Callable[[bytes], None] | None = None,
        reset: Callable[[], None] | None = None,
        accept_partial: bool = False,
    ) -> HttpResponse:
        """Stream a 200 body into ``open_sink()`` (called afresh for every attempt), retried.

        ``reset`` is called before each attempt (to reset a running hash). Other final statuses
        are returned without writing, their body read into ``content`` (with ``accept_partial``,
        that is how a 206 answer to a Range request comes back).
        """
        request_url, auth = self._auth_for(url)

        def attempt() -> HttpResponse:
            if reset is not None:
                reset()
            with self._client.stream("GET", request_url, headers=headers, auth=auth) as response:
                final_url = strip_credentials(str(response.url))
                if response.status_code in RETRY_STATUSES:
                    raise _Retryable(f"the server answered HTTP {response.status_code}")
                if response.status_code != 200:
                    body = response.read()
                    if accept_partial and response.status_code == 206:
                        _check_complete(response, len(body))
                    return HttpResponse(
                        url=final_url,
                        status=response.status_code,
                        headers=_lower_headers(response.headers),
                        content=body,
                    )
                received = 0
                started = time.monotonic()
                with open_sink() as sink:
                    for chunk in response.iter_bytes():  # as it arrives, so a drip is seen
                        sink.write(chunk)
                        received += len(chunk)
                        if on_chunk is not None:
                            on_chunk(chunk)
                        self._check_rate(url, started, received)
                _check_complete(response, received)
                return HttpResponse(
                    url=final_url, status=200, headers=_lower_headers(response.headers)
                )

        return self._with_retries(url, attempt)

    def _bounded_body(
        self, url: str, response: httpx.Response, deadline: float, max_bytes: int
    ) -> bytes:
        """The body, streamed, stopping at ``max_bytes`` or the deadline (IndexUnavailable)."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(url, max_bytes, f"it declares {int(declared):,} bytes")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # as it arrives: a chunk size would wait to fill it
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(url, max_bytes, "more was sent")
            if time.monotonic() > deadline:
                raise IndexUnavailable(
                    url,
                    f"the response took longer than {self.total_timeout:g} s "
                    f"({size:,} bytes received)",
                    hint=f"A slow index or network: raise the bound with {TIMEOUT_ENV}=SECONDS.",
                )
        return b"".join(chunks)

    def _check_rate(self, url: str, started: float, received: int) -> None:
        """A download slower than MIN_DOWNLOAD_RATE on average, after the total timeout, stops."""
        elapsed = time.monotonic() - started
        if elapsed > self.total_timeout and received < MIN_DOWNLOAD_RATE * elapsed:
            raise IndexUnavailable(
                url,
                f"the download is too slow ({received:,} bytes in {elapsed:.0f} s, under "
                f"{MIN_DOWNLOAD_RATE // 1024} KiB/s on average)",
                hint=f"A slow index or network: raise the bound with {TIMEOUT_ENV}=SECONDS.",
            )

    def close(self) -> None:
        if self._made is not None:
            self._made.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def total_timeout_from_env() -> float:
    """``ENVSPEC_HTTP_TIMEOUT`` (seconds, > 0), else DEFAULT_TOTAL_TIMEOUT."""
    from envspec.errors import UserError

    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TOTAL_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise UserError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds greater than 0.")
    return value


def _too_large(url: str, limit: int, why: str) -> IndexUnavailable:
    return IndexUnavailable(
        url, f"the response is larger than the {limit // (1024 * 1024)} MiB envspec reads ({why})"
    )


def status_error(url: str, status: int) -> IndexUnavailable:
    """The error for a final status the caller cannot use (401/403 get a credentials hint)."""
    if status in (401, 403):
        word = "authentication required" if status == 401 else "access forbidden"
        if is_redacted(url):
            hint = (
                "The lock keeps no password: envspec takes it from the same URL in the spec "
                "([sources] or name @ URL), else from the netrc file ($NETRC, else ~/.netrc) "
                "for the host."
            )
        elif url_credentials(url) is not None:
            hint = "Check the credentials in the spec's URL, or remove them to use ~/.netrc."
        else:
            hint = "Put credentials in the index URL (https://user:token@host/simple) or in ~/.netrc."
        return IndexUnavailable(url, f"{word} (HTTP {status})", hint=hint)
    return IndexUnavailable(url, f"the server answered HTTP {status}")


def _read_netrc(path: Path) -> netrc.netrc | None:
    """The parsed netrc file, or None (with a one-line warning) when it is unreadable.

    The parser's own message quotes the token it choked on, which is often a password, so it is
    never shown: the warning names the file and the line only."""
    try:
        if not path.is_file():
            return None
        return netrc.netrc(str(path))
    except netrc.NetrcParseError as error:
        where = f"the text near line {error.lineno}" if error.lineno else "it"
        log.warning(
            "ignoring the netrc file %s: %s cannot be parsed; no credentials are taken from it",
            path,
            where,
        )
    except UnicodeError:
        log.warning("ignoring the netrc file %s: it is not UTF-8 text", path)
    except OSError as error:
        log.warning("ignoring the netrc file %s: %s", path, error.strerror or type(error).__name__)
    return None


def _lower_headers(headers: httpx.Headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _check_complete(response: httpx.Response, received: int) -> None:
    """A body shorter than its Content-Length is truncated (a dropped connection): retry it.

    ``received`` is the decoded body length; with a Content-Encoding the raw byte count is used.
    """
    declared = response.headers.get("content-length")
    if declared is None or not declared.isdigit():
        return
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        received = response.num_bytes_downloaded
    if received < int(declared):
        raise _Retryable(f"the body was truncated ({received} of {declared} bytes received)")


def _h2_available() -> bool:
    try:
        import h2  # noqa: F401  (httpx[http2]; without it HTTP/1.1 is used)
    except ImportError:
        return False
    return True


def _describe_transport_error(error: Exception) -> str:
    text = str(error).strip()
    name = type(error).__name__
    return f"{name}: {text}" if text else name

