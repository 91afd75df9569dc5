"""read_installed / read_record / find_dist_info / dist_info_fingerprint on a real venv holding
wheels installed by envspec and distributions written by hand (as another tool would leave them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from envspec.plan import Installed
from envspec.pythons.probe import probe_interpreter
from envspec.venv.create import ensure_venv
from envspec.venv.installed import (
    UNKNOWN_VERSION,
    dist_info_fingerprint,
    find_dist_info,
    read_installed,
)
from envspec.venv.installers import InstallerLibrary
from envspec.venv.record import RecordUnreadable, read_record
from envspec.venv.layout import VenvLayout
from tests.support.pythons import require_python
from tests.support.universe import Release
from tests.support.wheels import build_wheel, record_hash

pytestmark = pytest.mark.slow



@pytest.fixture
def layout(tmp_path: Path) -> VenvLayout:
    python = require_python("3.12")
    probe = probe_interpreter(python, cache_dir=tmp_path / "cache")
    made, _ = ensure_venv(
        tmp_path / ".venv", interpreter=probe.path, version=probe.version, scheme=probe.scheme
    )
    return made


def _by_name(layout: VenvLayout) -> dict[str, Installed]:
    return {str(name): installed for name, installed in read_installed(layout).items()}


def _install(layout: VenvLayout, tmp_path: Path, name: str, version: str) -> None:
    release = Release(name=canonicalize_name(name), version=Version(version), display_name=name)
    artifact = build_wheel(release)
    wheel = tmp_path / artifact.filename
    wheel.write_bytes(artifact.data)
    InstallerLibrary().install(wheel, layout, name=release.name)


def _hand_made(layout: VenvLayout, dirname: str, files: dict[str, str]) -> Path:
    dist_info = layout.purelib / dirname
    dist_info.mkdir()
    for name, text in files.items():
        (dist_info / name).write_text(text)
    return dist_info


def test_sees_name_version_and_installer(layout: VenvLayout, tmp_path: Path) -> None:
    _install(layout, tmp_path, "Fancy.Name", "2.0.1")
    _hand_made(
        layout,
        "other-1.0.dist-info",
        {
            "METADATA": "Metadata-Version: 2.1\nName: Other\nVersion: 1.0\n",
            "RECORD": "other-1.0.dist-info/METADATA,,\nother-1.0.dist-info/RECORD,,\n",
            "INSTALLER": "pip\n",
        },
    )
    found = _by_name(layout)
    assert sorted(found) == ["fancy-name", "other"]
    fancy, other = found["fancy-name"], found["other"]
    assert (fancy.version, fancy.installer, fancy.damaged) == (Version("2.0.1"), "envspec", False)
    assert (other.version, other.installer, other.damaged) == (Version("1.0"), "pip", False)
    assert find_dist_info(layout, "FANCY_name") == layout.purelib / "fancy_name-2.0.1.dist-info"
    assert find_dist_info(layout, "absent") is None


def test_damaged_when_record_or_metadata_is_missing_or_broken(layout: VenvLayout) -> None:
    _hand_made(layout, "no_record-1.0.dist-info", {"METADATA": "Name: no-record\nVersion: 1.0\n"})
    _hand_made(layout, "no_metadata-3.1.dist-info", {"RECORD": "x.py,,\n"})
    _hand_made(
        layout,
        "bad_record-1.0.dist-info",
        {"METADATA": "Name: bad-record\nVersion: 1.0\n", "RECORD": "x.py,sha256,notasize\n"},
    )
    _hand_made(
        layout,
        "healthy-1.0.dist-info",
        {"METADATA": "Name: healthy\nVersion: 1.0\n", "RECORD": "x.py,,\n"},
    )
    found = _by_name(layout)
    assert {name: i.damaged for name, i in found.items()} == {
        "bad-record": True,
        "healthy": False,
        "no-metadata": True,
        "no-record": True,
    }
    # without METADATA the directory name still says which version it was
    assert found["no-metadata"].version == Version("3.1")
    assert found["no-metadata"].installer is None


def test_an_unreadable_version_is_damaged_not_fatal(layout: VenvLayout) -> None:
    _hand_made(layout, "weird-notaversion.dist-info", {"METADATA": "Name: weird\n", "RECORD": ""})
    found = _by_name(layout)
    assert found["weird"].version == UNKNOWN_VERSION and found["weird"].damaged


def test_read_record_parses_rows(layout: VenvLayout, tmp_path: Path) -> None:
    _install(layout, tmp_path, "rec", "1.0")
    dist_info = find_dist_info(layout, "rec")
    assert dist_info is not None
    entries = {e.path: e for e in read_record(dist_info)}
    init = entries["rec/__init__.py"]
    data = (layout.purelib / "rec" / "__init__.py").read_bytes()
    assert (init.sha256, init.size) == (record_hash(data), len(data))
    assert entries["rec-1.0.dist-info/RECORD"].sha256 is None
    assert init.location(dist_info.parent) == layout.purelib / "rec" / "__init__.py"


def test_read_record_rejects_garbage(tmp_path: Path) -> None:
    dist_info = tmp_path / "x-1.dist-info"
    dist_info.mkdir()
    with pytest.raises(RecordUnreadable, match="does not exist"):
        read_record(dist_info)
    (dist_info / "RECORD").write_text("a.py,md5only,3\n")
    with pytest.raises(RecordUnreadable, match="malformed hash 'md5only'"):
        read_record(dist_info)
    (dist_info / "RECORD").write_text("a.py,,\nb.py\n")
    with pytest.raises(RecordUnreadable, match="line 2"):
        read_record(dist_info)


def test_fingerprint_changes_when_a_distribution_is_added_by_hand(
    layout: VenvLayout, tmp_path: Path
) -> None:
    _install(layout, tmp_path, "base", "1.0")
    before = dist_info_fingerprint(layout)
    assert dist_info_fingerprint(layout) == before  # stable while nothing changes
    (layout.purelib / "not_a_dist.py").write_text("")
    assert dist_info_fingerprint(layout) == before  # only distributions count
    added = _hand_made(layout, "sneaky-1.0.dist-info", {"METADATA": "Name: sneaky\nVersion: 1.0\n"})
    with_sneaky = dist_info_fingerprint(layout)
    assert with_sneaky != before
    (added / "RECORD").write_text("")  # a file added inside a dist-info changes its mtime
    os.utime(added, ns=(0, 0))
    assert dist_info_fingerprint(layout) not in {before, with_sneaky}


def _with_source_files(layout: VenvLayout, dirname: str, files: dict[str, str]) -> Path:
    """A distribution as pip or uv leaves it, RECORD listing every file of its dist-info."""
    record = "".join(f"{dirname}/{name},,\n" for name in [*files, "RECORD"])
    return _hand_made(layout, dirname, {**files, "RECORD": record})


def test_where_a_distribution_came_from_is_read_from_its_dist_info(layout: VenvLayout) -> None:
    metadata = "Metadata-Version: 2.1\nName: {}\nVersion: 1.0\n"
    _with_source_files(
        layout,
        "local-1.0.dist-info",
        {
            "METADATA": metadata.format("local"),
            "INSTALLER": "uv\n",
            "direct_url.json": '{"url": "file:///src/local", "dir_info": {"editable": true}}',
            "ENVSPEC_SOURCE": "  sha256:abc  \n",
        },
    )
    _with_source_files(
        layout,
        "archive-1.0.dist-info",
        {
            "METADATA": metadata.format("archive"),
            "direct_url.json": json.dumps(
                {"url": "https://x.test/archive-1.0.tar.gz", "archive_info": {}}
            ),
        },
    )
    _with_source_files(layout, "indexed-1.0.dist-info", {"METADATA": metadata.format("indexed")})
    found = _by_name(layout)
    local, archive, indexed = found["local"], found["archive"], found["indexed"]
    assert (local.direct_url, local.editable, local.source_digest) == (
        "file:///src/local",
        True,
        "sha256:abc",
    )
    assert (archive.direct_url, archive.editable, archive.source_digest) == (
        "https://x.test/archive-1.0.tar.gz",
        False,
        None,
    )
    assert (indexed.direct_url, indexed.editable, indexed.source_digest) == (None, False, None)
    assert not any(i.damaged for i in found.values())


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '["a list"]',
        '{"dir_info": {"editable": true}}',  # no url
        '{"url": 42}',
        "\udcff",  # not even UTF-8 once written
    ],
)
def test_a_malformed_direct_url_json_reads_as_absent(layout: VenvLayout, content: str) -> None:
    dist_info = _with_source_files(
        layout,
        "odd-1.0.dist-info",
        {"METADATA": "Name: odd\nVersion: 1.0\n", "direct_url.json": "{}"},
    )
    (dist_info / "direct_url.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    odd = _by_name(layout)["odd"]
    assert (odd.direct_url, odd.editable, odd.damaged) == (None, False, False)


def test_source_files_that_record_does_not_list_are_not_trusted(layout: VenvLayout) -> None:
    """RECORD (read anyway) is the listing: a file dropped into the dist-info later is ignored,
    and a distribution without direct_url.json costs no failed open."""
    _hand_made(
        layout,
        "stray-1.0.dist-info",
        {
            "METADATA": "Name: stray\nVersion: 1.0\n",
            "RECORD": "stray-1.0.dist-info/METADATA,,\n",
            "direct_url.json": '{"url": "file:///src/stray", "dir_info": {}}',
            "ENVSPEC_SOURCE": "d\n",
        },
    )
    stray = _by_name(layout)["stray"]
    assert (stray.direct_url, stray.source_digest) == (None, None)


def test_a_duplicate_keeps_its_source_and_is_damaged(layout: VenvLayout) -> None:
    for version in ("1.0", "2.0"):
        _with_source_files(
            layout,
            f"twice-{version}.dist-info",
            {
                "METADATA": f"Name: twice\nVersion: {version}\n",
                "direct_url.json": '{"url": "file:///src/twice", "dir_info": {}}',
            },
        )
    twice = _by_name(layout)["twice"]
    assert twice.damaged and twice.direct_url == "file:///src/twice"
