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
from envspec.venv.apply import (
    CachedUnpackInstaller,
    InstallerLibrary,
    WheelInstaller,
    WheelInstallFailed,
    apply_plan,
    uninstall,
)
from envspec.venv.create import ensure_venv
from envspec.venv.installed import JOURNAL_DIRNAME, find_dist_info, read_installed
from envspec.venv.layout import VenvLayout
from tests.support.universe import Release
from tests.support.wheels import build_wheel

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PYENV = Path("/root/.pyenv/versions")
PY38 = PYENV / "3.8.18/bin/python3"
PY312 = PYENV / "3.12.1/bin/python3"


def _venv(tmp_path: Path, interpreter: Path = PY312) -> VenvLayout:
    if not interpreter.exists():
        pytest.skip(f"{interpreter} is not installed")
    probe = probe_interpreter(interpreter, cache_dir=tmp_path / "cache")
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
    """One sync as operations.sync does it; returns what progress reported."""
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
    tmp_path: Path, interpreter: Path, kind: str
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
    from envspec.venv.apply import InstallerLibrary, apply_plan
    from envspec.venv.installed import find_dist_info, read_installed
    from envspec.venv.layout import VenvLayout

    args = json.loads(sys.argv[1])
    layout = VenvLayout.from_dict(args["layout"])
    wanted = Wanted(name=args["name"], version=Version(args["version"]), url="u",
                    filename="f", sha256="s")

    class DiesMidway:
        def install(self, wheel, layout, *, name, sha256=None):
            if args["when"] == "before-record":
                InstallerLibrary().install(wheel, layout, name=name)
                (find_dist_info(layout, name) / "RECORD").unlink()
            else:
                (layout.purelib / "victim" / "__init__.py").write_text("half")
            os._exit(17)

    plan = make_plan([wanted], read_installed(layout))
    apply_plan(plan, layout, {wanted.name: Path(args["wheel"])}, installer=DiesMidway())
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
