"""Interpreter discovery on a fake machine: PATH and pyenv folders of symlinks to real interpreters.

The folders are built once per module (probing real interpreters costs a spawn each, then the cache
answers), with decoys a naive scan would take for interpreters: a pyenv shim, a non-executable file, a
broken symlink, and the same interpreter reachable under several names.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import envspec.pythons.probe
from envspec.errors import EXIT_OUTSIDE
from envspec.pythons import (
    Interpreter,
    InterpreterNotFound,
    InterpreterProbeFailed,
    choose_interpreter,
    find_interpreters,
)
from envspec.pythons.discover import parse_py_list_paths

PYENV = Path("/root/.pyenv/versions")
NEEDED = ("3.7.16", "3.8.18", "3.12.1", "3.13.0")
if not all((PYENV / version / "bin/python3").exists() for version in NEEDED):
    pytest.skip(f"needs pyenv's {', '.join(NEEDED)} in {PYENV}", allow_module_level=True)

PYENV_SHIM = """#!/usr/bin/env bash
set -e
program="${0##*/}"
export PYENV_ROOT="/root/.pyenv"
exec "/root/.pyenv/libexec/pyenv" exec "$program" "$@"
"""


def real(version: str) -> Path:
    return PYENV / version / "bin/python3"


@dataclass(frozen=True)
class Machine:
    root: Path
    env: Mapping[str, str]
    cache: Path
    decoys: tuple[Path, ...]


def _link(link: Path, target: Path) -> Path:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


def _script(path: Path, text: str, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> Machine:
    root = tmp_path_factory.mktemp("machine")
    bin_dir, old_bin, shims = root / "bin", root / "old-bin", root / "home/.pyenv/shims"
    _link(bin_dir / "python3.12", real("3.12.1"))
    _link(bin_dir / "python3", bin_dir / "python3.12")  # the same interpreter again
    _link(bin_dir / "python3.8", real("3.8.18"))
    decoys = (
        _link(bin_dir / "python3.11", root / "gone/python3.11"),  # broken symlink
        _script(bin_dir / "python3.10", "#!/bin/sh\nexit 0\n", mode=0o644),  # not executable
        _script(bin_dir / "python", PYENV_SHIM),  # a pyenv shim outside a shims folder
        _script(shims / "python3", PYENV_SHIM),
        _link(shims / "python3.13", real("3.13.0")),  # in a shims folder: never taken
    )
    _link(old_bin / "python3.7", real("3.7.16"))
    venv = root / "venv"  # an activated venv of 3.12 comes first on PATH
    subprocess.run([str(real("3.12.1")), "-m", "venv", "--without-pip", str(venv)], check=True)
    pyenv_versions = root / "home/.pyenv/versions"
    _link(pyenv_versions / "3.13.0/bin/python3", real("3.13.0"))
    _link(pyenv_versions / "3.12.1/bin/python3", real("3.12.1"))  # duplicate of bin/python3.12
    env = {
        "PATH": os.pathsep.join(
            str(d) for d in (venv / "bin", shims, bin_dir, root / "missing-dir", old_bin)
        ),
        "HOME": str(root / "home"),
    }
    return Machine(root=root, env=env, cache=root / "cache", decoys=decoys)


def find(machine: Machine, **overrides: object) -> list[Interpreter]:
    env = {**machine.env, **{key: str(value) for key, value in overrides.items()}}
    return find_interpreters(env=env, cache_dir=machine.cache)


def test_finds_path_and_pyenv_interpreters_newest_first(machine: Machine) -> None:
    found = find(machine)
    summary = [
        (str(i.version), i.path.relative_to(machine.root).as_posix(), i.source) for i in found
    ]
    assert summary == [
        ("3.13.0", "home/.pyenv/versions/3.13.0/bin/python3", "pyenv"),
        ("3.12.1", "bin/python3.12", "PATH"),
        ("3.8.18", "bin/python3.8", "PATH"),
        ("3.7.16", "old-bin/python3.7", "PATH"),
    ]
    assert all(i.implementation == "cpython" for i in found)


def test_decoys_and_duplicates_are_skipped(machine: Machine) -> None:
    found = find(machine)
    paths = {interpreter.path for interpreter in found}
    assert paths.isdisjoint(machine.decoys)
    real_paths = [os.path.realpath(interpreter.path) for interpreter in found]
    assert len(real_paths) == len(set(real_paths))


def test_a_venv_on_path_does_not_stand_in_for_its_base_interpreter(machine: Machine) -> None:
    found = find(machine)
    assert not any(machine.root / "venv" in interpreter.path.parents for interpreter in found)
    only_the_venv = find(machine, PATH=machine.root / "venv/bin", HOME=machine.root / "nohome")
    assert [i.path.parent for i in only_the_venv] == [machine.root / "venv/bin"]


def test_paths_are_absolute_and_not_resolved(machine: Machine) -> None:
    for interpreter in find(machine):
        assert interpreter.path.is_absolute()
        assert interpreter.path.is_symlink()  # as found, not the resolved binary


def test_choose_picks_the_newest_matching(machine: Machine) -> None:
    def chosen(spec: str) -> str:
        interpreter = choose_interpreter(
            SpecifierSet(spec), env=machine.env, cache_dir=machine.cache
        )
        return str(interpreter.version)

    assert chosen("") == "3.13.0"
    assert chosen(">=3.8,<3.13") == "3.12.1"
    assert chosen("==3.8.*") == "3.8.18"
    assert chosen(">=3.12.1") == "3.13.0"


def test_too_old_python_is_listed_but_never_chosen(machine: Machine) -> None:
    old = [i for i in find(machine) if i.version < Version("3.8")]
    assert [str(i.version) for i in old] == ["3.7.16"]
    assert not old[0].is_supported
    with pytest.raises(InterpreterNotFound) as raised:
        choose_interpreter(SpecifierSet("<3.8"), env=machine.env, cache_dir=machine.cache)
    assert "3.7.16" in str(raised.value)
    assert "too old" in str(raised.value)


def test_nothing_matching_lists_every_interpreter_found(machine: Machine) -> None:
    with pytest.raises(InterpreterNotFound) as raised:
        choose_interpreter(SpecifierSet(">=3.14"), env=machine.env, cache_dir=machine.cache)
    error = raised.value
    message = str(error)
    assert "'>=3.14'" in message
    for interpreter in find(machine):
        assert f"{interpreter.version} at {interpreter.path}" in message
    assert error.hint is not None
    assert "pyenv install 3.14" in error.hint
    assert "ENVSPEC_PYTHON" in error.hint and "--python" in error.hint
    assert error.exit_code == EXIT_OUTSIDE
    assert [i.path for i in error.found] == [i.path for i in find(machine)]


def test_empty_machine_says_nothing_was_found(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)}
    assert find_interpreters(env=env, cache_dir=tmp_path / "cache") == []
    with pytest.raises(InterpreterNotFound, match="No interpreters were found"):
        choose_interpreter(SpecifierSet(">=3.11"), env=env, cache_dir=tmp_path / "cache")


def test_pyenv_root_variable_replaces_the_default(machine: Machine, tmp_path: Path) -> None:
    _link(tmp_path / "pyenv/versions/3.8.18/bin/python3", real("3.8.18"))
    found = find(machine, PATH="", PYENV_ROOT=tmp_path / "pyenv")
    assert [(str(i.version), i.source) for i in found] == [("3.8.18", "pyenv")]
    assert found[0].path == tmp_path / "pyenv/versions/3.8.18/bin/python3"


def test_envspec_python_is_the_only_candidate(machine: Machine) -> None:
    found = find(machine, ENVSPEC_PYTHON=machine.root / "bin/python3.8")
    assert [(str(i.version), i.source) for i in found] == [("3.8.18", "ENVSPEC_PYTHON")]
    env = {**machine.env, "ENVSPEC_PYTHON": str(machine.root / "bin/python3.8")}
    with pytest.raises(InterpreterNotFound) as raised:
        choose_interpreter(SpecifierSet(">=3.11"), env=env, cache_dir=machine.cache)
    assert "3.13.0" not in str(raised.value)  # nothing else was looked at
    assert "3.8.18" in str(raised.value)


def test_explicit_python_wins_over_the_variable_and_may_be_a_bare_name(machine: Machine) -> None:
    env = {**machine.env, "ENVSPEC_PYTHON": str(machine.root / "bin/python3.12")}
    chosen = choose_interpreter(
        SpecifierSet(">=3.8"), explicit=Path("python3.8"), env=env, cache_dir=machine.cache
    )
    assert (chosen.source, chosen.path) == ("--python", machine.root / "bin/python3.8")


@pytest.mark.parametrize("value", ["{root}/nowhere/python3", "no-such-python3.99"])
def test_missing_explicit_python_is_named(machine: Machine, value: str) -> None:
    value = value.format(root=machine.root)
    with pytest.raises(InterpreterNotFound) as raised:
        find_interpreters(explicit=Path(value), env=machine.env, cache_dir=machine.cache)
    assert repr(value) in str(raised.value)
    assert "--python" in str(raised.value)


def test_explicit_python_that_does_not_run_is_named(machine: Machine, tmp_path: Path) -> None:
    broken = _script(
        tmp_path / "python3", "#!/bin/sh\necho 'cannot start: no libpython' >&2\nexit 127\n"
    )
    with pytest.raises(InterpreterProbeFailed) as raised:
        find_interpreters(explicit=broken, env=machine.env, cache_dir=machine.cache)
    assert str(broken) in str(raised.value)
    assert "cannot start: no libpython" in str(raised.value)


def test_broken_interpreter_on_path_is_skipped(machine: Machine, tmp_path: Path) -> None:
    _script(tmp_path / "bin/python3.9", "#!/bin/sh\nexit 1\n")
    _link(tmp_path / "bin/python3.8", real("3.8.18"))
    found = find_interpreters(
        env={"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)}, cache_dir=machine.cache
    )
    assert [str(i.version) for i in found] == ["3.8.18"]
    with pytest.raises(InterpreterNotFound) as raised:
        choose_interpreter(
            SpecifierSet(">=3.9"),
            env={"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)},
            cache_dir=machine.cache,
        )
    assert f"{tmp_path / 'bin/python3.9'}: it exited with status 1" in str(raised.value)


def test_prerelease_python_only_when_the_spec_names_one(machine: Machine, tmp_path: Path) -> None:
    script = (Path(envspec.pythons.probe.__file__).parent / "_probe_script.py").read_text()
    done = subprocess.run(
        [str(real("3.13.0")), "-I", "-c", script], capture_output=True, text=True, check=True
    )
    answer = (
        done.stdout.strip()
        .splitlines()[-1]
        .replace(
            '"version_info": [3, 13, 0, "final", 0]', '"version_info": [3, 14, 0, "candidate", 2]'
        )
    )
    (tmp_path / "answer.json").write_text(answer)
    fake = _script(tmp_path / "python3.14", f"#!/bin/sh\ncat '{tmp_path / 'answer.json'}'\n")
    env = {**machine.env, "ENVSPEC_PYTHON": str(fake)}
    with pytest.raises(InterpreterNotFound, match="pre-release"):
        choose_interpreter(SpecifierSet(">=3.13"), env=env, cache_dir=machine.cache)
    chosen = choose_interpreter(SpecifierSet(">=3.14.0rc1"), env=env, cache_dir=machine.cache)
    assert chosen.version == Version("3.14.0rc2")


def test_second_discovery_spawns_nothing(machine: Machine, monkeypatch: pytest.MonkeyPatch) -> None:
    first = find(machine)

    def no_spawn(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"spawned {args!r}")

    monkeypatch.setattr(subprocess, "run", no_spawn)
    assert find(machine) == first


def test_py_launcher_listing_is_parsed_in_both_formats() -> None:
    new = (
        " -V:3.13 *        C:\\Program Files\\Python313\\python.exe\n"
        " -V:3.12          C:\\Users\\me\\AppData\\Local\\Programs\\Python\\Python312\\python.exe\n"
        " -V:ContinuumAnalytics/Anaconda39-64 C:\\Anaconda3\\python.exe\n"
    )
    old = "Installed Pythons found by py Launcher for Windows\n -3.9-64        C:\\Python39\\python.exe *\n"
    assert [str(p) for p in parse_py_list_paths(new)] == [
        "C:\\Program Files\\Python313\\python.exe",
        "C:\\Users\\me\\AppData\\Local\\Programs\\Python\\Python312\\python.exe",
        "C:\\Anaconda3\\python.exe",
    ]
    assert [str(p) for p in parse_py_list_paths(old)] == ["C:\\Python39\\python.exe"]


def test_choosing_probes_only_what_the_names_allow(
    machine: Machine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A cold choice of ==3.8.* spawns no 3.12 or 3.13 interpreter (their names rule them out)."""
    import envspec.pythons.discover as discover

    probed: list[str] = []
    real_probe = discover.probe_interpreter

    def recording(path: Path, **kwargs: object) -> object:
        probed.append(str(path))
        return real_probe(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(discover, "probe_interpreter", recording)
    chosen = choose_interpreter(SpecifierSet("==3.8.*"), env=machine.env, cache_dir=tmp_path)
    assert str(chosen.version) == "3.8.18"
    assert probed, "something was probed"
    ruled_out = ("python3.12", "/3.12.1/", "/3.13.0/")
    assert not [path for path in probed if any(part in path for part in ruled_out)], probed
