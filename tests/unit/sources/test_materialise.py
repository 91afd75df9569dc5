"""materialise(): the rules for a path or URL source, with fake I/O (no network, no build).

Each source becomes one DirectPackage: a directory digested and its metadata built, a local
archive hashed from disk, a remote archive downloaded with the hash the user wrote. What cannot
be a source is refused with a message naming it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from envspec.sources.materialise import (
    DirectPackage,
    Materials,
    SourceNotUsable,
    archive_filename,
    lock_relative,
    materialise,
)
from envspec.errors import EXIT_OUTSIDE, EXIT_USER, OutsideWorldError
from envspec.values.files import FileInfo
from envspec.spec.load import parse_spec
from envspec.spec.model import Source, Spec

SHA_OF_NOTHING = hashlib.sha256(b"").hexdigest()


def _metadata(name: str, version: str, *requires: str) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class FakeMaterials:
    """Records every call; metadata answers from ``names`` (project → (name, version))."""

    downloads_into: Path
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    payload: bytes = b"archive bytes"
    downloads: list[FileInfo] = field(default_factory=list)
    archive_calls: list[tuple[Path, FileInfo]] = field(default_factory=list)
    directory_calls: list[tuple[Path, str, bool]] = field(default_factory=list)
    digest_calls: list[tuple[Path, bool]] = field(default_factory=list)

    def materials(self) -> Materials:
        return Materials(
            download=self.download,
            archive_metadata=self.archive_metadata,
            directory_metadata=self.directory_metadata,
            digest=self.digest,
        )

    def _answer(self, key: str) -> bytes:
        name, version = self.names.get(key, (key, "1.0"))
        return _metadata(name, version, "dep>=1")

    def download(self, file: FileInfo) -> Path:
        self.downloads.append(file)
        self.downloads_into.mkdir(parents=True, exist_ok=True)
        path = self.downloads_into / file.filename
        path.write_bytes(self.payload)
        return path

    def archive_metadata(self, path: Path, file: FileInfo) -> bytes:
        self.archive_calls.append((path, file))
        return self._answer(file.filename.split("-")[0])

    def directory_metadata(self, directory: Path, name: str, editable: bool) -> bytes:
        self.directory_calls.append((directory, name, editable))
        return self._answer(name)

    def digest(self, directory: Path, editable: bool) -> str:
        self.digest_calls.append((directory, editable))
        return f"digest-of-{directory.name}-{'editable' if editable else 'full'}"


def _spec(project: Path, sources: str, names: list[str]) -> Spec:
    requirements = ", ".join(f'"{n}"' for n in names)
    text = f'python = ">=3.11"\nrequirements = [{requirements}]\n[sources]\n{sources}\n'
    return parse_spec(text, path=project / "envspec.toml")


def _project(tmp_path: Path, relative: str = "proj", marker: str = "pyproject.toml") -> Path:
    directory = tmp_path / relative
    directory.mkdir(parents=True)
    (directory / marker).write_text("# a project\n", encoding="utf-8")
    return directory


def _one(spec: Spec, fake: FakeMaterials) -> DirectPackage:
    (package,) = materialise(spec, fake.materials()).values()
    return package


# ── directories ───────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("editable", [True, False])
def test_a_directory_is_digested_and_its_metadata_built(tmp_path: Path, editable: bool) -> None:
    project = tmp_path / "proj"
    library = _project(project, "libs/mylib")
    fake = FakeMaterials(tmp_path / "cache", names={"mylib": ("MyLib", "0.3")})
    flag = "true" if editable else "false"
    spec = _spec(project, f'mylib = {{ path = "libs/mylib", editable = {flag} }}', ["mylib"])
    package = _one(spec, fake)
    assert package.kind == "directory" and package.local
    assert package.name == "mylib"
    assert package.location == "libs/mylib"
    assert package.editable is editable
    assert fake.digest_calls == [(library, editable)]
    assert package.digest == fake.digest(library, editable)
    assert fake.directory_calls == [(library, "mylib", editable)]
    assert str(package.metadata.version) == "0.3"
    assert [str(r) for r in package.metadata.requires_dist] == ["dep>=1"]
    assert package.file.url == library.as_uri()
    assert fake.downloads == [] and fake.archive_calls == []


def test_a_directory_outside_the_project_is_located_with_dot_dot(tmp_path: Path) -> None:
    _project(tmp_path, "shared/mylib", marker="setup.py")  # setup.py alone is a project too
    fake = FakeMaterials(tmp_path / "cache")
    spec = _spec(tmp_path / "proj", 'mylib = { path = "../shared/mylib" }', ["mylib"])
    assert _one(spec, fake).location == "../shared/mylib"


def test_the_project_directory_itself_is_located_as_dot(tmp_path: Path) -> None:
    project = _project(tmp_path, "proj")
    fake = FakeMaterials(tmp_path / "cache", names={"self-lib": ("Self_Lib", "2")})
    spec = _spec(project, 'self-lib = { path = "." }', ["self-lib"])
    package = _one(spec, fake)  # the metadata's name matches once normalised
    assert package.location == "." and str(package.metadata.version) == "2"


def test_a_directory_that_is_not_a_python_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "proj" / "libs" / "empty").mkdir(parents=True)
    spec = _spec(tmp_path / "proj", 'mylib = { path = "libs/empty" }', ["mylib"])
    with pytest.raises(SourceNotUsable) as caught:
        materialise(spec, FakeMaterials(tmp_path / "cache").materials())
    message = str(caught.value)
    assert "'mylib'" in message and "path libs/empty" in message
    assert "neither a pyproject.toml nor a setup.py" in message
    assert caught.value.exit_code == EXIT_USER and caught.value.name == "mylib"


def test_metadata_naming_another_project_is_refused(tmp_path: Path) -> None:
    _project(tmp_path / "proj", "libs/mylib")
    fake = FakeMaterials(tmp_path / "cache", names={"mylib": ("otherlib", "1.0")})
    spec = _spec(tmp_path / "proj", 'mylib = { path = "libs/mylib" }', ["mylib"])
    with pytest.raises(SourceNotUsable) as caught:
        materialise(spec, fake.materials())
    assert "'mylib'" in str(caught.value) and "'otherlib'" in str(caught.value)
    assert caught.value.hint is not None and "otherlib" in caught.value.hint
    assert caught.value.exit_code == EXIT_USER


def test_names_limits_which_sources_are_materialised(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    _project(project, "libs/a")
    _project(project, "libs/b")
    fake = FakeMaterials(tmp_path / "cache")
    spec = _spec(project, 'a = { path = "libs/a" }\nb = { path = "libs/b" }', ["a", "b"])
    assert set(materialise(spec, fake.materials())) == {"a", "b"}
    fake.directory_calls.clear()
    assert set(materialise(spec, fake.materials(), names={"b"})) == {"b"}  # type: ignore[arg-type]
    assert [name for _, name, _ in fake.directory_calls] == ["b"]
    assert materialise(spec, fake.materials(), names=set()) == {}


# ── local archives ────────────────────────────────────────────────────────────────────────────


def test_a_missing_path_is_refused_with_the_path(tmp_path: Path) -> None:
    spec = _spec(tmp_path / "proj", 'x = { path = "wheels/x-1.0-py3-none-any.whl" }', ["x"])
    (tmp_path / "proj").mkdir()
    with pytest.raises(SourceNotUsable) as caught:
        materialise(spec, FakeMaterials(tmp_path / "cache").materials())
    assert "'x'" in str(caught.value) and "does not exist" in str(caught.value)
    assert "x-1.0-py3-none-any.whl" in str(caught.value)
    assert caught.value.exit_code == EXIT_USER


def test_a_file_that_is_not_an_archive_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "x-1.0.egg").write_bytes(b"old")
    spec = _spec(project, 'x = { path = "x-1.0.egg" }', ["x"])
    with pytest.raises(SourceNotUsable) as caught:
        materialise(spec, FakeMaterials(tmp_path / "cache").materials())
    assert "'x-1.0.egg'" in str(caught.value) and "not a wheel" in str(caught.value)
    assert caught.value.exit_code == EXIT_USER


def test_editable_on_a_file_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "x-1.0-py3-none-any.whl").write_bytes(b"wheel")
    spec = _spec(project, 'x = { path = "x-1.0-py3-none-any.whl", editable = true }', ["x"])
    with pytest.raises(SourceNotUsable) as caught:
        materialise(spec, FakeMaterials(tmp_path / "cache").materials())
    assert "'x'" in str(caught.value) and "editable" in str(caught.value)
    assert caught.value.exit_code == EXIT_USER


def test_a_local_wheel_is_hashed_and_measured_from_disk(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = wheels / "vendored-1.0-py3-none-any.whl"
    content = b"not really a zip, but bytes to hash" * 10
    wheel.write_bytes(content)
    fake = FakeMaterials(tmp_path / "cache", names={"vendored": ("vendored", "1.0")})
    spec = _spec(
        project, 'vendored = { path = "../wheels/vendored-1.0-py3-none-any.whl" }', ["vendored"]
    )
    package = _one(spec, fake)
    assert package.kind == "archive" and package.local
    assert package.file.sha256 == hashlib.sha256(content).hexdigest()
    assert package.file.size == len(content)
    assert package.file.filename == wheel.name and package.file.kind == "wheel"
    assert package.location == "../wheels/vendored-1.0-py3-none-any.whl"
    assert fake.downloads == []  # read from disk, never downloaded
    ((path, _),) = fake.archive_calls
    assert path == wheel


def test_a_local_file_url_is_a_local_archive(tmp_path: Path) -> None:
    sdist = tmp_path / "dist" / "x-2.0.tar.gz"
    sdist.parent.mkdir()
    sdist.write_bytes(b"sdist")
    fake = FakeMaterials(tmp_path / "cache", names={"x": ("x", "2.0")})
    package = _one(_spec(tmp_path / "proj", f'x = {{ url = "{sdist.as_uri()}" }}', ["x"]), fake)
    assert package.local and package.location == "../dist/x-2.0.tar.gz"
    assert package.file.sha256 == hashlib.sha256(b"sdist").hexdigest()
    assert fake.downloads == []


def test_a_local_wheel_must_match_its_written_sha256(tmp_path: Path) -> None:
    wheel = tmp_path / "dist" / "x-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"tampered")
    url = f"{wheel.as_uri()}#sha256={SHA_OF_NOTHING}"
    spec = _spec(tmp_path / "proj", f'x = {{ url = "{url}" }}', ["x"])
    with pytest.raises(OutsideWorldError) as caught:
        materialise(spec, FakeMaterials(tmp_path / "cache").materials())
    assert caught.value.exit_code == EXIT_OUTSIDE
    assert SHA_OF_NOTHING in str(caught.value)
    assert hashlib.sha256(b"tampered").hexdigest() in str(caught.value)


# ── remote archives ───────────────────────────────────────────────────────────────────────────


def test_a_url_archive_is_downloaded_with_the_hash_the_user_wrote(tmp_path: Path) -> None:
    fake = FakeMaterials(tmp_path / "cache", payload=b"", names={"tool": ("tool", "2.0")})
    url = "https://example.com/dist/tool-2.0-py3-none-any.whl"
    spec = _spec(tmp_path / "proj", f'tool = {{ url = "{url}#sha256={SHA_OF_NOTHING}" }}', ["tool"])
    package = _one(spec, fake)
    (asked,) = fake.downloads
    assert asked.url == url and asked.hashes == {"sha256": SHA_OF_NOTHING}
    assert asked.filename == "tool-2.0-py3-none-any.whl"
    assert package.kind == "archive" and not package.local
    assert package.location == url
    assert package.file.sha256 == SHA_OF_NOTHING and package.file.size == 0
    assert str(package.metadata.version) == "2.0"


def test_a_url_archive_without_a_hash_is_hashed_after_download(tmp_path: Path) -> None:
    fake = FakeMaterials(tmp_path / "cache", payload=b"sdist bytes")
    url = "https://example.com/devtools-0.1.tar.gz"
    package = _one(_spec(tmp_path / "proj", f'devtools = {{ url = "{url}" }}', ["devtools"]), fake)
    (asked,) = fake.downloads
    assert asked.url == url and dict(asked.hashes) == {}
    assert package.file.sha256 == hashlib.sha256(b"sdist bytes").hexdigest()
    assert package.file.size == len(b"sdist bytes")
    assert package.file.kind == "sdist" and package.location == url


def test_a_url_that_names_no_archive_is_refused_before_downloading(tmp_path: Path) -> None:
    fake = FakeMaterials(tmp_path / "cache")
    spec = _spec(tmp_path / "proj", 'x = { url = "https://example.com/download?id=3" }', ["x"])
    with pytest.raises(SourceNotUsable):
        materialise(spec, fake.materials())
    assert fake.downloads == []


# ── helpers ───────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("source", "filename"),
    [
        (Source(url="https://h.example/a/b/x-1.0-py3-none-any.whl"), "x-1.0-py3-none-any.whl"),
        (Source(url="https://h.example/my%20dist/x-1.0.zip"), "x-1.0.zip"),
        (Source(url="https://h.example/x%2B1-1.0.tar.gz"), "x+1-1.0.tar.gz"),
        (Source(path="..\\wheels\\x-1.0-py3-none-any.whl"), "x-1.0-py3-none-any.whl"),
    ],
)
def test_archive_filename_is_the_last_segment_decoded(source: Source, filename: str) -> None:
    assert archive_filename("x", source) == filename


def test_lock_relative_uses_forward_slashes(tmp_path: Path) -> None:
    assert lock_relative(tmp_path / "a" / "b" / "c", tmp_path / "a") == "b/c"
    assert lock_relative(tmp_path / "x", tmp_path / "a" / "b") == "../../x"
    assert lock_relative(tmp_path, tmp_path) == "."
