"""apply_plan / uninstall / InstallerLibrary on real venvs: what a user notices after a sync
(imports work, console scripts run, nothing is left behind) and after a sync that was killed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import pytest
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envspec.errors import EXIT_OUTSIDE
from envspec.plan import Action, Wanted, make_plan
from envspec.pythons.probe import probe_interpreter
from envspec.venv.apply import apply_plan
from envspec.venv.create import ensure_venv
from envspec.venv.installed import find_dist_info, read_installed
from envspec.venv.installers import InstallerLibrary, WheelInstaller, WheelInstallFailed
from envspec.venv.journal import JOURNAL_DIRNAME
from envspec.venv.layout import VenvLayout
from envspec.venv.linked import CachedUnpackInstaller
from envspec.venv.uninstall import uninstall
from tests.support.installers import HookedInstaller
from tests.support.pythons import require_python
from tests.support.universe import Release
from tests.support.wheels import build_wheel

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
PY38, PY312 = "3.8", "3.12"


def _venv(tmp_path: Path, interpreter: str = PY312) -> VenvLayout:
    probe = probe_interpreter(require_python(interpreter), cache_dir=tmp_path / "cache")
    layout, _ = ensure_venv(
        tmp_path / ".venv", interpreter=probe.path, version=probe.version, scheme=probe.scheme
    )
    return layout


def _wheel(
    tmp_path: Path,
    name: str,
    version: str,
    *,
    scripts: Mapping[str, str] | None = None,
    extra_files: Mapping[str, bytes] | None = None,
) -> tuple[Wanted, Path]:
    release = Release(
        name=canonicalize_name(name),
        version=Version(version),
        scripts=MappingProxyType(dict(scripts or {})),
    )
    artifact = build_wheel(release, extra_files=extra_files)
    folder = tmp_path / "wheels"
    folder.mkdir(exist_ok=True)
    path = folder / artifact.filename
    path.write_bytes(artifact.data)
    wanted = Wanted(
        name=release.name,
        version=release.version,
        url=path.as_uri(),
        filename=artifact.filename,
        sha256=artifact.sha256,
    )
    return wanted, path


def _sync(
    layout: VenvLayout,
    wheels: list[tuple[Wanted, Path]],
    installer: WheelInstaller | None = None,
) -> list[str]:
    """One sync as envspec.commands.sync does it; returns what progress reported."""
    plan = make_plan([w for w, _ in wheels], read_installed(layout))
    seen: list[Action] = []
    apply_plan(
        plan, layout, {w.name: p for w, p in wheels}, installer=installer, progress=seen.append
    )
    return sorted(str(a) for a in seen)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _run(layout: VenvLayout, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [*args], capture_output=True, text=True, check=True, env=env, cwd=layout.root
    )
    return done.stdout.strip()


def _installer(kind: str, tmp_path: Path) -> WheelInstaller:
    if kind == "cached":
        return CachedUnpackInstaller(tmp_path / "unpacked")
    return InstallerLibrary()


@pytest.mark.parametrize("kind", ["installer", "cached"])
@pytest.mark.parametrize("interpreter", [PY38, PY312], ids=["3.8", "3.12"])
def test_install_import_script_then_uninstall_leaves_nothing(
    tmp_path: Path, interpreter: str, kind: str
) -> None:
    layout = _venv(tmp_path, interpreter)
    pristine = _tree(layout.root)
    demo = _wheel(tmp_path, "demo-pkg", "1.2", scripts={"demo-cli": "demo_pkg.cli:main"})
    assert _sync(layout, [demo], _installer(kind, tmp_path)) == ["+ demo-pkg==1.2"]

    assert not list(layout.purelib.rglob("*.pyc"))  # no bytecode compiled at install time
    imported = _run(layout, str(layout.python), "-c", "import demo_pkg; print(demo_pkg.__file__)")
    assert Path(imported).parent == layout.purelib / "demo_pkg"
    assert list(layout.purelib.rglob("*.pyc"))  # the import wrote __pycache__ ...
    assert _run(layout, str(layout.scripts / "demo-cli")) == "demo-pkg 1.2"
    dist_info = find_dist_info(layout, "demo-pkg")
    assert dist_info is not None
    assert (dist_info / "INSTALLER").read_text().strip() == "envspec"
    assert "../../../bin/demo-cli," in (dist_info / "RECORD").read_text()

    uninstall(layout, NormalizedName("demo-pkg"))
    assert _tree(layout.root) == pristine  # ... and uninstall removed it with everything else


def test_a_plan_upgrades_removes_keeps_and_adds(tmp_path: Path) -> None:
    layout = _venv(tmp_path)
    a1 = _wheel(tmp_path, "a", "1.0", extra_files={"a/only_in_one.py": b"X = 1\n"})
    b1, c1 = _wheel(tmp_path, "b", "1.0"), _wheel(tmp_path, "c", "1.0")
    assert _sync(layout, [a1, b1, c1]) == ["+ a==1.0", "+ b==1.0", "+ c==1.0"]
    c_init = layout.purelib / "c" / "__init__.py"
    c_stat = c_init.stat()

    a2, d1 = _wheel(tmp_path, "a", "2.0"), _wheel(tmp_path, "d", "1.0")
    assert _sync(layout, [a2, c1, d1]) == ["+ d==1.0", "- b==1.0", "~ a 1.0 -> 2.0"]
    installed = read_installed(layout)
    assert {n: str(i.version) for n, i in installed.items()} == {"a": "2.0", "c": "1.0", "d": "1.0"}
    assert not any(i.damaged for i in installed.values())
    assert not (layout.purelib / "a" / "only_in_one.py").exists()
    assert not (layout.purelib / "b").exists()
    assert c_init.stat().st_mtime_ns == c_stat.st_mtime_ns  # untouched
    assert not (layout.root / JOURNAL_DIRNAME).exists()
    assert _sync(layout, [a2, c1, d1]) == []  # converged


def test_namespace_packages_installed_in_parallel_and_removed_apart(tmp_path: Path) -> None:
    layout = _venv(tmp_path)
    wheels = [
        _wheel(tmp_path, f"ns-part{i}", "1.0", extra_files={f"ns/part{i}/__init__.py": b""})
        for i in range(6)
    ]
    _sync(layout, wheels)
    assert sorted(p.name for p in (layout.purelib / "ns").iterdir()) == [
        f"part{i}" for i in range(6)
    ]
    _sync(layout, wheels[1:])
    assert not (layout.purelib / "ns" / "part0").exists()
    assert (layout.purelib / "ns" / "part1" / "__init__.py").exists()
    _sync(layout, [])
    assert not (layout.purelib / "ns").exists()
    assert read_installed(layout) == {}


def test_a_broken_wheel_fails_cleanly(tmp_path: Path) -> None:
    layout = _venv(tmp_path)
    good = _wheel(tmp_path, "good", "1.0")
    bad_wanted, bad_path = _wheel(tmp_path, "bad", "1.0")
    bad_path.write_bytes(bad_path.read_bytes()[: len(bad_path.read_bytes()) // 2])
    with pytest.raises(WheelInstallFailed) as caught:
        _sync(layout, [good, (bad_wanted, bad_path)])
    assert caught.value.exit_code == EXIT_OUTSIDE
    assert "bad" in str(caught.value)
    assert "bad" not in read_installed(layout)
    assert not (layout.purelib / "bad").exists()


def test_uninstall_never_deletes_outside_the_venv(tmp_path: Path) -> None:
    layout = _venv(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    dist_info = layout.purelib / "evil-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Name: evil\nVersion: 1.0\n")
    relative = os.path.relpath(outside, layout.purelib)
    (dist_info / "RECORD").write_text(
        f"{relative},,\n{os.path.relpath(layout.python, layout.purelib)},,\n"
    )
    uninstall(layout, NormalizedName("evil"))
    assert outside.read_text() == "not yours"
    assert layout.python.exists()
    assert not dist_info.exists()


_KILLED_SYNC = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from packaging.version import Version
    from envspec.plan import Wanted, make_plan
    from envspec.venv.apply import apply_plan
    from envspec.venv.installed import find_dist_info, read_installed
    from envspec.venv.installers import InstallerLibrary
    from envspec.venv.layout import VenvLayout
    from tests.support.installers import HookedInstaller

    args = json.loads(sys.argv[1])
    layout = VenvLayout.from_dict(args["layout"])
    wanted = Wanted(name=args["name"], version=Version(args["version"]), url="u",
                    filename="f", sha256="s")

    def dies_before_dist_info(layout, name, planned):
        for path in planned:  # killed once the install made its directories, at the first file
            os.makedirs(os.path.dirname(path), exist_ok=True)
        (layout.purelib / "victim" / "__init__.py").write_text("half")
        os._exit(17)

    def dies_before_record(layout, name, planned):
        (find_dist_info(layout, name) / "RECORD").unlink()
        os._exit(17)

    if args["when"] == "before-record":
        dies_midway = HookedInstaller(InstallerLibrary(), after_run=dies_before_record)
    else:
        dies_midway = HookedInstaller(InstallerLibrary(), before_run=dies_before_dist_info)
    plan = make_plan([wanted], read_installed(layout))
    apply_plan(plan, layout, {wanted.name: Path(args["wheel"])}, installer=dies_midway)
    """
)


@pytest.mark.parametrize("when", ["before-record", "before-dist-info"])
def test_a_killed_install_is_repaired_by_the_next_sync(tmp_path: Path, when: str) -> None:
    layout = _venv(tmp_path)
    victim = _wheel(tmp_path, "victim", "1.0")
    args = {
        "layout": layout.as_dict(),
        "name": "victim",
        "version": "1.0",
        "wheel": str(victim[1]),
        "when": when,
    }
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_SYNC, json.dumps(args)],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 17, done.stderr.decode()
    assert (layout.purelib / "victim" / "__init__.py").exists()

    seen = read_installed(layout)
    assert seen[NormalizedName("victim")].damaged  # never mistaken for an intact install

    # the lock still wants it: reinstalled, healthy
    assert _sync(layout, [victim]) == ["~ victim==1.0 (reinstall)"]
    assert not read_installed(layout)[NormalizedName("victim")].damaged
    assert (
        _run(layout, str(layout.python), "-c", "import victim; print(victim.__version__)") == "1.0"
    )
    assert not (layout.root / JOURNAL_DIRNAME).exists()


def test_a_killed_install_of_a_dropped_package_leaves_nothing(tmp_path: Path) -> None:
    layout = _venv(tmp_path)
    pristine = _tree(layout.root)
    victim = _wheel(tmp_path, "victim", "1.0")
    args = {
        "layout": layout.as_dict(),
        "name": "victim",
        "version": "1.0",
        "wheel": str(victim[1]),
        "when": "before-dist-info",
    }
    subprocess.run([sys.executable, "-c", _KILLED_SYNC, json.dumps(args)], cwd=REPO, check=False)
    assert (layout.purelib / "victim").exists()
    plan = make_plan([], read_installed(layout))
    assert [a.kind for a in plan.actions] == ["remove"]
    apply_plan(plan, layout, {})
    assert _tree(layout.root) == pristine


def test_the_cached_installer_installs_what_installer_does_with_hard_links(
    tmp_path: Path,
) -> None:
    data_script = b"#!python\nprint('from .data/scripts')\n"
    demo = _wheel(
        tmp_path,
        "demo",
        "1.0",
        scripts={"demo-cli": "demo:main"},
        extra_files={"demo-1.0.data/scripts/demo-raw": data_script, "demo/sub/x.txt": b"x"},
    )
    layout = _venv(tmp_path / "one")
    snapshots = []
    for installer in (InstallerLibrary(), CachedUnpackInstaller(tmp_path / "unpacked")):
        _sync(layout, [demo], installer)
        dist_info = find_dist_info(layout, "demo")
        assert dist_info is not None
        snapshots.append((_tree(layout.root), (dist_info / "RECORD").read_text()))
        uninstall(layout, demo[0].name)
    assert snapshots[0] == snapshots[1]  # same files, same RECORD, hashes and sizes

    _sync(layout, [demo], CachedUnpackInstaller(tmp_path / "unpacked"))
    other = _venv(tmp_path / "two")
    _sync(other, [demo], CachedUnpackInstaller(tmp_path / "unpacked"))
    raw = (layout.scripts / "demo-raw").read_text()
    assert raw.startswith(f"#!{layout.python}\n")  # shebang rewritten: a copy, not a link
    module = layout.purelib / "demo" / "__init__.py"
    assert module.stat().st_ino == (other.purelib / "demo" / "__init__.py").stat().st_ino
    assert _run(layout, str(layout.scripts / "demo-cli")) == "demo 1.0"


# ── the unpacked-wheel cache's fast path: what installer would have written, exactly ─────────


def _zip_wheel(tmp_path: Path, name: str, files: Mapping[str, tuple[bytes, int]]) -> Path:
    """A wheel written by hand (modes, Root-Is-Purelib, .data, gui scripts): archive path →
    (bytes, unix mode); RECORD is added."""
    import base64
    import hashlib
    import zipfile

    dist_info = next(p.split("/")[0] for p in files if p.split("/")[0].endswith(".dist-info"))
    lines = []
    for path, (data, _) in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        quoted = f'"{path}"' if "," in path else path
        lines.append(f"{quoted},sha256={digest},{len(data)}")
    lines.append(f"{dist_info}/RECORD,,")
    wheel = tmp_path / "wheels" / name
    wheel.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, (data, mode) in {
            **files,
            f"{dist_info}/RECORD": ("\n".join(lines).encode() + b"\n", 0o644),
        }.items():
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, data)
    return wheel


def _rich_wheel(tmp_path: Path) -> Path:
    di, data = "rich-2.0.dist-info", "rich-2.0.data"
    return _zip_wheel(
        tmp_path,
        "rich-2.0-cp312-cp312-linux_x86_64.whl",
        {
            "rich/__init__.py": (b"def main():\n    print('rich 2.0')\n", 0o644),
            "rich/tool.sh": (b"#!/bin/sh\necho tool\n", 0o755),
            "rich/odd, name.txt": (b"a comma in the name\n", 0o644),
            f"{data}/scripts/rich-raw": (b"#!python\nprint('raw')\n", 0o755),
            f"{data}/scripts/rich-sh": (b"#!/bin/sh\necho sh\n", 0o755),
            f"{data}/data/share/rich/readme.txt": (b"data file\n", 0o644),
            f"{data}/headers/rich.h": (b"int rich;\n", 0o644),
            f"{data}/purelib/rich_extra.py": (b"X = 1\n", 0o644),
            f"{di}/METADATA": (b"Metadata-Version: 2.1\nName: rich\nVersion: 2.0\n", 0o644),
            f"{di}/WHEEL": (
                b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp312-cp312-linux_x86_64\n",
                0o644,
            ),
            f"{di}/entry_points.txt": (
                b"[console_scripts]\nrich-cli = rich:main\n[gui_scripts]\nrich-gui = rich:main\n",
                0o644,
            ),
            f"{di}/INSTALLER": (b"not-envspec\n", 0o644),  # replaced, never written through
        },
    )


def _snapshot(layout: VenvLayout) -> dict[str, tuple[int, bytes]]:
    """Every file of the venv: mode and content (directories: mode only)."""
    found: dict[str, tuple[int, bytes]] = {}
    for path in sorted(layout.root.rglob("*")):
        mode = path.lstat().st_mode
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        found[str(path.relative_to(layout.root))] = (mode, content)
    return found


def test_the_cached_installer_writes_the_same_bytes_and_modes_as_installer(
    tmp_path: Path,
) -> None:
    wheel = _rich_wheel(tmp_path)
    name = NormalizedName("rich")
    layout = _venv(tmp_path)
    cache = tmp_path / "unpacked"
    results = {}
    installers: dict[str, WheelInstaller] = {
        "installer": InstallerLibrary(),
        "linked": CachedUnpackInstaller(cache),
        "copied": CachedUnpackInstaller(tmp_path / "unpacked-copies", link=False),
        "linked again": CachedUnpackInstaller(cache),
    }
    for label, installer in installers.items():
        installer.install(wheel, layout, name=name)
        results[label] = _snapshot(layout)
        uninstall(layout, name)
    reference = results.pop("installer")
    record = next(v for k, v in reference.items() if k.endswith(".dist-info/RECORD"))[1]
    assert b'"rich/odd, name.txt",sha256=' in record  # csv quoting, as installer writes it
    assert b"../../../bin/rich-raw,sha256=" in record
    assert b"../../../include/site/python3.12/rich/rich.h," in record
    for label, snapshot in results.items():
        assert snapshot == reference, label

    entry = next(p for p in cache.iterdir() if not p.name.startswith("."))
    assert (entry / "rich-2.0.dist-info" / "INSTALLER").read_bytes() == b"not-envspec\n"
    assert (entry / "rich-2.0.data" / "scripts" / "rich-raw").read_bytes().startswith(b"#!python")


def test_an_entry_unpacked_by_an_older_envspec_gets_its_install_manifest(tmp_path: Path) -> None:
    demo = _wheel(tmp_path, "demo", "1.0", scripts={"demo-cli": "demo:main"})
    cache = tmp_path / "unpacked"
    layout = _venv(tmp_path)
    _sync(layout, [demo], CachedUnpackInstaller(cache))
    expected = _snapshot(layout)
    uninstall(layout, demo[0].name)
    (entry,) = [p for p in cache.iterdir() if not p.name.startswith(".")]
    install_manifest = entry / ".envspec-install.json"
    install_manifest.unlink()  # what an entry written before the install manifest looks like

    _sync(layout, [demo], CachedUnpackInstaller(cache))
    assert _snapshot(layout) == expected
    assert json.loads(install_manifest.read_text())["project"] == "demo"  # kept for next time
    assert _run(layout, str(layout.scripts / "demo-cli")) == "demo 1.0"


_KILLED_LINKING = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from packaging.version import Version
    from envspec.plan import Wanted, make_plan
    from envspec.venv.apply import apply_plan
    from envspec.venv.installed import read_installed
    from envspec.venv.linked import CachedUnpackInstaller
    from envspec.venv.layout import VenvLayout

    args = json.loads(sys.argv[1])
    layout = VenvLayout.from_dict(args["layout"])
    wanted = Wanted(name="victim", version=Version("1.0"), url="u", filename="f", sha256="s")
    real_link, links = os.link, []

    def dies_after_two(*a, **k):
        links.append(a)
        if len(links) > 2:
            os._exit(17)
        return real_link(*a, **k)

    installer = CachedUnpackInstaller(Path(args["cache"]))
    installer.unpacked(Path(args["wheel"]))
    os.link = dies_after_two
    plan = make_plan([wanted], read_installed(layout))
    apply_plan(plan, layout, {wanted.name: Path(args["wheel"])}, installer=installer)
    """
)


def test_a_killed_linking_install_is_repaired_and_leaves_nothing_behind(tmp_path: Path) -> None:
    layout = _venv(tmp_path)
    pristine = _tree(layout.root)
    victim = _wheel(
        tmp_path,
        "victim",
        "1.0",
        scripts={"victim-cli": "victim:main"},
        extra_files={f"victim/m{i}.py": b"X = 1\n" for i in range(6)},
    )
    cache = tmp_path / "unpacked"
    args = {"layout": layout.as_dict(), "wheel": str(victim[1]), "cache": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_LINKING, json.dumps(args)],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 17, done.stderr.decode()
    assert (layout.root / JOURNAL_DIRNAME).is_dir()  # the journal was written before any file
    assert NormalizedName("victim") not in {
        n for n, i in read_installed(layout).items() if not i.damaged
    }  # never seen as intact

    assert _sync(layout, [victim], CachedUnpackInstaller(cache)) != []
    assert _run(layout, str(layout.scripts / "victim-cli")) == "victim 1.0"
    assert not (layout.root / JOURNAL_DIRNAME).exists()
    _sync(layout, [], CachedUnpackInstaller(cache))
    assert _tree(layout.root) == pristine


# ── packages from sources: direct_url.json and ENVSPEC_SOURCE ────────────────────────────────


def _from_directory(
    tmp_path: Path, digest: str, *, editable: bool = True
) -> tuple[Wanted, Path]:
    """``mylib`` built from the local directory ``<tmp>/libs/mylib`` into an editable wheel: a
    ``.pth`` file putting the source directory on sys.path (what PEP 660 backends commonly do)."""
    source = tmp_path / "libs" / "mylib"
    source.mkdir(parents=True, exist_ok=True)
    (source / "mylib_live.py").write_text("WHERE = 'the source tree'\n")
    built, path = _wheel(
        tmp_path, "mylib", "0.1", extra_files={"_mylib_editable.pth": f"{source}\n".encode()}
    )
    wanted = Wanted(
        name=built.name,
        version=None,
        url=source.as_uri(),
        filename="mylib",
        sha256=None,
        kind="directory",
        editable=editable,
        direct_url=source.as_uri(),
        source_digest=digest,
        source_label="libs/mylib",
    )
    return wanted, path


def _record_rows(dist_info: Path) -> dict[str, str]:
    rows = [line.split(",") for line in (dist_info / "RECORD").read_text().splitlines()]
    return {row[0]: row[1] for row in rows}


@pytest.mark.parametrize("kind", ["installer", "cached"])
def test_a_directory_install_records_its_source_and_is_verified_and_removed_cleanly(
    tmp_path: Path, kind: str
) -> None:
    from envspec.venv.verify import verify_files
    from tests.support.wheels import record_hash

    layout = _venv(tmp_path)
    pristine = _tree(layout.root)
    installer = _installer(kind, tmp_path)
    mylib = _from_directory(tmp_path, "digest-1")
    assert _sync(layout, [mylib], installer) == ["+ mylib (libs/mylib)"]

    dist_info = find_dist_info(layout, "mylib")
    assert dist_info is not None
    direct_url = (dist_info / "direct_url.json").read_bytes()
    source_uri = (tmp_path / "libs" / "mylib").as_uri()
    assert json.loads(direct_url) == {"url": source_uri, "dir_info": {"editable": True}}
    assert b" " not in direct_url  # compact
    assert (dist_info / "ENVSPEC_SOURCE").read_bytes() == b"digest-1\n"
    rows = _record_rows(dist_info)
    for generated in ("direct_url.json", "ENVSPEC_SOURCE", "INSTALLER"):
        data = (dist_info / generated).read_bytes()
        assert rows[f"{dist_info.name}/{generated}"] == f"sha256={record_hash(data)}"

    (seen,) = read_installed(layout).values()
    assert (seen.direct_url, seen.editable, seen.source_digest) == (source_uri, True, "digest-1")
    assert not seen.damaged
    # the editable install reaches the source tree, and the check finds nothing wrong with it
    assert _run(layout, str(layout.python), "-c", "import mylib_live; print(mylib_live.WHERE)") == (
        "the source tree"
    )
    verified = verify_files(layout, [mylib[0].name])
    assert verified.findings == ()
    assert verified.checked_files == len(rows)

    assert _sync(layout, [mylib], installer) == []  # converged: nothing to do
    changed = _from_directory(tmp_path, "digest-2")
    assert _sync(layout, [changed], installer) == ["~ mylib (libs/mylib, source changed)"]
    assert (dist_info / "ENVSPEC_SOURCE").read_bytes() == b"digest-2\n"
    not_editable = _from_directory(tmp_path, "digest-2", editable=False)
    assert _sync(layout, [not_editable], installer) == [
        "~ mylib (libs/mylib, no longer editable)"
    ]
    assert json.loads((dist_info / "direct_url.json").read_bytes())["dir_info"] == {}
    assert not read_installed(layout)[NormalizedName("mylib")].editable

    _sync(layout, [], installer)
    assert _tree(layout.root) == pristine  # direct_url.json and ENVSPEC_SOURCE went too


@pytest.mark.parametrize("kind", ["installer", "cached"])
def test_a_wheel_built_from_an_sdist_url_is_installed_as_built_not_as_the_lock_hash(
    tmp_path: Path, kind: str
) -> None:
    """Two builds of one sdist (another Python, another compiler) differ: whatever the lock's
    sdist digest, the venv gets the wheel built now, with the sdist's URL and digest recorded."""
    layout = _venv(tmp_path)
    installer = _installer(kind, tmp_path)
    url = "https://files.test/packages/built-1.0.tar.gz"
    sdist_sha = "5" * 64

    def built(marker: bytes) -> tuple[Wanted, Path]:
        folder = tmp_path / marker.decode()
        folder.mkdir()
        index_wanted, path = _wheel(folder, "built", "1.0", extra_files={"built/which.txt": marker})
        wanted = Wanted(
            name=index_wanted.name,
            version=index_wanted.version,
            url=url,
            filename="built-1.0.tar.gz",
            sha256=sdist_sha,
            kind="sdist",
            direct_url=url,
            source_label=url,
        )
        return wanted, path

    first = built(b"first-build")
    assert _sync(layout, [first], installer) == [f"+ built==1.0 ({url})"]
    uninstall(layout, first[0].name)
    second = built(b"second-build")
    _sync(layout, [second], installer)
    assert (layout.purelib / "built" / "which.txt").read_bytes() == b"second-build"
    dist_info = find_dist_info(layout, "built")
    assert dist_info is not None
    assert json.loads((dist_info / "direct_url.json").read_bytes()) == {
        "url": url,
        "archive_info": {"hashes": {"sha256": sdist_sha}, "hash": f"sha256={sdist_sha}"},
    }
    assert not (dist_info / "ENVSPEC_SOURCE").exists()
    assert read_installed(layout)[NormalizedName("built")].direct_url == url

    # the same version from the index replaces it (and no longer claims the URL)
    from_index = _wheel(tmp_path / "second-build", "built", "1.0")
    assert _sync(layout, [from_index], installer) == ["~ built==1.0 (now from an index)"]
    assert read_installed(layout)[NormalizedName("built")].direct_url is None
    assert not (dist_info / "direct_url.json").exists()


@pytest.mark.parametrize("kind", ["installer", "cached"])
def test_the_journal_lists_the_generated_dist_info_files(tmp_path: Path, kind: str) -> None:
    """Crash safety: every path an install writes is in its journal before the first is written,
    so a killed install of a package from a source leaves nothing the next sync cannot find."""
    layout = _venv(tmp_path)
    installer = _installer(kind, tmp_path)
    journals: list[set[str]] = []

    def read_journal() -> None:
        (journal,) = (layout.root / JOURNAL_DIRNAME).glob("*.json")
        journals.append(set(json.loads(journal.read_text())["paths"]))

    spy = HookedInstaller(installer, before_run=lambda *_: read_journal())
    _sync(layout, [_from_directory(tmp_path, "d")], spy)
    dist_info = find_dist_info(layout, "mylib")
    assert dist_info is not None
    written = {
        os.path.relpath(os.path.normpath(dist_info.parent / row), layout.root)
        for row in _record_rows(dist_info)
    }
    (journal,) = journals
    assert written <= journal
    assert any(p.endswith("direct_url.json") for p in written)
