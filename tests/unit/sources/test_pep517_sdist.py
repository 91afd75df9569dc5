"""unpack_sdist: the source root of a well-formed sdist; hostile archives refused before writing."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from envspec.sources.pep517 import UnsafeArchive, unpack_sdist


def make_tar(path: Path, members: dict[str, bytes], *, links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return path


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((0o755 if name.endswith(".sh") else 0o644) | stat.S_IFREG) << 16
            archive.writestr(info, data)
    return path


GOOD = {
    "demo-1.0/pyproject.toml": b"[project]\n",
    "demo-1.0/src/demo/__init__.py": b"X = 1\n",
    "demo-1.0/configure.sh": b"#!/bin/sh\n",
}


@pytest.mark.parametrize("maker,suffix", [(make_tar, ".tar.gz"), (make_zip, ".zip")])
def test_the_single_top_directory_is_the_source_root(
    tmp_path: Path, maker: object, suffix: str
) -> None:
    archive = maker(tmp_path / f"demo-1.0{suffix}", GOOD)  # type: ignore[operator]
    root = unpack_sdist(archive, tmp_path / "out")
    assert root == tmp_path / "out" / "demo-1.0"
    assert (root / "src" / "demo" / "__init__.py").read_bytes() == b"X = 1\n"
    assert (root / "configure.sh").stat().st_mode & stat.S_IXUSR  # executable bit kept
    assert not (root / "pyproject.toml").stat().st_mode & stat.S_IXUSR


def test_no_single_top_directory_means_the_target_itself(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "flat.tar.gz", {"setup.py": b"", "pkg/__init__.py": b""})
    assert unpack_sdist(archive, tmp_path / "out") == tmp_path / "out"


@pytest.mark.parametrize(
    "name",
    ["../evil.txt", "demo-1.0/../../evil.txt", "/tmp/evil-absolute.txt", "demo/..\\..\\evil.txt"],
)
@pytest.mark.parametrize("maker,suffix", [(make_tar, ".tar.gz"), (make_zip, ".zip")])
def test_path_traversal_is_refused_before_anything_is_written(
    tmp_path: Path, name: str, maker: object, suffix: str
) -> None:
    archive = maker(  # type: ignore[operator]
        tmp_path / f"bad{suffix}", {"demo-1.0/ok.txt": b"ok", name: b"pwned"}
    )
    out = tmp_path / "deep" / "out"
    with pytest.raises(UnsafeArchive) as caught:
        unpack_sdist(archive, out)
    assert repr(name) in str(caught.value)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "deep" / "evil.txt").exists()
    assert not Path("/tmp/evil-absolute.txt").exists()
    assert not (out / "demo-1.0" / "ok.txt").exists()


@pytest.mark.parametrize("target", ["/etc", "../../outside", "../.."])
def test_symlinks_pointing_outside_are_refused(tmp_path: Path, target: str) -> None:
    archive = make_tar(
        tmp_path / "links.tar.gz", {"demo-1.0/a.txt": b""}, links={"demo-1.0/link": target}
    )
    with pytest.raises(UnsafeArchive, match="points outside"):
        unpack_sdist(archive, tmp_path / "out")


def test_a_symlink_inside_the_tree_is_fine(tmp_path: Path) -> None:
    archive = make_tar(
        tmp_path / "ok.tar.gz",
        {"demo-1.0/README.md": b"readme"},
        links={"demo-1.0/docs/README.md": "../README.md"},
    )
    root = unpack_sdist(archive, tmp_path / "out")
    assert (root / "docs" / "README.md").read_bytes() == b"readme"


def test_devices_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "dev.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("demo-1.0/null")
        info.type = tarfile.CHRTYPE
        info.devmajor, info.devminor = 1, 3
        tar.addfile(info)
    with pytest.raises(UnsafeArchive, match="device"):
        unpack_sdist(archive, tmp_path / "out")


def test_garbage_and_unknown_formats(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tarball")
    with pytest.raises(UnsafeArchive, match="not a readable archive"):
        unpack_sdist(broken, tmp_path / "out")
    odd = tmp_path / "demo-1.0.rar"
    odd.write_bytes(b"")
    with pytest.raises(UnsafeArchive, match="not an sdist archive"):
        unpack_sdist(odd, tmp_path / "out2")
