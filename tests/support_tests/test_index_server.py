"""The loopback index, exercised over real HTTP the way envspec's client and pip will use it."""

from __future__ import annotations

import hashlib
import html.parser
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.index_server import HTML_V1, JSON_V1, negotiate
from tests.support.universe import load_universe

if TYPE_CHECKING:
    from tests.support.fixtures import IndexAppFactory, IndexServerFactory

# the index_server / index_app fixtures (until tests/conftest.py registers them for every test)

PIP_ACCEPT = f"{JSON_V1}, {HTML_V1}; q=0.1, text/html; q=0.01"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module: building an httpx client (its TLS context) costs ~70 ms."""
    with httpx.Client(trust_env=False) as client:
        yield client


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def _anchors(text: str) -> dict[str, dict[str, str | None]]:
    parser = _Links()
    parser.feed(text)
    return {str(a["href"]).rsplit("/", 1)[-1].split("#")[0]: a for a in parser.anchors}


def test_accept_chooses_json_or_html_and_406_when_nothing_fits(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server()
    page = f"{server.url}/app/"
    assert http.get(page).headers["content-type"].startswith("text/html")
    json_page = http.get(page, headers={"Accept": PIP_ACCEPT})
    assert json_page.headers["content-type"] == JSON_V1
    assert json_page.json()["name"] == "app"
    # q-values rank, not the order of the header
    html_page = http.get(page, headers={"Accept": f"{JSON_V1}; q=0.2, {HTML_V1}; q=0.9"})
    assert html_page.headers["content-type"] == HTML_V1
    refused = http.get(page, headers={"Accept": f"application/xml, {JSON_V1}; q=0"})
    assert refused.status_code == 406
    index = http.get(f"{server.url}/", headers={"Accept": JSON_V1}).json()
    assert {p["name"] for p in index["projects"]} >= {"app", "Fancy_Name", "greet"}
    assert index["meta"]["api-version"] == "1.1"


def test_negotiate_prefers_specific_matches_and_the_first_listed_on_ties() -> None:
    offered = ["text/html", HTML_V1, JSON_V1]
    assert negotiate(None, offered) == "text/html"
    assert negotiate("*/*", offered) == "text/html"
    assert negotiate(f"application/*; q=0.5, {JSON_V1}", offered) == JSON_V1
    assert negotiate(f"{JSON_V1}, text/html", offered) == JSON_V1
    assert negotiate("application/vnd.pypi.simple.latest+json", offered) == JSON_V1
    assert negotiate("text/*; q=0.3, */*; q=0.1", offered) == "text/html"
    assert negotiate("image/png", offered) is None


def test_json_project_page_follows_pep_691_and_700(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server()
    page = http.get(f"{server.url}/yanky/", headers={"Accept": JSON_V1}).json()
    assert page["meta"] == {"api-version": "1.1"}
    assert page["versions"] == ["1.0.0", "1.1.0", "1.2.0"]
    files = {f["filename"]: f for f in page["files"]}
    assert files["yanky-1.0.0-py3-none-any.whl"]["yanked"] is False
    assert files["yanky-1.1.0-py3-none-any.whl"]["yanked"] == "broken build"
    assert files["yanky-1.2.0-py3-none-any.whl"]["yanked"] is True
    for entry in page["files"]:
        body = http.get(entry["url"]).content
        assert entry["size"] == len(body)
        assert entry["hashes"]["sha256"] == hashlib.sha256(body).hexdigest()
        assert entry["upload-time"].endswith("Z")
    modern = http.get(f"{server.url}/modern/", headers={"Accept": JSON_V1}).json()
    assert [f["requires-python"] for f in modern["files"]] == [">=3.8", ">=3.10", ">=3.12"]


def test_html_project_page_carries_pep_503_592_658_attributes(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server()
    anchors = _anchors(http.get(f"{server.url}/modern/").text)
    assert anchors["modern-3.0.0-py3-none-any.whl"]["data-requires-python"] == ">=3.12"
    yanked = _anchors(http.get(f"{server.url}/yanky/").text)
    assert "data-yanked" not in yanked["yanky-1.0.0-py3-none-any.whl"]
    assert yanked["yanky-1.1.0-py3-none-any.whl"]["data-yanked"] == "broken build"
    assert yanked["yanky-1.2.0-py3-none-any.whl"]["data-yanked"] == ""
    for anchor in yanked.values():
        href = str(anchor["href"])
        digest = href.split("#sha256=")[1]
        assert hashlib.sha256(http.get(href.split("#")[0]).content).hexdigest() == digest
        assert anchor["data-core-metadata"] == anchor["data-dist-info-metadata"]
    # the raw page escapes '>' in requires-python
    assert 'data-requires-python="&gt;=3.12"' in http.get(f"{server.url}/modern/").text


def test_pep_658_metadata_is_advertised_served_and_can_be_switched_off(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    on = index_server()
    page = http.get(f"{on.url}/http-client/", headers={"Accept": JSON_V1}).json()
    (wheel,) = page["files"]
    served = http.get(wheel["url"] + ".metadata")
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == wheel["core-metadata"]["sha256"]
    assert b"Provides-Extra: socks" in served.content
    sdist_only = http.get(f"{on.url}/sdist-only/", headers={"Accept": JSON_V1}).json()
    assert "core-metadata" not in sdist_only["files"][0]

    off = index_server(metadata=False)
    page = http.get(f"{off.url}/http-client/", headers={"Accept": JSON_V1}).json()
    (wheel,) = page["files"]
    assert "core-metadata" not in wheel and "dist-info-metadata" not in wheel
    assert "data-core-metadata" not in http.get(f"{off.url}/http-client/").text
    assert http.get(wheel["url"] + ".metadata").status_code == 404


def test_range_requests_return_the_right_bytes(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server()
    url = server.file_url("app-1.0.0-py3-none-any.whl")
    full = http.get(url).content
    size = len(full)
    cases = {"bytes=0-9": (0, 9), "bytes=100-": (100, size - 1), "bytes=-22": (size - 22, size - 1)}
    for header, (first, last) in cases.items():
        response = http.get(url, headers={"Range": header})
        assert response.status_code == 206
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert response.headers["accept-ranges"] == "bytes"
        assert response.content == full[first : last + 1]
    head = http.head(url)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(size)
    assert server.requests_for("/files/", method="HEAD")[0].bytes_sent == 0
    too_far = http.get(url, headers={"Range": f"bytes={size}-"})
    assert too_far.status_code == 416
    assert too_far.headers["content-range"] == f"bytes */{size}"

    ignoring = index_server(ranges=False)
    response = http.get(
        ignoring.file_url("app-1.0.0-py3-none-any.whl"), headers={"Range": "bytes=0-9"}
    )
    assert response.status_code == 200 and response.content == full
    assert "accept-ranges" not in response.headers


def test_etag_and_last_modified_allow_conditional_requests(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server()
    page = f"{server.url}/timely/"
    first = http.get(page, headers={"Accept": JSON_V1})
    etag = first.headers["etag"]
    assert first.headers["last-modified"] == "Mon, 01 Sep 2025 10:00:00 GMT"
    again = http.get(page, headers={"Accept": JSON_V1, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # the HTML representation is a different entity
    assert http.get(page, headers={"If-None-Match": etag}).status_code == 200
    since = http.get(page, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304


def test_non_normalised_names_redirect_and_unknown_projects_are_404(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server()
    response = http.get(f"{server.url}/Fancy_Name/")
    assert response.status_code == 301
    assert response.headers["location"] == f"{server.url}/fancy-name/"
    assert http.get(f"{server.url}/app").headers["location"] == f"{server.url}/app/"
    followed = http.get(f"{server.url}/FANCY.name", follow_redirects=True)
    assert followed.status_code == 200 and "fancy_name-1.0.0-py3-none-any.whl" in followed.text
    assert http.get(f"{server.url}/no-such-project/").status_code == 404


def test_relative_file_urls_resolve_against_the_page(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server(absolute_urls=False)
    page = http.get(f"{server.url}/app/", headers={"Accept": JSON_V1})
    relative = page.json()["files"][0]["url"]
    assert not relative.startswith("http")
    assert http.get(str(page.url.join(relative))).status_code == 200


def test_request_log_records_what_was_asked(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server()
    http.get(f"{server.url}/app/", headers={"Accept": JSON_V1})
    url = server.file_url("app-1.0.0-py3-none-any.whl")
    http.get(url, headers={"Range": "bytes=-5"})
    (page,) = server.requests_for("/simple/app/")
    assert (page.method, page.status, page.accept) == ("GET", 200, JSON_V1)
    (ranged,) = server.requests_for("/files/")
    assert (ranged.range, ranged.status, ranged.bytes_sent) == ("bytes=-5", 206, 5)
    assert server.log.downloads() == []
    server.clear()
    assert len(server.log) == 0


def test_injected_failures_and_truncation(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server()
    server.fail_next("/simple/app/", status=503, times=2, retry_after=1)
    statuses = [http.get(f"{server.url}/app/").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert server.requests_for("/simple/app/")[0].status == 503
    url = server.file_url("app-1.0.0-py3-none-any.whl")
    server.truncate_next("/files/app-1.0.0-py3-none-any.whl")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(url)
    assert http.get(url).status_code == 200


def test_basic_auth_is_required_when_configured(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server(auth=("alice", "s3cret"))
    denied = http.get(f"{server.url}/app/")
    assert denied.status_code == 401 and "basic" in denied.headers["www-authenticate"].lower()
    assert http.get(f"{server.url}/app/", auth=("alice", "wrong")).status_code == 401
    assert http.get(f"{server.url}/app/", auth=("alice", "s3cret")).status_code == 200
    assert [r.authorization for r in server.log] == [False, True, True]


def test_html_only_index_ignores_a_request_for_json(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server(html_only=True)
    response = http.get(f"{server.url}/app/", headers={"Accept": JSON_V1})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


def test_serve_once_refuses_a_second_full_download(
    index_server: IndexServerFactory, http: httpx.Client
) -> None:
    server = index_server(serve_once=True)
    url = server.file_url("app-1.0.0-py3-none-any.whl")
    assert http.get(url).status_code == 200
    assert http.get(url, headers={"Range": "bytes=0-3"}).status_code == 206  # partial is fine
    assert http.get(url).status_code == 500
    assert server.violations == ["/files/app-1.0.0-py3-none-any.whl was downloaded 2 times"]
    server.violations.clear()  # this test wanted the breach; don't fail it at teardown


def test_in_process_transport_serves_the_same_bytes(
    index_app: IndexAppFactory, index_server: IndexServerFactory, http: httpx.Client
) -> None:
    app = index_app()
    with httpx.Client(transport=app.transport(), base_url="http://index.test") as client:
        page = client.get("/simple/top/", headers={"Accept": JSON_V1}).json()
        in_process = {f["filename"]: f["hashes"]["sha256"] for f in page["files"]}
        assert page["files"][0]["url"].startswith("http://index.test/files/")
    server = index_server()
    over_http = http.get(f"{server.url}/top/", headers={"Accept": JSON_V1}).json()
    assert in_process == {f["filename"]: f["hashes"]["sha256"] for f in over_http["files"]}


@pytest.mark.slow
def test_pip_resolves_and_installs_from_the_index(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    server = index_server(serve_once=True)
    target = tmp_path / "target"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "--index-url",
            server.url,
            "--target",
            str(target),
            "top",
        ],
        check=True,
        capture_output=True,
    )
    installed = {p.name for p in target.glob("*.dist-info")}
    # left wants base<3 and right wants base>=2: the newest base satisfying both
    universe = load_universe("basic")
    base = max(v for v in universe.versions("base") if 2 <= v.major < 3)
    assert installed == {
        "top-1.0.0.dist-info",
        "left-1.0.0.dist-info",
        "right-1.0.0.dist-info",
        f"base-{base}.dist-info",
    }
    assert f"__version__ = '{base}'" in (target / "base" / "__init__.py").read_text()
    assert server.requests_for("/files/base-1.0.0") == []
