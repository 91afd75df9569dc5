"""Probing real interpreters: the facts envspec computes must be the ones packaging sees inside them.

The reference is ``packaging.tags.sys_tags()`` / ``packaging.markers.default_environment()`` run
*inside* the target. It is the dev environment's own packaging wherever that release supports the
target's Python; for older targets (packaging 26.4 needs 3.10, so 3.9 cannot import it) it is the
packaging 26.3 wheel kept in ``fixtures/wheels/`` (imported straight from the zip), so a new
packaging release never changes what these tests compare against. packaging has no release for 3.8
that shares envspec's tag order, so 3.8 is checked for what a user relies on. The probe script
itself never imports packaging (a test below says so).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import packaging
import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import envspec.pythons.probe as probe_module
from envspec.errors import EXIT_OUTSIDE
from envspec.pythons import InterpreterProbeFailed, Probe, probe_interpreter
from envspec.pythons.probe import CACHE_DIRNAME
from tests.support.pythons import require_python

pytestmark = pytest.mark.slow

PACKAGING_DIR = str(Path(packaging.__file__).parent.parent)
FIXTURE_PACKAGING = Path(__file__).parents[3] / "fixtures/wheels/packaging-26.3-py3-none-any.whl"
PROBE_SCRIPT = (Path(probe_module.__file__).parent / "_probe_script.py").read_text()
REFERENCE = (
    "import json\n"
    "from packaging.markers import default_environment\n"
    "from packaging.tags import sys_tags\n"
    "print(json.dumps({'tags': [str(t) for t in sys_tags()], 'markers': default_environment()}))\n"
)


python = require_python


def packaging_path_for(interpreter: Path) -> str:
    """Where the reference packaging is imported from inside ``interpreter``: the dev
    environment's release when its Requires-Python admits the interpreter, else the fixture."""
    from importlib.metadata import metadata

    requires = metadata("packaging").get("Requires-Python") or ""
    version = run(interpreter, "import sys; print('%d.%d.%d' % sys.version_info[:3])").strip()
    if SpecifierSet(requires).contains(version, prereleases=True):
        return PACKAGING_DIR
    return str(FIXTURE_PACKAGING)


def run(interpreter: Path, code: str, **env: str) -> str:
    done = subprocess.run(
        [str(interpreter), "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return done.stdout


def script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def spawns(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every interpreter the probe starts, recorded (and still run)."""
    calls: list[list[str]] = []
    real_run: Callable[..., Any] = subprocess.run

    def recording_run(args: list[str], **kwargs: Any) -> Any:
        calls.append(args)
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", recording_run)
    return calls


@pytest.mark.parametrize("minor", ["3.8", "3.11", "3.12", "3.13"])
def test_probe_reports_version_layout_and_prefix(minor: str, tmp_path: Path) -> None:
    interpreter = python(minor)
    probe = probe_interpreter(interpreter, cache_dir=tmp_path)
    own = json.loads(
        run(
            interpreter,
            "import json, platform, sys, sysconfig\n"
            "print(json.dumps([platform.python_version(), sys.prefix, sysconfig.get_platform()]))",
        )
    )
    assert probe.version == Version(own[0])
    assert probe.target.python_version == probe.version
    assert probe.implementation == "cpython"
    assert probe.path == interpreter  # as asked, not resolved to python3.X
    assert probe.prefix == probe.base_prefix == Path(own[1])
    assert not probe.is_venv
    assert probe.platform == own[2]
    assert (probe.prefix / probe.scheme["purelib"]).is_dir()
    assert (probe.prefix / probe.scheme["scripts"] / "python3").exists()
    assert set(probe.scheme) == {"purelib", "platlib", "scripts", "data", "include"}
    assert not any(Path(value).is_absolute() for value in probe.scheme.values())


@pytest.mark.parametrize("minor", ["3.9", "3.10", "3.11", "3.12", "3.13"])
def test_tags_and_markers_equal_packagings_inside_the_interpreter(
    minor: str, tmp_path: Path
) -> None:
    interpreter = python(minor)
    reference = json.loads(run(interpreter, REFERENCE, PYTHONPATH=packaging_path_for(interpreter)))
    probe = probe_interpreter(interpreter, cache_dir=tmp_path)
    assert [str(tag) for tag in probe.target.tags] == reference["tags"]
    assert dict(probe.target.markers) == reference["markers"]


@pytest.mark.parametrize("minor", ["3.8", "3.13"])
def test_the_probe_script_never_needs_packaging(minor: str, tmp_path: Path) -> None:
    """The probe runs inside interpreters envspec does not control: a packaging that cannot be
    imported there (too new for it, or broken) must not matter."""
    poisoned = tmp_path / "packaging"
    poisoned.mkdir()
    (poisoned / "__init__.py").write_text("raise ImportError('the probe imported packaging')\n")
    output = run(python(minor), PROBE_SCRIPT, PYTHONPATH=str(tmp_path))
    answer = json.loads(output.strip().splitlines()[-1])
    assert answer["tags"] and answer["markers"]["python_version"] == minor


def test_derived_platforms_match_the_host_on_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With host detection bypassed, tags derived from the probe alone are still packaging's."""
    interpreter = python("3.12")
    reference = json.loads(run(interpreter, REFERENCE, PYTHONPATH=packaging_path_for(interpreter)))
    if any(tag.rsplit("-", 1)[-1].startswith("musllinux") for tag in reference["tags"]):
        pytest.skip("musllinux tags are not derived (see envspec.pythons.probe)")
    monkeypatch.setattr(probe_module, "_host_glibc_version", lambda: "not this host")
    probe = probe_interpreter(interpreter, cache_dir=tmp_path)
    assert [str(tag) for tag in probe.target.tags] == reference["tags"]


def test_32_bit_interpreter_gets_32_bit_wheels(tmp_path: Path) -> None:
    answer = json.loads(run(python("3.12"), PROBE_SCRIPT).strip().splitlines()[-1])
    if not answer["platform"].endswith("x86_64"):
        pytest.skip("needs an x86_64 machine")
    answer["tags"]["pointer_size"] = 4
    (tmp_path / "answer.json").write_text(json.dumps(answer))
    fake = script(tmp_path / "python3", f"#!/bin/sh\ncat '{tmp_path / 'answer.json'}'\n")
    tags = [str(tag) for tag in probe_interpreter(fake, cache_dir=tmp_path).target.tags]
    assert tags[0] == "cp312-cp312-linux_i686"
    assert "cp312-abi3-manylinux2014_i686" in tags
    assert not any(tag.endswith("x86_64") for tag in tags)


@pytest.mark.parametrize("minor", ["3.8", "3.12"])
def test_venv_is_recognised(minor: str, tmp_path: Path) -> None:
    base = python(minor)
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    probe = probe_interpreter(tmp_path / "venv/bin/python", cache_dir=tmp_path / "cache")
    assert probe.is_venv
    assert probe.prefix == tmp_path / "venv"
    assert probe.base_prefix == probe_interpreter(base, cache_dir=tmp_path / "cache").prefix
    assert (probe.prefix / probe.scheme["purelib"]).is_dir()


def test_second_probe_is_a_cache_hit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = probe_interpreter(python("3.12"), cache_dir=tmp_path)
    assert len(list((tmp_path / CACHE_DIRNAME).glob("*.json"))) == 1

    def no_spawn(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"spawned {args!r}")

    monkeypatch.setattr(subprocess, "run", no_spawn)
    again: Probe = probe_interpreter(python("3.12"), cache_dir=tmp_path)
    assert again == first
    assert again.target.tags == first.target.tags


def test_cache_is_invalidated_when_the_interpreter_changes(
    tmp_path: Path, spawns: list[list[str]]
) -> None:
    wrapper = script(tmp_path / "python3", f'#!/bin/sh\nexec "{python("3.12")}" "$@"\n')
    probe_interpreter(wrapper, cache_dir=tmp_path / "cache")
    probe_interpreter(wrapper, cache_dir=tmp_path / "cache")
    assert len(spawns) == 1
    stat = wrapper.stat()
    os.utime(wrapper, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    probe_interpreter(wrapper, cache_dir=tmp_path / "cache")
    assert len(spawns) == 2


def test_corrupt_cache_entry_is_probed_again(tmp_path: Path, spawns: list[list[str]]) -> None:
    first = probe_interpreter(python("3.12"), cache_dir=tmp_path)
    (entry,) = (tmp_path / CACHE_DIRNAME).glob("*.json")
    entry.write_text("{not json")
    assert probe_interpreter(python("3.12"), cache_dir=tmp_path) == first
    assert len(spawns) == 2
    assert json.loads(entry.read_text())["facts"]["protocol"] == 1


def test_cache_defaults_to_envspec_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVSPEC_CACHE_DIR", str(tmp_path / "envspec-cache"))
    probe_interpreter(python("3.12"))
    assert list((tmp_path / "envspec-cache" / CACHE_DIRNAME).glob("*.json"))


@pytest.mark.parametrize(
    ("body", "reason", "stderr"),
    [
        (
            "echo 'Fatal Python error: init_fs_encoding' >&2\nexit 1",
            "exited with status 1",
            "init_fs_encoding",
        ),
        ("echo 'hello, I am not Python'", "printed no probe answer", ""),
        ("echo '{\"protocol\": 99}'", "not probe protocol 1", ""),
    ],
)
def test_failing_probe_names_the_path_and_stderr(
    tmp_path: Path, body: str, reason: str, stderr: str
) -> None:
    fake = script(tmp_path / "python3", f"#!/bin/sh\n{body}\n")
    with pytest.raises(InterpreterProbeFailed) as raised:
        probe_interpreter(fake, cache_dir=tmp_path / "cache")
    message = str(raised.value)
    assert repr(str(fake)) in message
    assert reason in message
    assert stderr in message
    assert raised.value.exit_code == EXIT_OUTSIDE
    assert not (tmp_path / "cache" / CACHE_DIRNAME).exists()  # failures are not cached


def test_hanging_interpreter_times_out(tmp_path: Path) -> None:
    fake = script(tmp_path / "python3", "#!/bin/sh\necho 'starting' >&2\nexec sleep 30\n")
    with pytest.raises(InterpreterProbeFailed, match=r"did not answer within 0\.5 s"):
        probe_interpreter(fake, cache_dir=tmp_path, timeout=0.5)


@pytest.mark.parametrize("kind", ["missing", "not executable", "directory"])
def test_what_is_not_an_interpreter_fails_clearly(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "python3"
    if kind == "not executable":
        path.write_text("#!/bin/sh\n")
    elif kind == "directory":
        path.mkdir()
    with pytest.raises(InterpreterProbeFailed) as raised:
        probe_interpreter(path, cache_dir=tmp_path / "cache")
    assert repr(str(path)) in str(raised.value)
