"""The one HTTP client: exact requests, retries with backoff, truncation, credentials, lazy httpx."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from envspec.index.client import SIMPLE_ACCEPT, IndexClient, IndexUnavailable
from envspec.index.source import IndexSource
from envspec.spec.model import Index

PAGE = json.dumps(
    {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [
            {"filename": "demo-1.0-py3-none-any.whl", "url": "/files/demo-1.0-py3-none-any.whl", "hashes": {}}
        ],
    }
).encode()
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class Recorder:
    """A MockTransport handler that answers from a list of canned responses and records requests."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _client(handler: Recorder, sleeps: list[float] | None = None, **kwargs: object) -> IndexClient:
    return IndexClient(
        transport=httpx.MockTransport(handler),
        sleep=(sleeps.append if sleeps is not None else lambda _: None),
        **kwargs,  # type: ignore[arg-type]
    )


def test_retries_5xx_with_exponential_backoff_then_succeeds() -> None:
    handler = Recorder(httpx.Response(503), httpx.Response(502), httpx.Response(200, content=b"ok"))
    sleeps: list[float] = []
    with _client(handler, sleeps, backoff=0.1) as client:
        response = client.get("https://idx.example/simple/demo/")
    assert response.status == 200 and response.content == b"ok"
    assert len(handler.requests) == 3
    assert sleeps == [0.1, 0.2]


def test_gives_up_with_index_unavailable_naming_url_and_reason() -> None:
    handler = Recorder(httpx.Response(503))
    sleeps: list[float] = []
    with _client(handler, sleeps, retries=2) as client, pytest.raises(IndexUnavailable) as caught:
        client.get("https://idx.example/simple/demo/")
    message = str(caught.value)
    assert "https://idx.example/simple/demo/" in message
    assert "HTTP 503" in message and "3 attempts" in message
    assert caught.value.exit_code == 3
    assert len(handler.requests) == 3 and len(sleeps) == 2


def test_connection_errors_are_retried() -> None:
    handler = Recorder(httpx.ConnectError("refused"), httpx.Response(200, content=b"ok"))
    with _client(handler) as client:
        assert client.get("https://idx.example/x").content == b"ok"
    failing = _client(Recorder(httpx.ConnectError("refused")), retries=1)
    with failing, pytest.raises(IndexUnavailable, match="ConnectError: refused"):
        failing.get("https://idx.example/x")


def test_truncated_body_is_retried() -> None:
    short = httpx.Response(200, headers={"Content-Length": "100"}, content=b"half")
    handler = Recorder(short, httpx.Response(200, content=b"complete"))
    with _client(handler) as client:
        assert client.get("https://idx.example/x").content == b"complete"
    assert len(handler.requests) == 2


def test_404_is_returned_not_raised() -> None:
    with _client(Recorder(httpx.Response(404))) as client:
        assert client.get("https://idx.example/x").status == 404


def test_project_page_request_asks_for_json_first(tmp_path: Path) -> None:
    handler = Recorder(httpx.Response(200, headers={"Content-Type": JSON_TYPE}, content=PAGE))
    with IndexSource(
        [Index(name="i", url="https://idx.example/simple/")],
        cache_dir=tmp_path,
        transport=httpx.MockTransport(handler),
    ) as source:
        files = source.project("Demo")
    (request,) = handler.requests
    assert str(request.url) == "https://idx.example/simple/demo/"
    assert request.headers["Accept"] == SIMPLE_ACCEPT
    assert request.headers["User-Agent"].startswith("envspec/")
    assert files.files[0].url == "https://idx.example/files/demo-1.0-py3-none-any.whl"


def test_url_credentials_become_basic_auth_and_never_appear_elsewhere(tmp_path: Path) -> None:
    handler = Recorder(
        httpx.Response(200, headers={"Content-Type": JSON_TYPE}, content=PAGE), httpx.Response(401)
    )
    with IndexSource(
        [Index(name="i", url="https://alice:s3cret@idx.example/simple")],
        cache_dir=tmp_path,
        transport=httpx.MockTransport(handler),
    ) as source:
        page = source.project("demo")
        with pytest.raises(IndexUnavailable) as caught:
            source.download(page.files[0])
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert [r.headers.get("Authorization") for r in handler.requests] == [expected, expected]
    assert all("s3cret" not in str(r.url) for r in handler.requests)
    assert page.index_url == "https://idx.example/simple"
    assert "s3cret" not in page.files[0].url and "alice" not in page.files[0].url
    assert "HTTP 401" in str(caught.value) and "s3cret" not in str(caught.value)
    assert "s3cret" not in (caught.value.hint or "")
    cached = b"".join(p.read_bytes() + str(p).encode() for p in tmp_path.rglob("*") if p.is_file())
    assert b"s3cret" not in cached


def test_url_credentials_are_not_sent_to_another_host() -> None:
    handler = Recorder(httpx.Response(200))
    with _client(handler) as client:
        client.register_index("https://alice:s3cret@idx.example/simple")
        client.get("https://files.example/demo.whl")
        client.get("https://idx.example/demo.whl")
    assert "Authorization" not in handler.requests[0].headers
    assert "Authorization" in handler.requests[1].headers


def test_netrc_credentials_for_the_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine idx.example login bob password hunter2\n")
    monkeypatch.setenv("NETRC", str(netrc))
    handler = Recorder(httpx.Response(200))
    with _client(handler) as client:
        client.get("https://idx.example/simple/demo/")
        client.get("https://elsewhere.example/simple/demo/")
    assert handler.requests[0].headers["Authorization"] == "Basic " + base64.b64encode(b"bob:hunter2").decode()
    assert "Authorization" not in handler.requests[1].headers


def test_importing_the_index_package_does_not_import_httpx() -> None:
    code = (
        "import sys, envspec.index, envspec.index.source\n"
        "assert 'httpx' not in sys.modules, 'httpx imported at module level'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
