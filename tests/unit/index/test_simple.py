"""The simple-API page parsers against fixtures/pages: the same facts from JSON and from HTML."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from envspec.index.simple import InvalidIndexPage, parse_html_page, parse_json_page, parse_page

PAGES = Path(__file__).resolve().parents[3] / "fixtures" / "pages"
PAGE_URL = "https://pypi.example.org/simple/example-pkg/"
INDEX_URL = "https://pypi.example.org/simple"


def _parse(kind: str):  # type: ignore[no-untyped-def]
    if kind == "json":
        data = (PAGES / "example-pkg.json").read_bytes()
        return parse_json_page(data, page_url=PAGE_URL, index_url=INDEX_URL)
    data = (PAGES / "example-pkg.html").read_bytes()
    return parse_html_page(data, page_url=PAGE_URL, index_url=INDEX_URL)


@pytest.fixture(params=["json", "html"])
def page(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return _parse(request.param)


def test_name_is_normalised_and_foreign_or_invalid_files_are_skipped(page) -> None:  # type: ignore[no-untyped-def]
    assert page.name == "example-pkg"
    assert page.index_url == INDEX_URL
    assert [f.filename for f in page.files] == [
        "example_pkg-1.0-py3-none-any.whl",
        "example-pkg-1.0.tar.gz",
        "example_pkg-1.1-py3-none-any.whl",
        "example_pkg-0.9-py3-none-any.whl",
        "example_pkg-2.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    ]


def test_relative_urls_resolve_against_the_page_and_hashes_are_lowercase(page) -> None:  # type: ignore[no-untyped-def]
    first = page.files[0]
    assert first.url == "https://pypi.example.org/packages/ab/cd/example_pkg-1.0-py3-none-any.whl"
    assert first.sha256 == "aaaa" + "0" * 59 + "1"
    assert "#" not in first.url


def test_requires_python_is_unescaped(page) -> None:  # type: ignore[no-untyped-def]
    assert page.files[0].requires_python == ">=3.8"
    assert page.files[2].requires_python is None


def test_yanked_with_and_without_reason(page) -> None:  # type: ignore[no-untyped-def]
    wheel_10, _sdist, wheel_11, wheel_09, _wheel_20 = page.files
    assert not wheel_10.yanked and wheel_10.yanked_reason is None
    assert wheel_11.yanked and wheel_11.yanked_reason == "broken on Windows"
    assert wheel_09.yanked and wheel_09.yanked_reason is None


def test_core_metadata_true_hashes_or_absent(page) -> None:  # type: ignore[no-untyped-def]
    wheel_10, sdist, wheel_11, wheel_09, wheel_20 = page.files
    assert wheel_10.metadata_hashes == {"sha256": "bbbb" + "0" * 59 + "2"}
    assert wheel_11.metadata_hashes == {}  # advertised as plain true (old PEP 658 key)
    assert sdist.metadata_hashes is None
    assert wheel_09.metadata_hashes is None
    assert wheel_20.metadata_hashes is None  # "core-metadata": false


def test_hash_in_url_fragment_is_used_when_no_hashes_listed(page) -> None:  # type: ignore[no-untyped-def]
    wheel_20 = page.files[4]
    assert wheel_20.sha256 == "eeee" + "0" * 59 + "5"
    assert wheel_20.url.endswith(".whl")


def test_json_carries_size_and_upload_time_html_does_not() -> None:
    json_page, html_page = _parse("json"), _parse("html")
    assert json_page.files[0].size == 1234
    assert json_page.files[0].upload_time == datetime(
        2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC
    )
    assert json_page.files[1].hashes["md5"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert html_page.files[0].size is None and html_page.files[0].upload_time is None


def test_base_href_and_filename_from_url_when_anchor_text_is_empty() -> None:
    data = (PAGES / "base-href.html").read_bytes()
    page = parse_html_page(data, page_url="https://x.example/simple/tiny/", index_url="https://x.example/simple")
    assert page.name == "tiny"
    assert [(f.filename, f.url) for f in page.files] == [
        ("tiny-0.1.tar.gz", "https://mirror.example.org/root/pkgs/tiny-0.1.tar.gz"),
        ("tiny-0.2-py3-none-any.whl", "https://mirror.example.org/root/pkgs/tiny-0.2-py3-none-any.whl"),
    ]
    assert page.files[0].hashes == {"md5": "d41d8cd98f00b204e9800998ecf8427e"}


def test_credentials_never_reach_file_urls() -> None:
    body = json.dumps(
        {"name": "tiny", "files": [{"filename": "tiny-1.0.tar.gz", "url": "https://u:secret@h.example/tiny-1.0.tar.gz", "hashes": {}}]}
    ).encode()
    page = parse_json_page(body, page_url="https://u:secret@h.example/simple/tiny/", index_url="https://h.example/simple")
    assert page.files[0].url == "https://h.example/tiny-1.0.tar.gz"


def test_dispatch_by_content_type() -> None:
    json_bytes = (PAGES / "example-pkg.json").read_bytes()
    html_bytes = (PAGES / "example-pkg.html").read_bytes()
    as_json = parse_page(json_bytes, content_type="application/vnd.pypi.simple.v1+json", page_url=PAGE_URL, index_url=INDEX_URL)
    as_html = parse_page(html_bytes, content_type="text/html; charset=utf-8", page_url=PAGE_URL, index_url=INDEX_URL)
    assert [f.filename for f in as_json.files] == [f.filename for f in as_html.files]


def test_broken_json_page_is_a_clear_error() -> None:
    with pytest.raises(InvalidIndexPage, match="not valid JSON") as caught:
        parse_json_page(b"<html>", page_url=PAGE_URL, index_url=INDEX_URL)
    assert PAGE_URL in str(caught.value)
    assert caught.value.exit_code == 3
