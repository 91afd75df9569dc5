"""Fuzzed specs, locks and pyproject files: whatever the bytes, only envspec's own errors come out.

A seeded mutator (reproducible, no extra dependency) derives thousands of variants from valid
files: bytes flipped, cut, duplicated, values swapped for other TOML types, nesting deepened. Any
exception but an EnvspecError would be a traceback for the user."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from envspec.lock import text as lockfile
from envspec.errors import EnvspecError
from envspec.lock.freshness import stale_reasons, truncation_problem
from envspec.spec.pyproject import parse_pyproject_spec
from envspec.spec.load import parse_spec
from tests.support.locking import lock_text_for

SPEC = '''python = ">=3.11"
requirements = ["app>=1", "lib-b; python_version >= '3.8'", "http-client[socks]"]

[groups]
dev = ["lib-a==1.0.0"]

[[index]]
name = "pypi"
url = "https://pypi.org/simple"

[resolution]
prereleases = "if-necessary"
exclude-newer = "2026-11-01T00:00:00Z"
constraints = ["base<3"]
only-binary = [":all:"]

[venv]
path = ".venv"

[sources]
mylib = { path = "libs/mylib", editable = true }
'''

PYPROJECT = '''[project]
name = "demo"
version = "1.0"
requires-python = ">=3.11"
dependencies = ["app", "lib-b>=1"]

[dependency-groups]
test = ["lib-a"]
dev = [{include-group = "test"}, "top"]

[tool.envspec.resolution]
prereleases = "allow"
'''

_VALUES = ['5', '"x"', "true", "[]", "{}", "[1, [2]]", '{a = {b = 1}}', '"==="', "1979-05-27", "-0.0",
           '"' + "9" * 5000 + '"', "[" * 300 + "]" * 300]


def _mutate(text: str, rng: random.Random) -> str | bytes:
    choice = rng.randrange(7)
    if choice == 0:  # cut anywhere
        return text[: rng.randrange(len(text))]
    if not text.strip():
        return text
    if choice == 1:  # flip a byte
        data = bytearray(text.encode())
        data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    lines = text.splitlines()
    at = rng.randrange(len(lines))
    if choice == 2:  # a value of another type
        key = lines[at].split("=", 1)[0]
        lines[at] = f"{key}= {rng.choice(_VALUES)}" if "=" in lines[at] else lines[at]
    elif choice == 3:  # a line duplicated or dropped
        if rng.random() < 0.5:
            lines.insert(at, lines[at])
        else:
            del lines[at]
    elif choice == 4:  # deep nesting
        depth = rng.choice([50, 400, 990, 3000])
        lines.insert(at, f"deep = {'[' * depth}{']' * depth}")
    elif choice == 5:  # a table header moved
        lines.insert(at, rng.choice(["[tool.envspec]", "[[packages]]", "[groups]", "[tool]", "[sources.x]"]))
    else:  # two mutations
        once = _mutate(text, rng)
        return _mutate(once, rng) if isinstance(once, str) and once.strip() else once
    return "\n".join(lines) + "\n"


def _as_text(variant: str | bytes) -> str:
    return variant if isinstance(variant, str) else variant.decode("utf-8", errors="replace")


def _fuzz(seed_text: str, load: Callable[[str | bytes], object], runs: int, seed: int) -> int:
    rng = random.Random(seed)
    rejected = 0
    for _ in range(runs):
        variant = _mutate(seed_text, rng)
        try:
            load(variant)
        except EnvspecError:
            rejected += 1
        except Exception as error:  # noqa: BLE001 - the point of the test
            pytest.fail(f"{type(error).__name__}: {error} for input:\n{_as_text(variant)[:2000]}")
    return rejected


def test_fuzzed_specs_raise_only_envspec_errors() -> None:
    path = Path("/p/envspec.toml")
    rejected = _fuzz(SPEC, lambda v: parse_spec(_as_text(v), path=path), runs=1500, seed=12)
    assert rejected > 300  # the mutations do reach the validator


def test_fuzzed_pyprojects_raise_only_envspec_errors() -> None:
    path = Path("/p/pyproject.toml")
    rejected = _fuzz(PYPROJECT, lambda v: parse_pyproject_spec(_as_text(v), path=path), runs=1500, seed=7)
    assert rejected > 300


def test_fuzzed_locks_raise_only_envspec_errors() -> None:
    spec = parse_spec('python = ">=3.11"\nrequirements = ["app", "http-client[socks]"]\n[groups]\ndev = ["lib-a"]\n',
                      path=Path("/p/envspec.toml"))
    text = lock_text_for('python = ">=3.11"\nrequirements = ["app", "http-client[socks]"]\n[groups]\ndev = ["lib-a"]\n')

    def load(variant: str | bytes) -> None:
        lock = lockfile.loads(variant)
        truncation_problem(lock)
        stale_reasons(spec, lock)  # reads [tool.envspec] the way check and lock do

    rejected = _fuzz(text, load, runs=1500, seed=3)
    assert rejected > 300
