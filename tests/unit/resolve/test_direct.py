"""resolve(..., direct=...): a project from a path or URL is one fixed candidate whose metadata
pulls in index packages; the index is never asked about it, and a URL inside an index package's
metadata is refused unless the spec itself gives that project a source."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName
from packaging.version import Version

from envspec.resolve.candidates import DirectPackage
from envspec.errors import EXIT_USER
from envspec.resolve import Resolution, ResolutionImpossible, resolve
from envspec.resolve.finder import TransitiveDirectReference
from envspec.values.files import CandidateMetadata, FileInfo
from envspec.spec.model import ResolutionOptions, Source
from tests.support.memory_source import MemorySource, make_target
from tests.support.universe import universe_from_dict

X_URL = "https://files.example/x-1.0.tar.gz"
UNIVERSE = universe_from_dict(
    "direct",
    {
        "packages": {
            "dep": {"1.0": {}, "2.0": {}, "3.0": {}},
            "speed": {"1.0": {}},
            "app": {"1.0": {"requires": ["mylib>=1"]}},
            "fine": {"1.0": {"requires": ["mylib"]}},
            "carrier": {"1.0": {"requires": [f"x @ {X_URL}"]}},
            # an index release of the direct project: never to be looked at
            "mylib": {"9.0": {}},
        }
    },
)
TARGET = make_target("3.11.7", "linux")


def _directory(name: str, version: str, *requires: str, extras: str = "") -> DirectPackage:
    lines = [f"Name: {name}", f"Version: {version}", *(f"Requires-Dist: {r}" for r in requires)]
    if extras:
        lines.append(f"Provides-Extra: {extras}")
    url = f"file:///work/proj/libs/{name}"
    return DirectPackage(
        name=NormalizedName(name),
        source=Source(path=f"libs/{name}"),
        kind="directory",
        file=FileInfo(filename=name, url=url, index_url=""),
        metadata=CandidateMetadata.from_bytes("\n".join(lines).encode(), origin=url),
        location=f"libs/{name}",
        local=True,
        digest="d" * 64,
    )


def _archive(name: str, version: str, url: str) -> DirectPackage:
    file = FileInfo(
        filename=url.rsplit("/", 1)[-1], url=url, index_url="", hashes={"sha256": "a" * 64}, size=5
    )
    metadata = CandidateMetadata.from_bytes(
        f"Name: {name}\nVersion: {version}\n".encode(), origin=url
    )
    return DirectPackage(
        name=NormalizedName(name),
        source=Source(url=url),
        kind="archive",
        file=file,
        metadata=metadata,
        location=url,
        local=False,
    )


def _resolve(
    source: MemorySource,
    requirements: list[str],
    direct: Mapping[NormalizedName, DirectPackage],
    **options: object,
) -> Resolution:
    return resolve(
        {None: [Requirement(r) for r in requirements]},
        target=TARGET,
        source=source,
        options=ResolutionOptions(**options),  # type: ignore[arg-type]
        direct=direct,
    )


def test_a_direct_candidate_brings_in_its_index_dependencies() -> None:
    mylib = _directory("mylib", "0.3", "dep>=2,<3")
    resolution = _resolve(MemorySource(UNIVERSE), ["mylib"], {mylib.name: mylib})
    assert set(resolution.packages) == {"mylib", "dep"}
    resolved = resolution.packages[NormalizedName("mylib")]
    assert resolved.version == Version("0.3")  # not the index's 9.0
    assert resolved.direct is mylib
    assert resolved.index_url == ""
    assert resolved.dependencies == {"dep"}
    assert resolution.packages[NormalizedName("dep")].version == Version("2.0")
    assert resolution.packages[NormalizedName("dep")].direct is None
    assert resolution.packages[NormalizedName("dep")].index_url == "https://example.test/simple"


def test_the_index_is_never_asked_about_a_direct_project() -> None:
    source = MemorySource(UNIVERSE)
    mylib = _directory("mylib", "0.3", "dep")
    _resolve(source, ["mylib", "fine"], {mylib.name: mylib})
    assert "mylib" not in source.project_calls
    assert "dep" in source.project_calls and "fine" in source.project_calls
    assert not any("mylib" in call for call in source.prefetch_calls)
    assert not any(f.startswith("mylib") for f in source.metadata_calls)


def test_an_extra_of_a_direct_project_is_honoured() -> None:
    mylib = _directory("mylib", "0.3", "speed; extra == 'fast'", extras="fast")
    resolution = _resolve(MemorySource(UNIVERSE), ["mylib[fast]"], {mylib.name: mylib})
    assert set(resolution.packages) == {"mylib", "speed"}
    assert resolution.packages[NormalizedName("mylib")].extras == {"fast"}


def test_a_direct_prerelease_is_taken_even_when_prereleases_are_disallowed() -> None:
    mylib = _directory("mylib", "1.0rc1")
    resolution = _resolve(
        MemorySource(UNIVERSE), ["mylib>=0.5"], {mylib.name: mylib}, prereleases="disallow"
    )
    assert resolution.packages[NormalizedName("mylib")].version == Version("1.0rc1")


@pytest.mark.parametrize(
    "requirements", [["mylib", "app"], ["mylib>=1"]], ids=["dependency", "spec"]
)
def test_a_requirement_excluding_the_direct_version_names_the_source(
    requirements: list[str],
) -> None:
    mylib = _directory("mylib", "0.3")
    with pytest.raises(ResolutionImpossible) as caught:
        _resolve(MemorySource(UNIVERSE), requirements, {mylib.name: mylib})
    message = str(caught.value)
    assert "mylib" in caught.value.conflicting_names
    assert mylib.file.url in message, message
    assert "0.3" in message
    assert caught.value.exit_code == EXIT_USER


def test_a_constraint_excluding_the_direct_version_fails() -> None:
    mylib = _directory("mylib", "0.3")
    with pytest.raises(ResolutionImpossible) as caught:
        _resolve(
            MemorySource(UNIVERSE),
            ["mylib"],
            {mylib.name: mylib},
            constraints=(Requirement("mylib>=1"),),
        )
    assert mylib.file.url in str(caught.value)


def test_a_url_in_an_index_package_metadata_is_refused() -> None:
    with pytest.raises(TransitiveDirectReference) as caught:
        _resolve(MemorySource(UNIVERSE), ["carrier"], {})
    error = caught.value
    assert error.exit_code == EXIT_USER
    assert error.name == "x"
    assert "carrier 1.0" in str(error) and X_URL in str(error)
    assert error.hint is not None and "[sources]" in error.hint and X_URL in error.hint


def test_a_url_in_metadata_is_followed_when_the_spec_gives_that_project_a_source() -> None:
    x = _archive("x", "1.0", X_URL)
    source = MemorySource(UNIVERSE)
    resolution = _resolve(source, ["carrier", "x"], {x.name: x})
    assert resolution.packages[NormalizedName("x")].direct is x
    assert resolution.packages[NormalizedName("carrier")].dependencies == {"x"}
    assert "x" not in source.project_calls


def test_a_direct_project_depending_on_another_direct_project() -> None:
    x = _archive("x", "1.0", X_URL)
    mylib = _directory("mylib", "0.3", f"x @ {X_URL}", "dep<2")
    resolution = _resolve(MemorySource(UNIVERSE), ["mylib", "x"], {mylib.name: mylib, x.name: x})
    assert {name: p.version for name, p in resolution.packages.items()} == {
        "mylib": Version("0.3"),
        "x": Version("1.0"),
        "dep": Version("1.0"),
    }


def test_a_conflict_on_a_direct_project_does_not_claim_it_is_on_the_index() -> None:
    mylib = _directory("mylib", "0.3")
    with pytest.raises(ResolutionImpossible) as caught:
        _resolve(MemorySource(UNIVERSE), ["mylib>=1"], {mylib.name: mylib})
    assert "on the index" not in str(caught.value)
    assert "mylib comes from its source in the spec: 0.3" in str(caught.value)
