"""Builder against real backends (setuptools, flit_core, an in-tree one) in real build venvs.

Hermetic: the build environments are venvs made with ``--without-pip`` and filled from the
backend wheels in ``fixtures/wheels/`` by pypa's installer, never from an index. Builds are slow,
so each scenario is built once per module (module-scoped fixtures) and several tests read it.
"""

from __future__ import annotations

import email.parser
import json
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from envspec.sources.pep517 import BuildFailed, Builder, unpack_sdist
from envspec.errors import EXIT_OUTSIDE
from tests.support.pythons import pyenv_python, require_python

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "fixtures" / "build"
BACKEND_WHEELS = {
    "setuptools": REPO / "fixtures" / "wheels" / "setuptools-75.3.2-py3-none-any.whl",
    "flit-core": REPO / "fixtures" / "wheels" / "flit_core-3.9.0-py3-none-any.whl",
}
PY38 = pyenv_python("3.8")


class UnknownBuildRequirement(Exception):
    pass


@dataclass
class FixtureProvision:
    """A Provision over the fixture backend wheels; records every call."""

    interpreter: str = sys.executable
    calls: list[tuple[tuple[str, ...], Path]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, requirements: Sequence[Requirement], directory: Path) -> Path:
        with self.lock:
            self.calls.append((tuple(str(r) for r in requirements), directory))
        wheels = []
        for requirement in requirements:
            wheel = BACKEND_WHEELS.get(canonicalize_name(requirement.name))
            if wheel is None:
                raise UnknownBuildRequirement(str(requirement))
            wheels.append(wheel)
        if not (directory / "pyvenv.cfg").exists():
            subprocess.run(
                [self.interpreter, "-m", "venv", "--without-pip", str(directory)], check=True
            )
        python = directory / "bin" / "python"
        paths = json.loads(
            subprocess.run(
                [str(python), "-c", "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        scheme = {key: paths[key] for key in ("purelib", "platlib", "scripts", "data")}
        scheme["headers"] = str(directory / "include" / "headers")
        for wheel in wheels:
            with WheelFile.open(wheel) as source:
                destination = SchemeDictionaryDestination(
                    scheme, interpreter=str(python), script_kind="posix", overwrite_existing=True
                )
                install(source, destination, {})
        return python


def copy_fixture(name: str, into: Path) -> Path:
    """Build from a copy: setuptools writes egg-info into the tree, and fixtures stay clean."""
    return Path(shutil.copytree(FIXTURES / name, into / name))


def parse_metadata(data: bytes) -> email.message.Message:
    return email.parser.BytesParser().parsebytes(data)


def requires_of(meta: email.message.Message) -> set[str]:
    return {str(Requirement(text)) for text in meta.get_all("Requires-Dist") or []}


def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return parse_metadata(archive.read(name))


@dataclass
class Built:
    metadata: bytes
    wheel: Path
    source: Path
    provision: FixtureProvision
    work_dir: Path


@pytest.fixture(scope="module")
def setuptools_dynamic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("setuptools")
    source = copy_fixture("setuptools-dynamic", root)
    provision = FixtureProvision()
    with Builder(provision=provision, work_dir=root / "work") as builder:
        metadata = builder.metadata(source, package="dynamic-deps 1.2.0")
        wheel = builder.build(source, root / "out", package="dynamic-deps 1.2.0")
        yield Built(metadata, wheel, source, provision, root / "work")


def test_setuptools_dynamic_dependencies_come_from_running_setup_py(
    setuptools_dynamic: Built,
) -> None:
    meta = parse_metadata(setuptools_dynamic.metadata)
    assert meta["Name"] == "dynamic-deps" and meta["Version"] == "1.2.0"
    requires = requires_of(meta)
    here = "built-on-py-%d-%d" % sys.version_info[:2]
    assert "attrs>=21.3" in requires and here in requires  # computed by the target interpreter


def test_setuptools_wheel_holds_the_code_and_the_same_metadata(setuptools_dynamic: Built) -> None:
    wheel = setuptools_dynamic.wheel
    assert wheel.parent.name == "out" and wheel.name.startswith("dynamic_deps-1.2.0-")
    assert "dynamic_deps.py" in wheel_names(wheel)
    built = wheel_metadata(wheel)
    assert requires_of(built) == requires_of(parse_metadata(setuptools_dynamic.metadata))
    # one environment for the metadata and the build of one source, holding build-system.requires
    assert setuptools_dynamic.provision.calls == [
        (("setuptools>=40.8.0",), setuptools_dynamic.provision.calls[0][1])
    ]
    assert setuptools_dynamic.provision.calls[0][1].is_relative_to(setuptools_dynamic.work_dir)


def test_close_removes_the_work_dir_contents(tmp_path: Path) -> None:
    source = copy_fixture("in-tree-backend", tmp_path)
    work = tmp_path / "work"
    builder = Builder(provision=FixtureProvision(), work_dir=work)
    builder.build(source, tmp_path / "out", package="wheel-only")
    assert any(work.iterdir())
    builder.close()
    assert not work.exists() or not any(work.iterdir())
    assert (tmp_path / "out" / "wheel_only-0.1-py3-none-any.whl").is_file()  # output is kept


@pytest.fixture(scope="module")
def flit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Builder, Path, Path]]:
    root = tmp_path_factory.mktemp("flit")
    source = copy_fixture("flit-project", root)
    source.chmod(0o555)  # flit writes nothing into the tree: a read-only source builds
    try:
        with Builder(provision=FixtureProvision(), work_dir=root / "work") as builder:
            yield builder, source, root
    finally:
        source.chmod(0o755)


def test_flit_metadata_wheel_and_editable_wheel(flit: tuple[Builder, Path, Path]) -> None:
    builder, source, root = flit
    meta = parse_metadata(builder.metadata(source, package="flit-demo 2.0.1"))
    assert (meta["Name"], meta["Version"]) == ("flit-demo", "2.0.1")
    assert 'colorama; sys_platform == "win32"' in requires_of(meta)

    wheel = builder.build(source, root / "out", package="flit-demo 2.0.1")
    assert wheel.name.startswith("flit_demo-2.0.1-") and wheel.name.endswith("-none-any.whl")
    assert "flit_demo/__init__.py" in wheel_names(wheel)

    editable = builder.build(source, root / "out-editable", package="flit-demo 2.0.1", editable=True)
    names = wheel_names(editable)
    assert "flit_demo/__init__.py" not in names  # the code stays in the tree...
    pth = [n for n in names if n.endswith(".pth")]
    assert pth  # ...reached through a .pth file pointing at it
    with zipfile.ZipFile(editable) as archive:
        assert str(source) in archive.read(pth[0]).decode()
    assert sorted(p.name for p in source.iterdir()) == ["flit_demo", "pyproject.toml"]


def test_flit_editable_metadata(flit: tuple[Builder, Path, Path]) -> None:
    builder, source, _ = flit
    meta = parse_metadata(builder.metadata(source, package="flit-demo", editable=True))
    assert meta["Name"] == "flit-demo"


def test_legacy_setup_py_only_uses_the_default_build_system(tmp_path: Path) -> None:
    source = copy_fixture("legacy-setup-py", tmp_path)
    provision = FixtureProvision()
    with Builder(provision=provision, work_dir=tmp_path / "work") as builder:
        wheel = builder.build(source, tmp_path / "out", package="legacy-only 0.3")
    assert wheel.name.startswith("legacy_only-0.3-")
    assert "legacy_only.py" in wheel_names(wheel)
    assert provision.calls[0][0] == ("setuptools>=40.8.0",)


@pytest.fixture(scope="module")
def failure(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildFailed, list[str]]:
    root = tmp_path_factory.mktemp("failing")
    source = copy_fixture("failing-setup-py", root)
    seen: list[str] = []
    with Builder(
        provision=FixtureProvision(), work_dir=root / "work", output_lines=5, on_output=seen.append
    ) as builder:
        with pytest.raises(BuildFailed) as caught:
            builder.metadata(source, package="frobnicate 0.9")
    return caught.value, seen


def test_failing_setup_py_names_the_package_the_hook_and_the_output_tail(
    failure: tuple[BuildFailed, list[str]],
) -> None:
    error, _ = failure
    assert error.package == "frobnicate 0.9"
    assert error.hook == "get_requires_for_build_wheel"  # setuptools runs setup.py there first
    assert len(error.output) == 5
    assert any("Frobnicator compiler was not found" in line for line in error.output)
    message = str(error)
    assert message.startswith("building frobnicate 0.9 failed in get_requires_for_build_wheel")
    assert "\n    " in message and "Frobnicator" in message  # the tail, indented
    assert "configuring step 1\n" not in message  # only the last lines
    assert error.exit_code == EXIT_OUTSIDE and error.hint


def test_on_output_sees_every_line(failure: tuple[BuildFailed, list[str]]) -> None:
    _, seen = failure
    assert "configuring step 1" in seen and "configuring step 40" in seen


def test_missing_backend_is_a_build_failure(tmp_path: Path) -> None:
    source = copy_fixture("missing-backend", tmp_path)
    with Builder(provision=FixtureProvision(), work_dir=tmp_path / "work") as builder:
        with pytest.raises(BuildFailed, match="'no_such_backend.api' cannot be imported") as caught:
            builder.metadata(source, package="ghost 1.0")
    assert "No module named 'no_such_backend'" in str(caught.value)
    assert "Traceback" not in str(caught.value)


@pytest.fixture(scope="module")
def in_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("in-tree")
    return copy_fixture("in-tree-backend", root), root


def test_metadata_falls_back_to_build_wheel_and_the_wheel_is_built_once(
    in_tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source, _ = in_tree
    counter = tmp_path / "counter"
    monkeypatch.setenv("WHEEL_ONLY_BUILD_COUNTER", str(counter))
    seen: list[str] = []
    with Builder(provision=FixtureProvision(), work_dir=tmp_path / "w", on_output=seen.append) as b:
        meta = parse_metadata(b.metadata(source, package="wheel-only"))
        wheel = b.build(source, tmp_path / "out", package="wheel-only")
    assert meta["Requires-Dist"] == "six"
    assert wheel_metadata(wheel)["Name"] == "wheel-only"
    assert counter.read_text().splitlines() == ["built"]
    # the backend's warning reaches the output, not this process's warnings (filterwarnings=error)
    assert any("wheel_only_backend is a test backend" in line for line in seen)


def test_get_requires_adds_to_the_environment_and_the_environment_is_clean(
    in_tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source, _ = in_tree
    monkeypatch.setenv("WHEEL_ONLY_EXTRA_REQUIRES", "flit_core>=3")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "leak"))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    provision = FixtureProvision()
    seen: list[str] = []
    with Builder(provision=provision, work_dir=tmp_path / "w", on_output=seen.append) as builder:
        builder.build(source, tmp_path / "out", package="wheel-only")
    (first, directory), (second, again) = provision.calls
    assert first == () and second == ("flit_core>=3",) and again == directory
    assert "environment PYTHONPATH=<unset>" in seen
    assert "environment PIP_INDEX_URL=<unset>" in seen
    assert "environment PYTHONNOUSERSITE=1" in seen


def test_build_failed_message_shape() -> None:
    error = BuildFailed("docopt 0.6.2", "build_wheel", ["compiling", "error: no cc"])
    assert str(error) == (
        "building docopt 0.6.2 failed in build_wheel\n"
        "The build backend's last output:\n"
        "    compiling\n"
        "    error: no cc"
    )
    assert (error.package, error.hook, error.output) == (
        "docopt 0.6.2",
        "build_wheel",
        ("compiling", "error: no cc"),
    )


def test_editable_needs_pep_660(in_tree: tuple[Path, Path], tmp_path: Path) -> None:
    source, _ = in_tree
    with Builder(provision=FixtureProvision(), work_dir=tmp_path / "w") as builder:
        with pytest.raises(BuildFailed, match="does not support editable installs") as caught:
            builder.build(source, tmp_path / "out", package="wheel-only", editable=True)
    assert caught.value.hook == "build_editable"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_cyclic_build_dependency_is_reported(in_tree: tuple[Path, Path], tmp_path: Path) -> None:
    source, _ = in_tree
    builder: Builder

    def provision(requirements: Sequence[Requirement], directory: Path) -> Path:
        # the build environment of a needs b built, whose environment needs a built again
        if not directory.parent.name.startswith("b-src"):
            other = tmp_path / "b-src"
            if not other.exists():
                shutil.copytree(source, other)
            builder.build(other, tmp_path / "b-out", package="B_Pkg 1.0")
        else:
            builder.build(source, tmp_path / "a-out", package="a 1.0")
        return Path(sys.executable)

    builder = Builder(provision=provision, work_dir=tmp_path / "w")
    with builder, pytest.raises(BuildFailed) as caught:
        builder.build(source, tmp_path / "out", package="a 1.0")
    assert "cyclic build dependency: a 1.0 -> B_Pkg 1.0 -> a 1.0" in str(caught.value)


def test_concurrent_metadata_for_one_source_provisions_once(
    in_tree: tuple[Path, Path], tmp_path: Path
) -> None:
    source, _ = in_tree
    provision = FixtureProvision()
    results: list[bytes] = []
    with Builder(provision=provision, work_dir=tmp_path / "w") as builder:
        threads = [
            threading.Thread(target=lambda: results.append(builder.metadata(source, package="w")))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        other = copy_fixture("in-tree-backend", tmp_path / "second")
        builder.metadata(other, package="w-copy")
    assert len(results) == 4 and len(set(results)) == 1
    # one environment per source: the copy got its own, never the first one's
    directories = [directory for _, directory in provision.calls]
    assert len(directories) == 2 and directories[0] != directories[1]


def test_sdist_unpacked_and_built(tmp_path: Path) -> None:
    archive = tmp_path / "flit_demo-2.0.1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(FIXTURES / "flit-project", arcname="flit_demo-2.0.1")
    root = unpack_sdist(archive, tmp_path / "unpacked")
    assert root == tmp_path / "unpacked" / "flit_demo-2.0.1"
    with Builder(provision=FixtureProvision(), work_dir=tmp_path / "work") as builder:
        wheel = builder.build(root, tmp_path / "out", package="flit-demo 2.0.1")
    assert wheel_metadata(wheel)["Version"] == "2.0.1"


@pytest.mark.skipif(PY38 is None, reason="needs CPython 3.8 from pyenv, not here")
def test_target_interpreter_runs_the_backend(tmp_path: Path) -> None:
    source = copy_fixture("setuptools-dynamic", tmp_path)
    with Builder(provision=FixtureProvision(require_python("3.8")), work_dir=tmp_path / "work") as builder:
        meta = parse_metadata(builder.metadata(source, package="dynamic-deps"))
    requires = requires_of(meta)
    assert "built-on-py-3-8" in requires and "tomli>=1.1" in requires
