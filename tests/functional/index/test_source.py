"""IndexSource against the real loopback index server (tests/support/index_server.py) over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from envspec.index import IndexSource, IndexUnavailable, OfflineMiss
from envspec.index.metadata import BuildNotSupported
from envspec.values.files import FileInfo
from envspec.resolve.source import PackageNotFound
from envspec.spec.model import Index
from tests.support.fixtures import IndexServerFactory
from tests.support.index_server import IndexServer
from tests.support.universe import universe_from_dict

NO_SLEEP = {"sleep": lambda _: None}


def _source(cache: Path, *urls: str, **kwargs: object) -> IndexSource:
    indexes = [Index(name=f"i{n}", url=url) for n, url in enumerate(urls)]
    return IndexSource(indexes, cache_dir=cache, **{**NO_SLEEP, **kwargs})  # type: ignore[arg-type]


def _wheel(source: IndexSource, name: str, version: str | None = None) -> FileInfo:
    files = [f for f in source.project(canonicalize_name(name)).files if f.kind == "wheel"]
    if version is not None:
        files = [f for f in files if str(f.name_and_version()[1]) == version]  # type: ignore[index]
    return files[-1]


def _file_requests(server: IndexServer, filename: str) -> list[tuple[int, str | None]]:
    return [(r.status, r.range) for r in server.log if r.path == f"/files/{filename}"]


def test_metadata_via_pep658_file(index_server: IndexServerFactory, tmp_path: Path) -> None:
    server = index_server("basic")
    with _source(tmp_path, server.url) as source:
        wheel = _wheel(source, "app", "2.0.0")
        metadata = source.metadata(wheel)
    assert [str(r) for r in metadata.requires_dist] == ["lib-a>=2"]
    assert str(metadata.requires_python) == ">=3.8"
    assert wheel.metadata_hashes and wheel.upload_time is not None and wheel.size
    assert _file_requests(server, f"{wheel.filename}.metadata") == [(200, None)]
    assert _file_requests(server, wheel.filename) == []


def test_metadata_via_range_requests_never_downloads_the_wheel(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    server = index_server("basic", metadata=False, serve_once=True)
    with _source(tmp_path, server.url) as source:
        wheel = _wheel(source, "bulky")
        assert wheel.metadata_hashes is None and wheel.size and wheel.size > 200_000
        metadata = source.metadata(wheel)
        small = _wheel(source, "app", "1.0.0")
        assert [str(r) for r in source.metadata(small).requires_dist] == ["lib-a>=1"]
    assert [str(r) for r in metadata.requires_dist] == ["base"]
    requests = _file_requests(server, wheel.filename)
    assert requests and all(status == 206 and rng for status, rng in requests)
    assert server.log.downloads() == []
    assert sum(r.bytes_sent for r in server.log.requests_for("/files/")) < wheel.size


def test_metadata_via_full_download_when_ranges_are_ignored(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    server = index_server("basic", metadata=False, ranges=False, serve_once=True)
    with _source(tmp_path, server.url) as source:
        wheel = _wheel(source, "bulky")
        assert [str(r) for r in source.metadata(wheel).requires_dist] == ["base"]
        path = source.download(wheel)  # already cached by the metadata download: no second GET
    assert path.stat().st_size == wheel.size
    assert [r.path for r in server.log.downloads()] == [f"/files/{wheel.filename}"]


def test_html_only_index(index_server: IndexServerFactory, tmp_path: Path) -> None:
    server = index_server("basic", html_only=True)
    with _source(tmp_path, server.url) as source:
        files = source.project(canonicalize_name("yanky")).files
        wheel = _wheel(source, "lib-a", "2.0.0")
        metadata = source.metadata(wheel)
    assert {r.content_type for r in server.log.requests_for("/simple/")} == {"text/html; charset=utf-8"}
    yanked = {str(f.name_and_version()[1]): (f.yanked, f.yanked_reason) for f in files}  # type: ignore[index]
    assert yanked["1.0.0"] == (False, None)
    assert yanked["1.1.0"] == (True, "broken build")
    assert yanked["1.2.0"][0] is True
    assert wheel.sha256 and [str(r) for r in metadata.requires_dist] == ["lib-b>=1.1"]


def test_sdist_metadata_static_or_refused(index_server: IndexServerFactory, tmp_path: Path) -> None:
    server = index_server("basic")
    with _source(tmp_path, server.url) as source:
        (static,) = source.project(canonicalize_name("sdist-only")).files
        assert [str(r) for r in source.metadata(static).requires_dist] == ["base"]
        (dynamic,) = source.project(canonicalize_name("dyn-sdist")).files
        with pytest.raises(BuildNotSupported, match="dyn-sdist|dyn_sdist"):
            source.metadata(dynamic)


def test_two_indexes_first_wins_never_merged(index_server: IndexServerFactory, tmp_path: Path) -> None:
    private = index_server(
        universe_from_dict("private", {"packages": {"base": {"9.0.0": {}}, "secret": {"1.0.0": {}}}})
    )
    public = index_server("basic")
    with _source(tmp_path, private.url, public.url) as source:
        base = source.project(canonicalize_name("base"))
        app = source.project(canonicalize_name("app"))
        with pytest.raises(PackageNotFound, match="nothing-here"):
            source.project(canonicalize_name("nothing-here"))
    assert base.index_url == private.url
    assert [str(f.name_and_version()[1]) for f in base.files] == ["9.0.0"]  # type: ignore[index]
    assert app.index_url == public.url
    assert public.log.requests_for("/simple/base/") == []


def test_index_restricted_to_packages_is_asked_only_about_them(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    private = index_server(universe_from_dict("private", {"packages": {"base": {"9.0.0": {}}}}))
    public = index_server("basic")
    indexes = [
        Index(name="private", url=private.url, packages=frozenset({canonicalize_name("secret")})),
        Index(name="public", url=public.url),
    ]
    with IndexSource(indexes, cache_dir=tmp_path) as source:
        assert source.project(canonicalize_name("base")).index_url == public.url
    assert len(private.log) == 0


def test_auth_from_the_index_url(index_server: IndexServerFactory, tmp_path: Path) -> None:
    server = index_server("basic", auth=("alice", "s3cret-token"))
    with _source(tmp_path / "a", server.url_with_auth()) as source:
        wheel = _wheel(source, "app")
        source.metadata(wheel)
        path = source.download(wheel)
    assert path.is_file()
    assert all(r.authorization and r.status < 400 for r in server.log)
    assert "s3cret" not in wheel.url and wheel.index_url == server.url
    anonymous = _source(tmp_path / "b", server.url, retries=0)
    with anonymous, pytest.raises(IndexUnavailable, match="HTTP 401"):
        anonymous.project(canonicalize_name("app"))
    wrong = _source(tmp_path / "c", server.url_with_auth(password="wrong-one"), retries=0)
    with wrong, pytest.raises(IndexUnavailable) as caught:
        wrong.project(canonicalize_name("app"))
    assert "wrong-one" not in str(caught.value) and "wrong-one" not in (caught.value.hint or "")


def test_auth_from_netrc(
    index_server: IndexServerFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = index_server("basic", auth=("bob", "hunter2"))
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password hunter2\n")
    monkeypatch.setenv("NETRC", str(netrc))
    with _source(tmp_path / "cache", server.url) as source:
        assert source.metadata(_wheel(source, "app")).name == "app"
    assert all(r.authorization and r.status == 200 for r in server.log)


def test_second_run_revalidates_pages_and_reuses_metadata(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    server = index_server("basic")
    with _source(tmp_path, server.url) as first:
        first.metadata(_wheel(first, "app"))
    server.log.clear()
    with _source(tmp_path, server.url) as second:
        assert second.metadata(_wheel(second, "app")).name == "app"
    (page,) = server.log.records()
    assert page.path == "/simple/app/" and page.status == 304 and page.if_none_match


def test_offline_uses_the_cache_and_names_what_is_missing(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    server = index_server("basic")
    with _source(tmp_path, server.url) as online:
        wheel = _wheel(online, "app")
        online.metadata(wheel)
    server.log.clear()
    with _source(tmp_path, server.url, offline=True) as offline:
        assert offline.metadata(_wheel(offline, "app")).name == "app"
        with pytest.raises(OfflineMiss, match="'lib-a'"):
            offline.project(canonicalize_name("lib-a"))
        with pytest.raises(OfflineMiss, match=wheel.filename):
            offline.download(wheel)
    assert len(server.log) == 0


def test_failures_are_retried_and_truncated_downloads_refetched(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    server = index_server("basic")
    server.fail_next("/simple/app/", 503, times=2)
    with _source(tmp_path, server.url) as source:
        wheel = _wheel(source, "app")
        server.truncate_next(f"/files/{wheel.filename}")
        path = source.download(wheel)
    assert [r.status for r in server.log.requests_for("/simple/app/")] == [503, 503, 200]
    assert len(_file_requests(server, wheel.filename)) == 2
    assert path.stat().st_size == wheel.size
    server.fail_next("/simple/lib-a/", 500, times=10)
    failing = _source(tmp_path, server.url, retries=1)
    with failing, pytest.raises(IndexUnavailable, match="HTTP 500") as caught:
        failing.project(canonicalize_name("lib-a"))
    assert f"{server.url}/lib-a/" in str(caught.value)


def test_prefetch_overlaps_and_deduplicates(index_server: IndexServerFactory, tmp_path: Path) -> None:
    server = index_server("basic")
    names = [canonicalize_name(n) for n in ("app", "lib-a", "lib-b", "top", "left", "right")]
    with _source(tmp_path, server.url) as source:
        source.prefetch(names)
        source.prefetch(names)
        pages = [source.project(name) for name in names]
        wheels = [f for page in pages for f in page.files if f.kind == "wheel"]
        source.prefetch_metadata(wheels)
        metadata = [source.metadata(f) for f in wheels]
    assert [m.name for m in metadata] == [f.name_and_version()[0] for f in wheels]  # type: ignore[index]
    page_paths = [r.path for r in server.log.requests_for("/simple/")]
    assert sorted(page_paths) == sorted(f"/simple/{n}/" for n in names)
    metadata_paths = [r.path for r in server.log.requests_for("/files/")]
    assert len(metadata_paths) == len(set(metadata_paths)) == len(wheels)


def test_background_errors_surface_on_the_synchronous_call(
    index_server: IndexServerFactory, tmp_path: Path
) -> None:
    server = index_server("basic")
    with _source(tmp_path, server.url) as source:
        source.prefetch([canonicalize_name("does-not-exist")])
        with pytest.raises(PackageNotFound, match="does-not-exist"):
            source.project(canonicalize_name("does-not-exist"))
