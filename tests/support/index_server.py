"""A package index over a test universe: PEP 503/691/658/700/714 and Range requests, on loopback.

envspec's index client, resolver, lock and sync must be tested against a real index protocol, never
against the live PyPI. This module is that index: one WSGI app (:class:`IndexApp`) over the files
:mod:`tests.support.wheels` builds from a :class:`~tests.support.universe.Universe`. It is used two
ways:

- in-process, through ``httpx.WSGITransport(app=app)`` (``app.transport()``), for speed;
- over real HTTP, by :class:`IndexServer` (stdlib ``wsgiref`` plus ``ThreadingMixIn`` on
  ``127.0.0.1``, port 0, daemon thread), for subprocesses such as the e2e CLI tests and pip.

Routes: ``/simple/`` (index), ``/simple/<name>/`` (project page; non-normalised names get a 301 to
the normalised URL, as on PyPI), ``/files/<filename>`` (a distribution, with Range support) and
``/files/<wheel>.metadata`` (PEP 658). ``Accept`` chooses PEP 691 JSON or PEP 503 HTML (q-values
honoured, HTML by default, 406 if nothing acceptable). Project pages carry an ETag and
Last-Modified and answer conditional requests with 304.

Switches model the indexes envspec meets: ``metadata=False`` (no PEP 658, like the mirror on our
machines), ``ranges=False`` (Range ignored), ``html_only=True`` (a static PEP 503 index),
``absolute_urls=False`` (relative file links), ``auth=(user, password)`` (HTTP basic auth) and
``serve_once=True`` (a full download of any file a second time is an error: a cache test for free).
Every request is logged, and ``fail_next`` / ``truncate_next`` inject faults for retry tests.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from packaging.utils import NormalizedName, canonicalize_name

from tests.support.universe import Universe, load_universe
from tests.support.wheels import Artifact, ArtifactCache, BuiltUniverse, build_universe

if TYPE_CHECKING:
    import httpx
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "HTML_TEXT",
    "HTML_V1",
    "JSON_V1",
    "IndexApp",
    "IndexServer",
    "RequestLog",
    "RequestRecord",
    "negotiate",
]

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
HTML_TEXT = "text/html"
API_VERSION = "1.1"
_ALIASES = {
    "application/vnd.pypi.simple.latest+json": JSON_V1,
    "application/vnd.pypi.simple.latest+html": HTML_V1,
}
_CONTENT_TYPES = {JSON_V1: JSON_V1, HTML_V1: HTML_V1, HTML_TEXT: "text/html; charset=utf-8"}
_REASONS = {
    200: "OK",
    206: "Partial Content",
    301: "Moved Permanently",
    304: "Not Modified",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    416: "Range Not Satisfiable",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    """One request the index answered."""

    method: str
    path: str
    """The request path, percent-decoded, without the query string."""
    query: str
    accept: str | None
    range: str | None
    if_none_match: str | None
    if_modified_since: str | None
    authorization: bool
    """Whether an Authorization header was sent (its value is never recorded)."""
    user_agent: str | None
    status: int
    content_type: str | None
    bytes_sent: int
    """Body bytes actually sent (fewer than Content-Length for a truncated response)."""


class RequestLog:
    """The requests an index answered, in order. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def requests_for(self, path_prefix: str, *, method: str | None = None) -> list[RequestRecord]:
        """Records whose path starts with ``path_prefix`` (and, if given, with that method)."""
        return [
            record
            for record in self.records()
            if record.path.startswith(path_prefix) and (method is None or record.method == method)
        ]

    def downloads(self) -> list[RequestRecord]:
        """Full (200) GETs of distribution and ``.metadata`` files."""
        return [r for r in self.requests_for("/files/", method="GET") if r.status == 200]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.records())


def negotiate(accept: str | None, offered: Iterable[str]) -> str | None:
    """The offered media type the ``Accept`` header prefers (RFC 9110 §12.5.1), or None if none is
    acceptable. No header (or an empty one) accepts the first offered type. Among equal q-values the
    more specific match wins, then the range the client listed first, then the server's order."""
    offered = list(offered)
    if not accept or not accept.strip():
        return offered[0] if offered else None
    ranges: list[tuple[str, float, int]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        media = _ALIASES.get(media.lower(), media.lower())
        if "/" not in media:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0.0 <= quality <= 1.0:
            ranges.append((media, quality, position))
    best: tuple[float, int, int, int] | None = None
    chosen: str | None = None
    for server_rank, candidate in enumerate(offered):
        kind, _, _ = candidate.partition("/")
        match: tuple[int, float, int] | None = None  # (specificity, q, position)
        for media, quality, position in ranges:
            if media == candidate:
                specificity = 2
            elif media == f"{kind}/*":
                specificity = 1
            elif media == "*/*":
                specificity = 0
            else:
                continue
            if match is None or specificity > match[0]:
                match = (specificity, quality, position)
        if match is None or match[1] <= 0.0:
            continue
        rank = (-match[1], -match[0], match[2], server_rank)
        if best is None or rank < best:
            best, chosen = rank, candidate
    return chosen


@dataclass(slots=True)
class _Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass(slots=True)
class _Fault:
    status: int
    remaining: int
    retry_after: int | None


class IndexApp:
    """The WSGI application. Switches are plain attributes and may be changed between requests."""

    def __init__(
        self,
        universe: Universe | str,
        *,
        built: BuiltUniverse | None = None,
        cache: ArtifactCache | None = None,
        metadata: bool = True,
        ranges: bool = True,
        absolute_urls: bool = True,
        html_only: bool = False,
        serve_once: bool = False,
        auth: tuple[str, str] | None = None,
        cache_control: str | None = "max-age=0, must-revalidate",
    ) -> None:
        self.universe = load_universe(universe) if isinstance(universe, str) else universe
        self.built = built or build_universe(self.universe, cache=cache)
        self.metadata = metadata
        self.ranges = ranges
        self.absolute_urls = absolute_urls
        self.html_only = html_only
        self.serve_once = serve_once
        self.auth = auth
        self.cache_control = cache_control
        self.log = RequestLog()
        self.violations: list[str] = []
        """``serve_once`` breaches, as messages; a fixture fails the test if any is left."""
        self._lock = threading.Lock()
        self._failures: dict[str, _Fault] = {}
        self._truncations: dict[str, int] = {}
        self._served: dict[str, int] = {}

    # ── fault injection ────────────────────────────────────────────────────────────────────────
    def fail_next(
        self, path: str, status: int = 503, times: int = 1, *, retry_after: int | None = None
    ) -> None:
        """Answer the next ``times`` requests for exactly ``path`` (e.g. ``/simple/app/``) with
        ``status`` instead of the real response, optionally with a ``Retry-After`` header."""
        with self._lock:
            self._failures[path] = _Fault(status=status, remaining=times, retry_after=retry_after)

    def truncate_next(self, path: str, times: int = 1) -> None:
        """Send only half of the body of the next ``times`` responses for ``path`` while announcing
        the full Content-Length (a dropped connection mid-download, over real HTTP)."""
        with self._lock:
            self._truncations[path] = times

    def requests_for(self, path_prefix: str, *, method: str | None = None) -> list[RequestRecord]:
        return self.log.requests_for(path_prefix, method=method)

    def clear(self) -> None:
        """Forget the request log, the download counts of ``serve_once`` and pending faults."""
        self.log.clear()
        with self._lock:
            self._failures.clear()
            self._truncations.clear()
            self._served.clear()
            self.violations.clear()

    def transport(self) -> httpx.WSGITransport:
        """An httpx transport that calls this app in-process (no socket)."""
        import httpx

        return httpx.WSGITransport(app=self)

    # ── WSGI ───────────────────────────────────────────────────────────────────────────────────
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = _request_path(environ)
        response = self._respond(method, path, environ)
        body = response.body
        bytes_sent = len(body)
        with self._lock:
            remaining = self._truncations.get(path, 0)
            if remaining and len(body) > 1 and method != "HEAD":
                self._truncations[path] = remaining - 1
                bytes_sent = len(body) // 2
        if method == "HEAD":
            bytes_sent = 0
        self.log.append(
            RequestRecord(
                method=method,
                path=path,
                query=str(environ.get("QUERY_STRING", "")),
                accept=environ.get("HTTP_ACCEPT"),
                range=environ.get("HTTP_RANGE"),
                if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
                if_modified_since=environ.get("HTTP_IF_MODIFIED_SINCE"),
                authorization="HTTP_AUTHORIZATION" in environ,
                user_agent=environ.get("HTTP_USER_AGENT"),
                status=response.status,
                content_type=next(
                    (value for key, value in response.headers if key == "Content-Type"), None
                ),
                bytes_sent=bytes_sent,
            )
        )
        reason = _REASONS.get(response.status, "Status")
        start_response(f"{response.status} {reason}", response.headers)
        return [body[:bytes_sent]] if bytes_sent else []

    def _respond(self, method: str, path: str, environ: WSGIEnvironment) -> _Response:
        if self.auth is not None and not self._authorized(environ):
            return _text(
                401,
                "authentication required\n",
                [("WWW-Authenticate", 'Basic realm="envspec-test"')],
            )
        with self._lock:
            fault = self._failures.get(path)
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._failures[path]
        if fault is not None:
            extra = (
                [("Retry-After", str(fault.retry_after))] if fault.retry_after is not None else []
            )
            return _text(fault.status, f"injected failure {fault.status}\n", extra)
        if method not in {"GET", "HEAD"}:
            return _text(405, f"method {method} not allowed\n", [("Allow", "GET, HEAD")])
        base = _origin(environ)
        if path == "/simple":
            return self._redirect(base, "/simple/")
        if path == "/simple/":
            return self._index_page(environ)
        if path.startswith("/simple/"):
            raw_name = path[len("/simple/") :]
            trailing = raw_name.endswith("/")
            raw_name = raw_name.rstrip("/")
            if not raw_name or "/" in raw_name:
                return _text(404, "not found\n")
            name = canonicalize_name(raw_name)
            if name not in self.universe.releases:
                return _text(404, f"no project named {raw_name!r}\n")
            if raw_name != name or not trailing:
                return self._redirect(base, f"/simple/{name}/")
            return self._project_page(name, environ)
        if path.startswith("/files/"):
            return self._file(method, path[len("/files/") :], environ)
        return _text(404, "not found\n")

    def _authorized(self, environ: WSGIEnvironment) -> bool:
        assert self.auth is not None
        expected = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode("ascii")
        return bool(environ.get("HTTP_AUTHORIZATION", "") == f"Basic {expected}")

    def _redirect(self, base: str, target: str) -> _Response:
        location = f"{base}{target}" if self.absolute_urls else target
        return _text(301, f"moved to {location}\n", [("Location", location)])

    # ── pages ──────────────────────────────────────────────────────────────────────────────────
    def _choose(self, environ: WSGIEnvironment) -> str | None:
        if self.html_only:
            return HTML_TEXT
        return negotiate(environ.get("HTTP_ACCEPT"), [HTML_TEXT, HTML_V1, JSON_V1])

    def _index_page(self, environ: WSGIEnvironment) -> _Response:
        chosen = self._choose(environ)
        if chosen is None:
            return _not_acceptable()
        base = _origin(environ) if self.absolute_urls else ""
        releases = self.universe.all_releases()
        names = [
            (
                name,
                self.universe.releases[name][next(iter(self.universe.releases[name]))].project_name,
            )
            for name in self.universe.project_names()
        ]
        if chosen == JSON_V1:
            body = _json(
                {"meta": {"api-version": API_VERSION}, "projects": [{"name": d} for _, d in names]}
            )
        else:
            links = "".join(
                f'    <a href="{html.escape(f"{base}/simple/{n}/")}">{html.escape(d)}</a><br/>\n'
                for n, d in names
            )
            body = _html_document("Simple index", links)
        last = max((r.upload_time for r in releases), default=None)
        return self._page(body, chosen, last, environ)

    def _project_page(self, name: NormalizedName, environ: WSGIEnvironment) -> _Response:
        chosen = self._choose(environ)
        if chosen is None:
            return _not_acceptable()
        versions = self.universe.releases[name]
        artifacts = self.built.for_project(name)
        if chosen == JSON_V1:
            body = _json(
                {
                    "meta": {"api-version": API_VERSION},
                    "name": name,
                    "versions": [str(v) for v in sorted(versions)],
                    "files": [self._file_json(a, environ) for a in artifacts],
                }
            )
        else:
            display = next(iter(versions.values())).project_name
            links = "".join(self._file_link(a, environ) for a in artifacts)
            body = _html_document(f"Links for {display}", links)
        last = max((r.upload_time for r in versions.values()), default=None)
        return self._page(body, chosen, last, environ)

    def _page(
        self, body: bytes, chosen: str, last_modified: datetime | None, environ: WSGIEnvironment
    ) -> _Response:
        etag = f'"{hashlib.sha256(body).hexdigest()}"'
        headers = [("Content-Type", _CONTENT_TYPES[chosen]), ("ETag", etag), ("Vary", "Accept")]
        if last_modified is not None:
            headers.append(("Last-Modified", format_datetime(last_modified, usegmt=True)))
        if self.cache_control:
            headers.append(("Cache-Control", self.cache_control))
        if _not_modified(environ, etag, last_modified):
            return _Response(304, headers)
        headers.append(("Content-Length", str(len(body))))
        return _Response(200, headers, body)

    def _file_url(self, artifact: Artifact, environ: WSGIEnvironment) -> str:
        if self.absolute_urls:
            return f"{_origin(environ)}/files/{quote(artifact.filename)}"
        return f"../../files/{quote(artifact.filename)}"  # relative to /simple/<name>/

    def _advertises_metadata(self, artifact: Artifact) -> bool:
        return self.metadata and artifact.kind == "wheel"

    def _file_json(self, artifact: Artifact, environ: WSGIEnvironment) -> dict[str, Any]:
        release = artifact.release
        entry: dict[str, Any] = {
            "filename": artifact.filename,
            "url": self._file_url(artifact, environ),
            "hashes": {"sha256": artifact.sha256},
        }
        if release.requires_python is not None:
            entry["requires-python"] = release.requires_python
        entry["yanked"] = release.yanked
        entry["size"] = artifact.size
        entry["upload-time"] = _iso_z(release.upload_time)
        if self._advertises_metadata(artifact):
            entry["core-metadata"] = {"sha256": artifact.metadata_sha256}
            entry["dist-info-metadata"] = {"sha256": artifact.metadata_sha256}
        return entry

    def _file_link(self, artifact: Artifact, environ: WSGIEnvironment) -> str:
        release = artifact.release
        href = f"{self._file_url(artifact, environ)}#sha256={artifact.sha256}"
        attributes = [f'href="{html.escape(href)}"']
        if release.requires_python is not None:
            attributes.append(f'data-requires-python="{html.escape(release.requires_python)}"')
        if release.is_yanked:
            attributes.append(f'data-yanked="{html.escape(release.yanked_reason or "")}"')
        if self._advertises_metadata(artifact):
            value = f"sha256={artifact.metadata_sha256}"
            attributes.append(f'data-dist-info-metadata="{value}"')
            attributes.append(f'data-core-metadata="{value}"')
        return f"    <a {' '.join(attributes)}>{html.escape(artifact.filename)}</a><br/>\n"

    # ── files ──────────────────────────────────────────────────────────────────────────────────
    def _file(self, method: str, filename: str, environ: WSGIEnvironment) -> _Response:
        data: bytes
        if filename.endswith(".metadata"):
            artifact = self.built.artifacts.get(filename[: -len(".metadata")])
            if artifact is None or not self._advertises_metadata(artifact):
                return _text(404, "not found\n")
            data, content_type = artifact.metadata, "application/octet-stream"
        else:
            artifact = self.built.artifacts.get(filename)
            if artifact is None:
                return _text(404, "not found\n")
            data = artifact.data
            content_type = (
                "application/octet-stream" if artifact.kind == "wheel" else "application/gzip"
            )
        headers = [("Content-Type", content_type)]
        if self.ranges:
            headers.append(("Accept-Ranges", "bytes"))
        headers.append(
            ("Last-Modified", format_datetime(artifact.release.upload_time, usegmt=True))
        )
        wanted = _parse_range(environ.get("HTTP_RANGE"), len(data)) if self.ranges else None
        if isinstance(wanted, str):  # "unsatisfiable"
            headers.append(("Content-Range", f"bytes */{len(data)}"))
            return _text(416, "range not satisfiable\n", headers[1:])
        if wanted is not None:
            start, end = wanted
            part = data[start : end + 1]
            headers += [
                ("Content-Range", f"bytes {start}-{end}/{len(data)}"),
                ("Content-Length", str(len(part))),
            ]
            return _Response(206, headers, part)
        if self.serve_once and method == "GET":
            with self._lock:
                count = self._served.get(filename, 0) + 1
                self._served[filename] = count
                if count > 1:
                    self.violations.append(f"/files/{filename} was downloaded {count} times")
            if count > 1:
                return _text(500, f"serve_once: /files/{filename} was already downloaded\n")
        headers.append(("Content-Length", str(len(data))))
        return _Response(200, headers, data)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class IndexServer:
    """An :class:`IndexApp` served over real HTTP on ``127.0.0.1`` (port chosen by the OS).

    Use as a context manager, or ``start()`` / ``stop()``. ``url`` is the simple-API root
    (``http://127.0.0.1:PORT/simple``); attribute access falls through to the app, so
    ``server.fail_next(...)``, ``server.log`` and ``server.metadata = False`` work.
    """

    def __init__(self, app: IndexApp | Universe | str, **switches: Any) -> None:
        self.app = app if isinstance(app, IndexApp) else IndexApp(app, **switches)
        if isinstance(app, IndexApp) and switches:
            raise TypeError("pass switches to IndexApp, or a universe and switches to IndexServer")
        self._server: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = make_server(
            "127.0.0.1",
            0,
            self.app,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        assert isinstance(server, _ThreadingWSGIServer)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"index-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the index server is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The simple-API root, ``http://127.0.0.1:PORT/simple``: what a spec's [[index]] names."""
        return f"{self.base_url}/simple"

    def url_with_auth(self, user: str | None = None, password: str | None = None) -> str:
        """``url`` with credentials in it (defaults: the server's ``auth``)."""
        user = user if user is not None else (self.app.auth or ("", ""))[0]
        password = password if password is not None else (self.app.auth or ("", ""))[1]
        return (
            f"http://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}/simple"
        )

    def file_url(self, filename: str) -> str:
        return f"{self.base_url}/files/{quote(filename)}"

    def __getattr__(self, name: str) -> Any:
        # only called for attributes IndexServer lacks: delegate to the app (log, fail_next, ...)
        if name.startswith("_") or name == "app":
            raise AttributeError(name)
        return getattr(self.app, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in {"app", "_server", "_thread"}:
            object.__setattr__(self, name, value)
        else:
            setattr(self.app, name, value)


# ── helpers ────────────────────────────────────────────────────────────────────────────────────
def _request_path(environ: WSGIEnvironment) -> str:
    # wsgiref percent-decodes PATH_INFO as latin-1 (PEP 3333); httpx's WSGITransport decodes it too.
    raw = str(environ.get("PATH_INFO", "/"))
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def _origin(environ: WSGIEnvironment) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST")
    if not host:
        host = f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
    return f"{scheme}://{host}"


def _text(status: int, text: str, headers: list[tuple[str, str]] | None = None) -> _Response:
    body = text.encode("utf-8")
    return _Response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            *(headers or []),
            ("Content-Length", str(len(body))),
        ],
        body,
    )


def _not_acceptable() -> _Response:
    offered = f"{JSON_V1}, {HTML_V1}, {HTML_TEXT}"
    return _text(406, f"none of the offered types is acceptable: {offered}\n")


def _json(data: object) -> bytes:
    return json.dumps(data, indent=1).encode("utf-8")


def _html_document(title: str, links: str) -> bytes:
    escaped = html.escape(title)
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{escaped}</title>\n  </head>\n  <body>\n    <h1>{escaped}</h1>\n"
        f"{links}  </body>\n</html>\n"
    ).encode()


def _iso_z(instant: datetime) -> str:
    text = instant.strftime("%Y-%m-%dT%H:%M:%S")
    if instant.microsecond:
        text += f".{instant.microsecond:06d}"
    return text + "Z"


def _not_modified(environ: WSGIEnvironment, etag: str, last_modified: datetime | None) -> bool:
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if if_modified_since and last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return last_modified.replace(microsecond=0) <= since
    return False


def _parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """``(first, last)`` inclusive, ``"unsatisfiable"``, or None to ignore the header (absent,
    malformed, or several ranges, which a server may always answer with the full body)."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash:
        return None
    first_text, last_text = first_text.strip(), last_text.strip()
    try:
        if not first_text:  # suffix: the last n bytes
            length = int(last_text)
            if length <= 0 or size == 0:
                return "unsatisfiable"
            return max(0, size - length), size - 1
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
    except ValueError:
        return None
    if first < 0 or (last_text and last < first):
        return None
    if first >= size:
        return "unsatisfiable"
    return first, min(last, size - 1)
