"""The universe format: what a fixture file declares is exactly what the generated metadata says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.utils import parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from envspec.values.files import CandidateMetadata
from tests.support.universe import (
    DEFAULT_UPLOAD_EPOCH,
    UNIVERSE_DIR,
    InvalidUniverse,
    load_universe,
    merge_universes,
    universe_from_dict,
)


def test_basic_universe_loads_by_name_and_by_path() -> None:
    by_name = load_universe("basic")
    by_path = load_universe(UNIVERSE_DIR / "basic.toml")
    assert by_name == by_path
    assert len(by_name.project_names()) >= 12
    assert by_name.project_names() == sorted(by_name.project_names())


def test_every_fixture_universe_loads_and_its_metadata_validates() -> None:
    for path in sorted(UNIVERSE_DIR.glob("*.toml")):
        universe = load_universe(path)
        for release in universe.all_releases():
            # a real wheel's METADATA is what its backend wrote (setuptools puts License-File in
            # 2.1), so only the metadata this universe generates has to validate strictly
            strict = release.real_wheel is None
            parsed = Metadata.from_email(release.metadata_text(), validate=strict)
            assert parsed.name == release.project_name
            assert parsed.version == release.version


def test_names_are_normalised_but_the_display_name_is_kept() -> None:
    universe = load_universe("basic")
    release = universe.release("Fancy.Name", "1.0")
    assert release.name == "fancy-name"
    assert release.display_name == "Fancy_Name"
    assert "Name: Fancy_Name" in release.metadata_text()
    assert release.wheel_filenames() == ["fancy_name-1.0.0-py3-none-any.whl"]


def test_metadata_round_trips_through_envspec_candidate_metadata() -> None:
    release = load_universe("basic").release("http-client", "1.0.0")
    parsed = CandidateMetadata.from_bytes(release.metadata_text().encode(), origin="test")
    assert parsed.name == "http-client"
    assert parsed.version == Version("1.0.0")
    assert parsed.provides_extra == frozenset({"socks", "speed"})
    assert [str(r) for r in parsed.requires_dist] == release.requires_dist()


def test_extras_are_folded_into_requires_dist_with_an_extra_marker() -> None:
    release = universe_from_dict(
        "t",
        {
            "packages": {
                "a": {
                    "1.0": {
                        "requires": ["b>=1"],
                        "extras": {"Socks": ["pysocks>=1", "win; sys_platform == 'win32'"]},
                    }
                }
            }
        },
    ).release("a", "1.0")
    requirements = [Requirement(text) for text in release.requires_dist()]
    assert [r.name for r in requirements] == ["b", "pysocks", "win"]
    base, socks, win = requirements
    assert base.marker is None
    assert socks.marker is not None and win.marker is not None
    assert socks.marker.evaluate({"extra": "socks"})
    assert not socks.marker.evaluate({"extra": ""})
    # the requirement's own marker still applies, and-ed with the extra
    assert win.marker.evaluate({"extra": "socks", "sys_platform": "win32"})
    assert not win.marker.evaluate({"extra": "socks", "sys_platform": "linux"})
    assert "Provides-Extra: socks" in release.metadata_text()


def test_requires_python_and_dynamic_reach_the_metadata() -> None:
    universe = load_universe("basic")
    modern = universe.release("modern", "3.0.0")
    assert "Requires-Python: >=3.12" in modern.metadata_text()
    dyn = universe.release("dyn-sdist", "1.0.0")
    pkg_info = dyn.metadata_text(dyn.sdist_metadata_version, dynamic=dyn.dynamic)
    assert Metadata.from_email(pkg_info, validate=True).dynamic == ["requires-dist"]


def test_filenames_parse_back_to_name_version_and_tags() -> None:
    release = load_universe("basic").release("speedups", "1.0.0")
    wheels = release.wheel_filenames()
    assert len(wheels) == len(release.wheel_tags) > 1
    for filename, tag in zip(wheels, release.wheel_tags, strict=True):
        name, version, _, tags = parse_wheel_filename(filename)
        assert (name, version) == ("speedups", Version("1.0.0"))
        assert {str(t) for t in tags} == {tag}
    sdist = release.sdist_filename()
    assert sdist is not None
    assert parse_sdist_filename(sdist) == ("speedups", Version("1.0.0"))


def test_a_release_without_wheels_or_sdist_has_no_files() -> None:
    release = universe_from_dict("t", {"packages": {"a": {"1": {"wheels": []}}}}).release("a", "1")
    assert release.filenames() == []
    assert release.sdist_filename() is None


def test_default_upload_times_are_fixed_and_follow_version_order() -> None:
    data = {
        "packages": {"a": {"2.0": {}, "1.0": {}, "1.5": {"upload-time": "2020-05-05T00:00:00Z"}}}
    }
    first = universe_from_dict("t", data)
    again = universe_from_dict("t", data)
    assert first == again
    assert first.release("a", "1.0").upload_time == DEFAULT_UPLOAD_EPOCH
    assert first.release("a", "2.0").upload_time == DEFAULT_UPLOAD_EPOCH + timedelta(days=2)
    assert first.release("a", "1.5").upload_time == datetime(2020, 5, 5, tzinfo=UTC)


def test_yanked_values_keep_their_reason() -> None:
    universe = load_universe("basic")
    assert universe.release("yanky", "1.0.0").is_yanked is False
    with_reason = universe.release("yanky", "1.1.0")
    assert with_reason.is_yanked and with_reason.yanked_reason == "broken build"
    without = universe.release("yanky", "1.2.0")
    assert without.is_yanked and without.yanked_reason is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"requirez": []}, "unknown key 'requirez'"),
        ({"requires": ["b >>> 1"]}, "'b >>> 1' is not a requirement"),
        ({"requires-python": ">>3"}, "requires-python '>>3'"),
        ({"wheels": ["py3-none"]}, "wheel tag 'py3-none'"),
        ({"upload-time": "2024-01-01T00:00:00"}, "needs a time zone"),
        ({"yanked": ""}, "'yanked' must be"),
        ({"scripts": {"x": "elsewhere:main"}}, "must name 'a'"),
        ({"sdist-metadata-version": "9.9"}, "'9.9' is not a metadata version"),
        ({"padding": -1}, "'padding' must be a number of bytes"),
    ],
)
def test_invalid_declarations_are_reported_with_their_location(
    table: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidUniverse, match="packages.a") as caught:
        universe_from_dict("t", {"packages": {"a": {"1.0": table}}})
    assert message in str(caught.value)


def test_invalid_version_and_missing_file_are_reported(tmp_path: Path) -> None:
    with pytest.raises(InvalidUniverse, match="'one' is not a PEP 440 version"):
        universe_from_dict("t", {"packages": {"a": {"one": {}}}})
    with pytest.raises(InvalidUniverse, match="no such universe file"):
        load_universe(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[packages\n", encoding="utf-8")
    with pytest.raises(InvalidUniverse, match="not valid TOML"):
        load_universe(broken)


def test_merge_unions_releases_and_rejects_contradictions() -> None:
    one = universe_from_dict("one", {"packages": {"a": {"1.0": {}}, "b": {"1.0": {}}}})
    two = universe_from_dict(
        "two", {"packages": {"a": {"2.0": {"upload-time": "2024-01-01T12:00:00Z"}}}}
    )
    merged = merge_universes(one, two)
    assert merged.versions("a") == [Version("1.0"), Version("2.0")]
    assert merged.project_names() == ["a", "b"]
    clash = universe_from_dict("clash", {"packages": {"a": {"1.0": {"requires": ["b"]}}}})
    with pytest.raises(InvalidUniverse, match="differs"):
        merge_universes(one, clash)


def test_conflict_lib_universe_has_two_lib_versions() -> None:
    universe = load_universe("conflict-lib")
    assert universe.versions("lib") == [Version("1.0.0"), Version("2.0.0")]


# ── buildable sdists and real files (issue 6) ──────────────────────────────────────────────────
def test_build_universe_declares_buildable_sdists_whose_pkg_info_cannot_be_trusted() -> None:
    universe = load_universe("build")
    for name in ["sdist-setup", "sdist-flit", "sdist-legacy", "sdist-broken"]:
        [version] = universe.versions(name)
        release = universe.release(name, version)
        assert release.build_backend is not None
        assert release.wheel_filenames() == [] and release.sdist_filename() is not None
        trusted = Version(release.sdist_metadata_version) >= Version("2.2") and (
            "Requires-Dist" not in release.dynamic
        )
        assert not trusted, name
    assert universe.release("sdist-legacy", "1.0.0").build_backend == "setuptools-legacy"
    assert universe.release("sdist-broken", "1.0.0").build_fails
    old, new = (universe.release("half-built", v) for v in universe.versions("half-built"))
    assert (old.wheel_filenames(), old.sdist) == ([], True)
    assert (new.wheel_filenames() != [], new.sdist) == (True, False)


def test_a_real_wheel_release_takes_its_metadata_from_the_file() -> None:
    universe = load_universe("build")
    setuptools = universe.release("setuptools", "75.3.2")
    assert setuptools.real_wheel is not None
    assert setuptools.filenames() == ["setuptools-75.3.2-py3-none-any.whl"]
    assert setuptools.requires_python == ">=3.8"
    assert setuptools.metadata_text().startswith("Metadata-Version: 2.1\nName: setuptools\n")
    parsed = CandidateMetadata.from_bytes(setuptools.metadata_text().encode(), origin="test")
    assert parsed.version == Version("75.3.2")
    assert [str(r) for r in parsed.requires_dist] == setuptools.requires_dist()
    assert "core" in parsed.provides_extra
    flit = universe.release("flit_core", "3.9.0")
    assert flit.project_name == "flit_core" and flit.requires_dist() == []
    assert flit.wheel_filenames() == ["flit_core-3.9.0-py3-none-any.whl"]


WHEEL = "wheels/flit_core-3.9.0-py3-none-any.whl"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"sdist": True, "build-backend": "hatchling"}, "build-backend 'hatchling' is not one"),
        ({"build-backend": "setuptools"}, "set sdist = true"),
        ({"sdist": True, "build-backend": "flit_core", "setup-py": True}, "'setup-py' needs"),
        ({"sdist": True, "build-backend": "flit_core", "build-fails": "x"}, "needs a setup.py"),
        ({"sdist": True, "build-backend": "setuptools", "build-fails": ""}, "must be a message"),
        ({"wheel-file": WHEEL, "requires": ["b"]}, "'requires' cannot be declared beside"),
        ({"wheel-file": "wheels/nope-1.0-py3-none-any.whl"}, "wheel-file 'wheels/nope-1.0"),
        ({"wheel-file": "universe/basic.toml"}, "must name a .whl file"),
    ],
)
def test_invalid_build_declarations_are_reported(table: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidUniverse, match="packages.a") as caught:
        universe_from_dict("t", {"packages": {"a": {"1.0": table}}})
    assert message in str(caught.value)


def test_a_real_wheel_must_be_the_release_it_is_declared_as() -> None:
    with pytest.raises(InvalidUniverse, match="is flit-core 3.9.0, not this release"):
        universe_from_dict("t", {"packages": {"flit-core": {"3.8": {"wheel-file": WHEEL}}}})
    ok = universe_from_dict("t", {"packages": {"Flit.Core": {"3.9.0": {"wheel-file": WHEEL}}}})
    assert ok.versions("flit-core") == [Version("3.9.0")]


def test_a_buildable_sdist_defaults_to_pkg_info_2_1_or_2_2_with_dynamic() -> None:
    universe = universe_from_dict(
        "t",
        {
            "packages": {
                "a": {"1.0": {"sdist": True, "build-backend": "setuptools"}},
                "b": {
                    "1.0": {"sdist": True, "build-backend": "flit_core", "dynamic": ["Requires-Dist"]}
                },
                "c": {"1.0": {"sdist": True}},
            }
        },
    )
    assert universe.release("a", "1.0").sdist_metadata_version == "2.1"
    assert universe.release("b", "1.0").sdist_metadata_version == "2.2"
    assert universe.release("c", "1.0").sdist_metadata_version == "2.2"  # unchanged default
