"""Hostile wheels against both installers, uninstall and the file check: nothing is ever written,
deleted or read outside the venv; the venv's interpreter, pyvenv.cfg and activation scripts are
never replaced; a zip bomb is refused before it is inflated; and an edit made through a hard link
in one venv never reaches a venv synced later."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from packaging.utils import NormalizedName, canonicalize_name

from envspec.errors import EXIT_OUTSIDE, EnvspecError
from envspec.venv.apply import apply_plan
from envspec.venv.installers import (
    InstallerLibrary,
    UnsafeWheel,
    WheelInstaller,
    WheelInstallFailed,
)
from envspec.venv.linked import CachedUnpackInstaller
from envspec.venv.uninstall import uninstall
from envspec.plan import Action, Plan, Wanted
from envspec.venv.installed import find_dist_info
from envspec.venv.journal import JOURNAL_DIRNAME
from envspec.venv.layout import VenvLayout
from envspec.venv.verify import verify_files
from tests.support.hostile_wheels import (
    member_wheel,
    ratio_bomb_wheel,
    release,
    script_wheel,
    zip_bomb_wheel,
)
from tests.support.wheels import Artifact, build_wheel

EVIL = canonicalize_name("evil")


def _fake_venv(root: Path) -> VenvLayout:
    """What the installers and the check need of a venv, without creating one (milliseconds):
    pyvenv.cfg, bin/python (a link to this interpreter, as venv makes it), activation scripts."""
    layout = VenvLayout.from_scheme(
        root,
        {
            "purelib": "lib/python3.12/site-packages",
            "platlib": "lib/python3.12/site-packages",
            "scripts": "bin",
            "data": "",
            "include": "include/python3.12",
        },
        windows=False,
    )
    layout.purelib.mkdir(parents=True)
    layout.scripts.mkdir()
    (root / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.0\n")
    layout.python.symlink_to(sys.executable)
    (layout.scripts / "python3").symlink_to("python")
    (layout.scripts / "activate").write_text("# activate\n")
    return layout


def _write(tmp_path: Path, artifact: Artifact) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir(exist_ok=True)
    path = folder / artifact.filename
    path.write_bytes(artifact.data)
    return path


def _installer(kind: str, tmp_path: Path) -> WheelInstaller:
    if kind == "library":
        return InstallerLibrary()
    return CachedUnpackInstaller(tmp_path / "unpacked", link_mode=kind)  # type: ignore[arg-type]


INSTALLERS = ["library", "hardlink", "copy"]


def _snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root``: file contents, link targets."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


def _install(
    installer: WheelInstaller, layout: VenvLayout, wheel: Path, name: NormalizedName = EVIL
) -> None:
    wanted = Wanted(name=name, version=None, url=wheel.as_uri(), filename=wheel.name, sha256=None)
    apply_plan(
        Plan(actions=(Action(kind="install", name=name, old=None, new=None, wanted=wanted),)),
        layout,
        {name: wheel},
        installer=installer,
    )


def _assert_refused(
    error: pytest.ExceptionInfo[UnsafeWheel], layout: VenvLayout, before: dict[str, bytes | str],
    path: str,
) -> None:
    assert error.value.exit_code == EXIT_OUTSIDE
    assert error.value.name == "evil" and error.value.path == path
    assert "evil" in str(error.value) and repr(path) in str(error.value)
    assert find_dist_info(layout, "evil") is None
    assert not (layout.root / JOURNAL_DIRNAME).exists()
    assert _snapshot(layout.root) == before  # nothing of it written, nothing replaced


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    return outside


# ── class 1: every write lands inside its scheme directory ─────────────────────────────────────


@pytest.mark.parametrize("kind", INSTALLERS)
def test_a_console_script_climbing_out_of_the_venv_is_refused(tmp_path: Path, kind: str) -> None:
    layout = _fake_venv(tmp_path / "venv")
    outside = _outside(tmp_path)
    script = os.path.relpath(outside / "out-script", layout.scripts)
    assert script.startswith("../")
    wheel = _write(tmp_path, script_wheel(script))
    before = _snapshot(layout.root)
    with pytest.raises(UnsafeWheel) as error:
        _install(_installer(kind, tmp_path), layout, wheel)
    _assert_refused(error, layout, before, script)
    assert "outside" in str(error.value)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("kind", INSTALLERS)
@pytest.mark.parametrize("script", ["python", "python3", "python3.12", "activate", "sub/dir"])
def test_a_console_script_may_not_replace_the_interpreter_or_be_a_path(
    tmp_path: Path, kind: str, script: str
) -> None:
    layout = _fake_venv(tmp_path / "venv")
    wheel = _write(tmp_path, script_wheel(script))
    before = _snapshot(layout.root)
    with pytest.raises(UnsafeWheel) as error:
        _install(_installer(kind, tmp_path), layout, wheel)
    _assert_refused(error, layout, before, script)
    assert os.path.realpath(layout.python) == os.path.realpath(sys.executable)


@pytest.mark.parametrize("kind", INSTALLERS)
@pytest.mark.parametrize(
    "member",
    [
        "evil-1.0.data/data/bin/python",
        "evil-1.0.data/scripts/python",
        "evil-1.0.data/scripts/python3.12",
        "evil-1.0.data/scripts/activate",
        "evil-1.0.data/scripts/Activate.ps1",
        "evil-1.0.data/data/pyvenv.cfg",
        "evil-1.0.data/data/.envspec-state.json",
    ],
)
def test_a_data_entry_may_not_replace_the_venvs_own_files(
    tmp_path: Path, kind: str, member: str
) -> None:
    layout = _fake_venv(tmp_path / "venv")
    wheel = _write(tmp_path, member_wheel({member: b"#!/bin/sh\necho owned\n"}))
    before = _snapshot(layout.root)
    with pytest.raises(UnsafeWheel) as error:
        _install(_installer(kind, tmp_path), layout, wheel)
    _assert_refused(error, layout, before, member)
    assert (layout.root / "pyvenv.cfg").read_text().startswith("home = ")


@pytest.mark.parametrize("kind", INSTALLERS)
@pytest.mark.parametrize(
    "member", ["../escape.txt", "/abs/escape.txt", "evil-1.0.data/purelib/../../../escape.txt",
               "evil/..\\..\\escape.txt"],
)
def test_a_member_name_leaving_the_archive_root_is_refused(
    tmp_path: Path, kind: str, member: str
) -> None:
    layout = _fake_venv(tmp_path / "venv")
    wheel = _write(tmp_path, member_wheel({member: b"escaped\n"}))
    before = _snapshot(layout.root)
    with pytest.raises(UnsafeWheel) as error:
        _install(_installer(kind, tmp_path), layout, wheel)
    _assert_refused(error, layout, before, member)
    assert not any(p.name == "escape.txt" for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("kind", INSTALLERS)
def test_a_write_through_a_link_out_of_the_venv_is_refused(tmp_path: Path, kind: str) -> None:
    layout = _fake_venv(tmp_path / "venv")
    outside = _outside(tmp_path)
    (layout.purelib / "evil").symlink_to(outside, target_is_directory=True)
    wheel = _write(tmp_path, build_wheel(release("evil")))  # evil/__init__.py
    before = _snapshot(layout.root)
    with pytest.raises(UnsafeWheel) as error:
        _install(_installer(kind, tmp_path), layout, wheel)
    _assert_refused(error, layout, before, "evil/__init__.py")
    assert list(outside.iterdir()) == []


def test_the_cache_unpack_refuses_with_an_envspec_error_not_a_traceback(tmp_path: Path) -> None:
    """``unpacked`` runs in the download threads: whatever it raises reaches the user."""
    installer = CachedUnpackInstaller(tmp_path / "unpacked")
    for artifact, path in (
        (member_wheel({"../../escape.txt": b"x"}), "../../escape.txt"),
        (zip_bomb_wheel(), "evil/bomb.bin"),
    ):
        wheel = _write(tmp_path, artifact)
        with pytest.raises(UnsafeWheel) as error:
            installer.unpacked(wheel)
        assert error.value.path == path and error.value.name == "evil"
    broken = tmp_path / "wheels" / "broken-1.0-py3-none-any.whl"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(WheelInstallFailed) as failed:
        installer.unpacked(broken)
    assert isinstance(failed.value, EnvspecError) and failed.value.name == "broken"
    assert not any((tmp_path / "unpacked").glob("[0-9a-f]*"))  # no entry, no leftovers
    assert not any(p.name == "escape.txt" for p in tmp_path.rglob("*"))


# ── class 7: a zip bomb is refused before it is inflated ───────────────────────────────────────


@pytest.mark.parametrize("kind", INSTALLERS)
@pytest.mark.parametrize("bomb", ["2 GiB declared", "64 MiB real"])
def test_a_zip_bomb_is_refused_quickly_and_writes_nothing(
    tmp_path: Path, kind: str, bomb: str
) -> None:
    layout = _fake_venv(tmp_path / "venv")
    artifact = zip_bomb_wheel() if bomb.startswith("2") else ratio_bomb_wheel()
    member = "evil/bomb.bin" if bomb.startswith("2") else "evil/blob.bin"
    wheel = _write(tmp_path, artifact)
    before = _snapshot(layout.root)
    started = time.perf_counter()
    with pytest.raises(UnsafeWheel) as error:
        _install(_installer(kind, tmp_path), layout, wheel)
    assert time.perf_counter() - started < 5
    _assert_refused(error, layout, before, member)
    assert "zip bomb" in str(error.value)
    unpacked = tmp_path / "unpacked"
    written = sum(p.stat().st_size for p in unpacked.rglob("*") if p.is_file()) if unpacked.exists() else 0
    assert written < 1 << 20


# ── class 2: uninstall deletes only inside the venv ────────────────────────────────────────────


@pytest.mark.parametrize("kind", INSTALLERS)
def test_uninstall_never_follows_a_link_out_of_the_venv(tmp_path: Path, kind: str) -> None:
    layout = _fake_venv(tmp_path / "venv")
    wheel = _write(tmp_path, member_wheel({"evil/data/file.txt": b"mine\n"}))
    _install(_installer(kind, tmp_path), layout, wheel)
    assert (layout.purelib / "evil" / "data" / "file.txt").is_file()
    # site-packages/evil/data replaced by a link to a directory outside holding the same name
    outside = _outside(tmp_path)
    (outside / "file.txt").write_text("precious\n")
    data = layout.purelib / "evil" / "data"
    (data / "file.txt").unlink()
    data.rmdir()
    data.symlink_to(outside, target_is_directory=True)
    uninstall(layout, EVIL)
    assert (outside / "file.txt").read_text() == "precious\n"
    assert find_dist_info(layout, "evil") is None
    assert not (layout.purelib / "evil" / "__init__.py").exists()
    assert os.path.realpath(layout.python) == os.path.realpath(sys.executable)


def test_uninstall_keeps_the_venvs_own_files_whatever_record_says(tmp_path: Path) -> None:
    layout = _fake_venv(tmp_path / "venv")
    wheel = _write(tmp_path, build_wheel(release("evil")))
    _install(InstallerLibrary(), layout, wheel)
    dist_info = find_dist_info(layout, "evil")
    assert dist_info is not None
    with (dist_info / "RECORD").open("a") as record:
        for path in ("../../../bin/python", "../../../bin/activate", "../../../pyvenv.cfg"):
            record.write(f"{path},,\n")
    before = {p: _snapshot(layout.root).get(p) for p in ("bin/python", "bin/activate", "pyvenv.cfg")}
    uninstall(layout, EVIL)
    assert {p: _snapshot(layout.root).get(p) for p in before} == before


# ── class 1: check never verifies a file outside the venv as part of a package ─────────────────


def test_check_reports_a_record_path_leading_out_of_the_venv_and_reads_nothing_there(
    tmp_path: Path,
) -> None:
    layout = _fake_venv(tmp_path / "venv")
    wheel = _write(tmp_path, member_wheel({"evil/data/file.txt": b"mine\n"}))
    _install(InstallerLibrary(), layout, wheel)
    outside = _outside(tmp_path)
    secret = outside / "secret.txt"
    secret.write_text("secret\n")
    dist_info = find_dist_info(layout, "evil")
    assert dist_info is not None
    climbing = os.path.relpath(secret, layout.purelib)
    with (dist_info / "RECORD").open("a") as record:
        record.write(f"{climbing},sha256=AAAA,7\n")
    data = layout.purelib / "evil" / "data"
    (data / "file.txt").unlink()
    data.rmdir()
    data.symlink_to(outside, target_is_directory=True)
    (outside / "file.txt").write_bytes(b"mine\n")  # what RECORD expects, but not in the venv
    os.chmod(secret, 0)  # were it opened, the check would say "cannot be read"
    try:
        report = verify_files(layout, [EVIL])
    finally:
        os.chmod(secret, 0o600)
    escaping = [f for f in report.findings if "outside the venv" in (f.detail or "")]
    assert {f.path for f in escaping} == {str(secret), "lib/python3.12/site-packages/evil/data/file.txt"}
    assert all(f.kind == "modified-file" and f.package == "evil" for f in escaping)
    assert not [f for f in report.findings if "cannot be read" in (f.detail or "")]


# ── class 5: an edit through a hard link never reaches another venv ────────────────────────────


def test_an_edit_through_a_hard_link_is_not_inherited_by_the_next_venv(tmp_path: Path) -> None:
    installer = CachedUnpackInstaller(tmp_path / "unpacked", link_mode="hardlink")
    wheel = _write(tmp_path, build_wheel(release("evil")))
    first = _fake_venv(tmp_path / "a")
    _install(installer, first, wheel)
    module = first.purelib / "evil" / "__init__.py"
    original = module.read_bytes()
    assert module.stat().st_nlink == 2  # shared with the cache entry
    with module.open("r+b") as handle:  # an in-place edit, as `open(..., "w")` does
        handle.write(b"#")
    assert module.read_bytes() != original

    second = _fake_venv(tmp_path / "b")
    _install(installer, second, wheel)
    assert (second.purelib / "evil" / "__init__.py").read_bytes() == original
    assert verify_files(second, [EVIL]).findings == ()
    # the edited venv still shows its own drift; the fresh one shares nothing with it
    assert [f.kind for f in verify_files(first, [EVIL]).findings] == ["modified-file"]
    assert (
        (second.purelib / "evil" / "__init__.py").stat().st_ino != module.stat().st_ino
    )


def test_a_chmod_through_a_hard_link_is_not_inherited_either(tmp_path: Path) -> None:
    installer = CachedUnpackInstaller(tmp_path / "unpacked", link_mode="hardlink")
    wheel = _write(tmp_path, build_wheel(release("evil")))
    first = _fake_venv(tmp_path / "a")
    _install(installer, first, wheel)
    module = first.purelib / "evil" / "__init__.py"
    mode = module.stat().st_mode
    module.chmod(0o777)
    second = _fake_venv(tmp_path / "b")
    _install(installer, second, wheel)
    assert (second.purelib / "evil" / "__init__.py").stat().st_mode == mode


@pytest.mark.parametrize("mode", ["clone", "hardlink", "copy"])
def test_every_link_mode_installs_the_same_files_and_only_hardlink_shares_them(
    tmp_path: Path, mode: str
) -> None:
    installer = CachedUnpackInstaller(tmp_path / "unpacked", link_mode=mode)  # type: ignore[arg-type]
    wheel = _write(tmp_path, script_wheel("evil-tool"))
    layout = _fake_venv(tmp_path / "venv")
    _install(installer, layout, wheel)
    assert verify_files(layout, [EVIL]).findings == ()
    module = layout.purelib / "evil" / "__init__.py"
    entry = next((tmp_path / "unpacked").glob("[0-9a-f]*"))
    cached = entry / "evil" / "__init__.py"
    assert module.read_bytes() == cached.read_bytes()
    assert (module.stat().st_ino == cached.stat().st_ino) == (mode == "hardlink")
    # an in-place edit in the venv leaves the cache alone unless the inode is shared
    with module.open("r+b") as handle:
        handle.write(b"#")
    assert (module.read_bytes() == cached.read_bytes()) == (mode == "hardlink")


def test_an_unknown_link_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="symlink"):
        CachedUnpackInstaller(Path("/nonexistent"), link_mode="symlink")  # type: ignore[arg-type]
