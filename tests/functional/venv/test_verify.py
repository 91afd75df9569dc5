"""verify_files / venv_python_findings on a real venv: what `envspec check` must notice after
someone edits, deletes or adds files in an installed package, or breaks its RECORD."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envspec.drift import Finding
from envspec.pythons.probe import probe_interpreter
from envspec.venv.installers import InstallerLibrary
from envspec.venv.create import ensure_venv
from envspec.venv.installed import find_dist_info
from envspec.venv.layout import VenvLayout
from envspec.venv.verify import venv_python_findings, verify_files
from tests.support.pythons import require_python
from tests.support.universe import Release
from tests.support.wheels import build_wheel

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> VenvLayout:
    """One venv holding three packages (one with a console script, two sharing a namespace
    directory), made once; each test works on its own copy."""
    python = require_python("3.12")
    base = tmp_path_factory.mktemp("verify")
    probe = probe_interpreter(python, cache_dir=base / "cache")
    layout, _ = ensure_venv(
        base / ".venv", interpreter=probe.path, version=probe.version, scheme=probe.scheme
    )
    _install(base, layout, "demo", scripts={"demo-cli": "demo.cli:main"},
             extra_files={"demo/data/big.bin": bytes(range(256)) * 8192})  # 2 MiB: streamed
    _install(base, layout, "ns-one", extra_files={"ns/one/__init__.py": b"ONE = 1\n"})
    _install(base, layout, "ns-two", extra_files={"ns/two/__init__.py": b"TWO = 2\n"})
    return layout


def _install(
    base: Path,
    layout: VenvLayout,
    name: str,
    *,
    scripts: Mapping[str, str] | None = None,
    extra_files: Mapping[str, bytes] | None = None,
) -> None:
    release = Release(
        name=canonicalize_name(name),
        version=Version("1.0"),
        scripts=MappingProxyType(dict(scripts or {})),
    )
    artifact = build_wheel(release, extra_files=extra_files)
    wheel = base / artifact.filename
    wheel.write_bytes(artifact.data)
    InstallerLibrary().install(wheel, layout, name=release.name)


@pytest.fixture
def layout(pristine: VenvLayout, tmp_path: Path) -> VenvLayout:
    """A private copy of the pristine venv (symlinks kept), with the same layout relative to it."""
    root = tmp_path / ".venv"
    shutil.copytree(pristine.root, root, symlinks=True)

    def moved(path: Path) -> Path:
        return root / path.relative_to(pristine.root)

    return VenvLayout(
        root=root,
        purelib=moved(pristine.purelib),
        platlib=moved(pristine.platlib),
        scripts=moved(pristine.scripts),
        data=moved(pristine.data),
        include=moved(pristine.include),
        python=moved(pristine.python),
    )


ALL = [NormalizedName("demo"), NormalizedName("ns-one"), NormalizedName("ns-two")]


def _site(layout: VenvLayout) -> str:
    return layout.purelib.relative_to(layout.root).as_posix()


def _kinds(findings: tuple[Finding, ...]) -> list[tuple[str, str | None, str | None]]:
    return sorted(
        ((f.kind, f.package, f.path) for f in findings),
        key=lambda t: tuple(part or "" for part in t),
    )


def test_an_untouched_venv_verifies_clean_and_every_record_entry_counts(layout: VenvLayout) -> None:
    result = verify_files(layout, ALL)
    assert result.findings == ()
    assert result.checked_packages == 3
    records = [find_dist_info(layout, name) for name in ALL]
    entries = sum(len((d / "RECORD").read_text().splitlines()) for d in records if d)
    assert result.checked_files == entries


def test_an_edited_file_is_reported_modified_with_both_hashes(layout: VenvLayout) -> None:
    target = layout.purelib / "demo" / "__init__.py"
    original = target.read_bytes()
    target.write_bytes(original.replace(b"1.0", b"6.6"))  # same size: only the hash tells
    (finding,) = verify_files(layout, ALL).findings
    assert (finding.kind, finding.package) == ("modified-file", "demo")
    assert finding.path == f"{_site(layout)}/demo/__init__.py"
    assert finding.expected and finding.actual
    assert finding.expected.startswith("sha256=") and finding.expected != finding.actual


def test_a_resized_file_and_a_changed_big_file_are_reported(layout: VenvLayout) -> None:
    (layout.purelib / "demo" / "__init__.py").write_text("patched = True\n")
    big = layout.purelib / "demo" / "data" / "big.bin"
    data = bytearray(big.read_bytes())
    data[-1] ^= 0xFF
    big.write_bytes(bytes(data))
    findings = {f.path: f for f in verify_files(layout, ALL).findings}
    resized = findings[f"{_site(layout)}/demo/__init__.py"]
    assert resized.kind == "modified-file"
    assert resized.actual == str(len("patched = True\n"))
    assert findings[f"{_site(layout)}/demo/data/big.bin"].kind == "modified-file"
    assert len(findings) == 2


def test_deleted_files_are_reported_missing_including_a_console_script(layout: VenvLayout) -> None:
    (layout.purelib / "ns" / "two" / "__init__.py").unlink()
    (layout.scripts / "demo-cli").unlink()
    assert _kinds(verify_files(layout, ALL).findings) == [
        ("missing-file", "demo", "bin/demo-cli"),
        ("missing-file", "ns-two", f"{_site(layout)}/ns/two/__init__.py"),
    ]


def test_a_stray_module_in_a_package_directory_is_unowned(layout: VenvLayout) -> None:
    (layout.purelib / "demo" / "stray.py").write_text("print('who put me here?')\n")
    (layout.purelib / "demo" / "data" / "notes.txt").write_text("nested too\n")
    (layout.purelib / "ns" / "three.py").write_text("")  # in a directory two packages share
    # bytecode Python wrote for a source is not drift; bytecode without one, and a module
    # dropped directly into site-packages, are
    (layout.purelib / "demo" / "__pycache__").mkdir()
    (layout.purelib / "demo" / "__pycache__" / "gone.cpython-312.pyc").write_bytes(b"\0")
    (layout.purelib / "toplevel.py").write_text("")
    findings = verify_files(layout, ALL).findings
    site = _site(layout)
    assert sorted(_kinds(findings), key=str) == [
        ("stray-bytecode", "demo", f"{site}/demo/__pycache__/gone.cpython-312.pyc"),
        ("unowned-file", "demo", f"{site}/demo/data/notes.txt"),
        ("unowned-file", "demo", f"{site}/demo/stray.py"),
        ("unowned-file", None, f"{site}/ns/three.py"),
        ("unowned-file", None, f"{site}/toplevel.py"),
    ]
    shared = next(f for f in findings if f.package is None)
    assert shared.detail and "ns-one" in shared.detail and "ns-two" in shared.detail


def test_only_the_named_packages_are_verified_but_all_records_own_files(
    layout: VenvLayout,
) -> None:
    (layout.purelib / "demo" / "__init__.py").unlink()
    (layout.purelib / "ns" / "two" / "__init__.py").write_text("changed\n")
    result = verify_files(layout, [NormalizedName("ns-one"), NormalizedName("absent")])
    assert result.findings == ()  # ns/two belongs to ns-two, not checked but still an owner
    assert result.checked_packages == 1


def test_a_missing_record_marks_the_package_damaged(layout: VenvLayout) -> None:
    dist_info = find_dist_info(layout, "ns-one")
    assert dist_info is not None
    (dist_info / "RECORD").unlink()
    (layout.purelib / "demo" / "__init__.py").write_text("x\n")
    findings = verify_files(layout, ALL).findings
    damaged = [f for f in findings if f.kind == "damaged"]
    assert [(f.package, f.path) for f in damaged] == [
        ("ns-one", f"{_site(layout)}/{dist_info.name}/RECORD")
    ]
    assert damaged[0].detail and "does not exist" in damaged[0].detail
    # the other packages are still verified; ns/one's files, now listed by no RECORD, are
    # reported in ns-two's directory, with a word that they may be the damaged package's
    assert _kinds(findings)[1:] == [
        ("modified-file", "demo", f"{_site(layout)}/demo/__init__.py"),
        ("unowned-file", None, f"{_site(layout)}/ns_one"),
        ("unowned-file", "ns-two", f"{_site(layout)}/ns/one/__init__.py"),
    ]
    unowned = [f for f in findings if f.kind == "unowned-file"]
    assert all(f.detail and "ns-one" in f.detail for f in unowned)


def test_a_directory_where_a_file_should_be_is_modified(layout: VenvLayout) -> None:
    target = layout.purelib / "demo" / "__init__.py"
    target.unlink()
    target.mkdir()
    (finding,) = verify_files(layout, [NormalizedName("demo")]).findings
    assert finding.kind == "modified-file"
    assert finding.path == f"{_site(layout)}/demo/__init__.py"


def test_the_venv_python_is_checked_against_spec_and_lock(layout: VenvLayout) -> None:
    assert venv_python_findings(
        layout.root, spec_python=SpecifierSet(">=3.11"), lock_python=Version("3.12.1")
    ) == []
    (spec,) = venv_python_findings(layout.root, spec_python=SpecifierSet("==3.11.*"))
    assert (spec.kind, spec.expected, spec.actual) == ("python-mismatch", "==3.11.*", "3.12.1")
    (lock,) = venv_python_findings(
        layout.root, spec_python=SpecifierSet(">=3.8"), lock_python=Version("3.11")
    )
    assert (lock.kind, lock.expected, lock.actual) == ("python-mismatch", "3.11", "3.12.1")


def test_no_venv_or_a_broken_one_is_reported_missing(layout: VenvLayout, tmp_path: Path) -> None:
    spec = SpecifierSet(">=3.8")
    (absent,) = venv_python_findings(tmp_path / "nowhere", spec_python=spec)
    assert absent.kind == "missing-venv"
    plain = tmp_path / "plain"
    plain.mkdir()
    (not_venv,) = venv_python_findings(plain, spec_python=spec)
    assert not_venv.kind == "missing-venv" and "pyvenv.cfg" in (not_venv.detail or "")
    os.unlink(layout.root / "bin" / "python")
    (broken,) = venv_python_findings(layout.root, spec_python=spec)
    assert broken.kind == "missing-venv" and "bin/python" in (broken.detail or "")
