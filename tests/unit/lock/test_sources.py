"""Sources in the lock: PEP 751 ``archive`` and ``directory`` entries written, read back and
selected for installation, and the spec's sources recorded among the lock's inputs."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Package, Pylock
from packaging.requirements import Requirement
from packaging.utils import NormalizedName
from packaging.version import Version

from envspec.lock import text as lockfile
from envspec.resolve.candidates import DirectPackage
from envspec.lock.select import select_wanted
from envspec.values.urls import file_url_path
from envspec.lock.model import LockInputs, build_lock, changes_between, source_digests
from envspec.resolve import resolve
from envspec.values.files import CandidateMetadata, FileInfo
from envspec.spec.load import parse_spec
from envspec.spec.model import Spec
from tests.support.memory_source import MemorySource, make_target
from tests.support.universe import universe_from_dict

UNIVERSE = universe_from_dict("lock-sources", {"packages": {"dep": {"1.0": {}, "2.0": {}}}})
TARGET = make_target("3.11.7", "linux")
TOOL_URL = "https://example.com/dist/tool-2.0.tar.gz"
TOOL_SHA = hashlib.sha256(b"tool").hexdigest()
WHEEL_SHA = hashlib.sha256(b"vendored").hexdigest()
DIGEST = "f" * 64

SPEC_TEXT = f"""\
python = ">=3.11"
requirements = ["mylib", "vendored>=1"]
[groups]
dev = ["tool"]
[sources]
mylib = {{ path = "libs/mylib", editable = true }}
vendored = {{ path = "../wheels/vendored-1.0-py3-none-any.whl" }}
tool = {{ url = "{TOOL_URL}#sha256={TOOL_SHA}" }}
"""


def _spec(project: Path, text: str = SPEC_TEXT) -> Spec:
    return parse_spec(text, path=project / "envspec.toml")


def _metadata(name: str, version: str, *requires: str) -> CandidateMetadata:
    lines = [f"Name: {name}", f"Version: {version}", *(f"Requires-Dist: {r}" for r in requires)]
    return CandidateMetadata.from_bytes("\n".join(lines).encode(), origin=name)


def _direct(spec: Spec, *, mylib_path: str = "libs/mylib") -> dict[NormalizedName, DirectPackage]:
    """What materialise() would give for SPEC_TEXT (built by hand: no I/O here)."""
    project = spec.project_dir
    directory = project / mylib_path
    wheel = project.parent / "wheels" / "vendored-1.0-py3-none-any.whl"
    packages = [
        DirectPackage(
            name=NormalizedName("mylib"),
            source=spec.sources[NormalizedName("mylib")],
            kind="directory",
            file=FileInfo(filename="mylib", url=directory.as_uri(), index_url=""),
            metadata=_metadata("mylib", "0.3", "dep>=2"),
            location=mylib_path,
            local=True,
            digest=DIGEST,
        ),
        DirectPackage(
            name=NormalizedName("vendored"),
            source=spec.sources[NormalizedName("vendored")],
            kind="archive",
            file=FileInfo(
                filename=wheel.name,
                url=wheel.as_uri(),
                index_url="",
                hashes={"sha256": WHEEL_SHA},
                size=8,
            ),
            metadata=_metadata("vendored", "1.0"),
            location="../wheels/vendored-1.0-py3-none-any.whl",
            local=True,
        ),
        DirectPackage(
            name=NormalizedName("tool"),
            source=spec.sources[NormalizedName("tool")],
            kind="archive",
            file=FileInfo(
                filename="tool-2.0.tar.gz",
                url=TOOL_URL,
                index_url="",
                hashes={"sha256": TOOL_SHA},
                size=4,
            ),
            metadata=_metadata("tool", "2.0"),
            location=TOOL_URL,
            local=False,
        ),
    ]
    return {package.name: package for package in packages}


def _lock(spec: Spec, direct: dict[NormalizedName, DirectPackage] | None = None) -> Pylock:
    requirements: dict[str | None, list[Requirement]] = {None: list(spec.requirements)}
    requirements.update({str(k): list(v) for k, v in spec.groups.items()})
    resolution = resolve(
        requirements,
        target=TARGET,
        source=MemorySource(UNIVERSE),
        direct=direct if direct is not None else _direct(spec),
    )
    lock = build_lock(resolution, LockInputs.from_spec(spec), TARGET)
    lock.validate()
    return lock


def _packages(lock: Pylock) -> dict[str, Package]:
    return {str(p.name): p for p in lock.packages}


# ── build_lock ────────────────────────────────────────────────────────────────────────────────


def test_a_directory_is_locked_with_its_path_editable_and_digest_but_no_version(
    tmp_path: Path,
) -> None:
    mylib = _packages(_lock(_spec(tmp_path / "proj")))["mylib"]
    assert mylib.version is None
    assert mylib.directory is not None
    assert (mylib.directory.path, mylib.directory.editable) == ("libs/mylib", True)
    assert mylib.tool == {"envspec": {"source-digest": DIGEST}}
    assert mylib.archive is None and not mylib.wheels and mylib.sdist is None
    assert [d["name"] for d in mylib.dependencies or []] == ["dep"]


def test_a_local_archive_is_locked_by_path_and_a_remote_one_by_url(tmp_path: Path) -> None:
    packages = _packages(_lock(_spec(tmp_path / "proj")))
    vendored, tool = packages["vendored"], packages["tool"]
    assert vendored.version == Version("1.0") and vendored.archive is not None
    assert vendored.archive.path == "../wheels/vendored-1.0-py3-none-any.whl"
    assert vendored.archive.url is None
    assert dict(vendored.archive.hashes) == {"sha256": WHEEL_SHA}
    assert vendored.archive.size == 8
    assert tool.version == Version("2.0") and tool.archive is not None
    assert (tool.archive.url, tool.archive.path) == (TOOL_URL, None)
    assert dict(tool.archive.hashes) == {"sha256": TOOL_SHA} and tool.archive.size == 4
    assert tool.marker is not None and "dev" in str(tool.marker)  # only the group needs it
    assert packages["dep"].version == Version("2.0") and packages["dep"].wheels


def test_the_lock_text_round_trips_and_validates(tmp_path: Path) -> None:
    lock = _lock(_spec(tmp_path / "proj"))
    text = lockfile.dumps(lock)
    loaded = lockfile.loads(text)
    loaded.validate()
    assert loaded.packages == lock.packages
    assert lockfile.dumps(loaded) == text
    raw = {p["name"]: p for p in tomllib.loads(text)["packages"]}  # the PEP 751 keys as written
    assert raw["mylib"]["directory"] == {"path": "libs/mylib", "editable": True}
    assert "version" not in raw["mylib"]
    assert raw["tool"]["archive"]["url"] == TOOL_URL and "path" not in raw["tool"]["archive"]
    assert raw["vendored"]["archive"]["path"] == "../wheels/vendored-1.0-py3-none-any.whl"


def test_source_digests_reads_back_only_the_directories(tmp_path: Path) -> None:
    loaded = lockfile.loads(lockfile.dumps(_lock(_spec(tmp_path / "proj"))))
    assert source_digests(loaded) == {"mylib": ("libs/mylib", True, DIGEST)}


def test_source_digests_of_a_foreign_directory_entry_without_a_digest(tmp_path: Path) -> None:
    text = lockfile.dumps(_lock(_spec(tmp_path / "proj"))).replace(
        f'source-digest = "{DIGEST}"', 'other = "x"'
    )
    assert source_digests(lockfile.loads(text)) == {"mylib": ("libs/mylib", True, "")}


# ── inputs ────────────────────────────────────────────────────────────────────────────────────


def test_the_inputs_record_each_source_and_survive_the_lock_file(tmp_path: Path) -> None:
    spec = _spec(tmp_path / "proj")
    inputs = LockInputs.from_spec(spec)
    assert dict(inputs.sources) == {
        "mylib": "path libs/mylib (editable)",
        "tool": f"url {TOOL_URL}#sha256={TOOL_SHA}",
        "vendored": "path ../wheels/vendored-1.0-py3-none-any.whl",
    }
    loaded = lockfile.loads(lockfile.dumps(_lock(spec)))
    recorded = LockInputs.from_toml((loaded.tool or {})["envspec"]["inputs"])
    assert recorded == inputs
    assert inputs.differences(recorded) == []


def test_a_spec_without_sources_records_none() -> None:
    inputs = LockInputs.from_spec(parse_spec('python = ">=3.11"\n', path=Path("/p/envspec.toml")))
    assert dict(inputs.sources) == {} and "sources" not in inputs.to_toml()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ('path = "libs/mylib", editable = true', 'path = "libs/mylib"'),
            "the source of 'mylib' changed from path libs/mylib (editable) to path libs/mylib",
        ),
        (
            ('path = "libs/mylib"', 'path = "libs/other"'),
            "the source of 'mylib' changed from path libs/mylib (editable) "
            "to path libs/other (editable)",
        ),
        (
            (f"#sha256={TOOL_SHA}", ""),
            f"the source of 'tool' changed from url {TOOL_URL}#sha256={TOOL_SHA} to url {TOOL_URL}",
        ),
        (
            ('vendored = { path = "../wheels/vendored-1.0-py3-none-any.whl" }\n', ""),
            "the source of 'vendored' changed from path ../wheels/vendored-1.0-py3-none-any.whl "
            "to an index",
        ),
    ],
    ids=["editable", "path", "hash", "removed"],
)
def test_a_changed_source_is_a_difference(edit: tuple[str, str], expected: str) -> None:
    recorded = LockInputs.from_spec(_spec(Path("/p")))
    changed = LockInputs.from_spec(_spec(Path("/p"), SPEC_TEXT.replace(*edit)))
    assert changed.differences(recorded) == [expected]
    back = recorded.differences(changed)
    assert len(back) == 1 and back[0].startswith("the source of")


def test_a_reformatted_source_is_not_a_difference() -> None:
    recorded = LockInputs.from_spec(_spec(Path("/p")))
    reformatted = SPEC_TEXT.replace(
        'mylib = { path = "libs/mylib", editable = true }',
        'MyLib = { editable = true, path = "libs\\\\mylib" }',
    )
    assert LockInputs.from_spec(_spec(Path("/p"), reformatted)).differences(recorded) == []


# ── changes_between ───────────────────────────────────────────────────────────────────────────


def test_changes_show_a_directory_by_its_path(tmp_path: Path) -> None:
    spec = _spec(tmp_path / "proj")
    first = _lock(spec)
    shown = [str(change) for change in changes_between(None, first)]
    assert "+ mylib (libs/mylib)" in shown
    assert "+ vendored 1.0" in shown and "+ tool 2.0" in shown
    assert changes_between(first, first) == []
    moved_spec = _spec(tmp_path / "proj", SPEC_TEXT.replace("libs/mylib", "libs/other"))
    moved = _lock(moved_spec, _direct(moved_spec, mylib_path="libs/other"))
    assert [str(c) for c in changes_between(first, moved)] == [
        "~ mylib (libs/mylib) -> (libs/other)"
    ]


# ── select_wanted ─────────────────────────────────────────────────────────────────────────────


def test_select_wanted_gives_a_directory_to_build(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    lock = lockfile.loads(lockfile.dumps(_lock(_spec(project))))
    wanted = {
        str(w.name): w for w in select_wanted(lock, TARGET, [], project / "pylock.toml") or []
    }
    assert set(wanted) == {"mylib", "vendored", "dep"}  # tool is in the dev group only
    mylib = wanted["mylib"]
    directory = (project / "libs" / "mylib").resolve()
    assert mylib.kind == "directory" and mylib.version is None and mylib.sha256 is None
    assert mylib.url == directory.as_uri() and mylib.direct_url == directory.as_uri()
    assert file_url_path(mylib.url) == directory
    assert mylib.filename == "mylib"
    assert mylib.editable is True
    assert mylib.source_digest == DIGEST
    assert mylib.source_label == "libs/mylib"


def test_select_wanted_gives_archives_with_their_direct_url(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    lock = lockfile.loads(lockfile.dumps(_lock(_spec(project))))
    selected = select_wanted(lock, TARGET, ["dev"], project / "pylock.toml") or []
    wanted = {str(w.name): w for w in selected}
    vendored, tool, dep = wanted["vendored"], wanted["tool"], wanted["dep"]
    wheel = (tmp_path / "wheels" / "vendored-1.0-py3-none-any.whl").resolve()
    assert vendored.kind == "wheel" and vendored.version == Version("1.0")
    assert vendored.url == wheel.as_uri() and vendored.direct_url == wheel.as_uri()
    assert file_url_path(vendored.url) == wheel
    assert (vendored.filename, vendored.sha256, vendored.size) == (wheel.name, WHEEL_SHA, 8)
    assert vendored.source_label == "../wheels/vendored-1.0-py3-none-any.whl"
    assert not vendored.editable and vendored.source_digest is None
    assert tool.kind == "sdist" and tool.version == Version("2.0")
    assert tool.url == TOOL_URL and tool.direct_url == TOOL_URL and tool.source_label == TOOL_URL
    assert (tool.filename, tool.sha256) == ("tool-2.0.tar.gz", TOOL_SHA)
    assert file_url_path(tool.url) is None
    assert dep.direct_url is None and dep.source_label is None  # from the index


def test_select_wanted_for_another_python_selects_nothing(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    lock = _lock(_spec(project))
    assert select_wanted(lock, make_target("3.12.1"), [], project / "pylock.toml") is None
