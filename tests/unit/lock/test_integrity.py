"""Locks that read back, that cannot be silently partial, and inputs that cost bounded work."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from envspec.lock import text as lockfile
from envspec.errors import EnvspecError, SpecError, UserError
from envspec.lock.freshness import stale_reasons, truncation_problem
from envspec.spec.pyproject import parse_pyproject_spec
from envspec.spec.load import parse_spec
from tests.support.locking import lock_text_for

SPEC = 'python = ">=3.11"\nrequirements = ["app", "lib-b"]\n'
SPEC_PATH = Path("/p/envspec.toml")


def test_an_empty_lock_round_trips() -> None:
    text = lock_text_for('python = ">=3.11"\nrequirements = []\n')
    assert "packages = []" in text
    lock = lockfile.loads(text)
    assert lock.packages == []
    assert stale_reasons(parse_spec('python = ">=3.11"\nrequirements = []\n', path=SPEC_PATH), lock) == []


def _cut_last_package(text: str) -> str:
    return text[: text.rindex("[[packages]]")] + text[text.index("[tool"):]


def test_a_lock_cut_at_a_package_boundary_is_noticed() -> None:
    text = lock_text_for(SPEC)
    cut = _cut_last_package(text)
    lock = lockfile.loads(cut)  # still a valid PEP 751 file
    problem = truncation_problem(lock)
    assert problem is not None and "records" in problem
    assert stale_reasons(parse_spec(SPEC, path=SPEC_PATH), lock) == [problem]
    assert truncation_problem(lockfile.loads(text)) is None


@pytest.mark.parametrize(
    ("tool", "words"),
    [
        ('[tool]\nenvspec = 5\n', "[tool.envspec] must be a table"),
        ('[tool.envspec]\ninputs = "x"\n', "inputs must be a table"),
        ('[tool.envspec.inputs]\nrequirements = 5\n', "inputs.requirements must be a list of strings"),
        ('[tool.envspec.inputs]\ngroups = {dev = [1]}\n', "inputs.groups"),
        ('[tool.envspec.inputs]\nindexes = ["x"]\n', "inputs.indexes"),
        ('[tool.envspec.target]\npython-version = 3.12\n', "target.python-version must be a string"),
        ('[tool.envspec.packages]\ncount = "3"\n', "packages.count must be an integer"),
    ],
)
def test_garbage_types_in_tool_envspec_are_a_clear_error(tool: str, words: str) -> None:
    text = 'lock-version = "1.0"\ncreated-by = "envspec"\npackages = []\n' + tool
    with pytest.raises(UserError) as caught:
        lockfile.loads(text)
    assert caught.value.exit_code == 2 and words in str(caught.value)


def test_a_non_utf8_or_deeply_nested_lock_is_bad_input() -> None:
    with pytest.raises(UserError, match="not UTF-8"):
        lockfile.loads(b'lock-version = "1.0"\n# \xff\xfe\n')
    with pytest.raises(UserError, match="nested too deeply"):
        lockfile.loads("a = " + "[" * 50_000)


def test_a_lock_directory_outside_the_project_is_refused_unless_the_spec_names_it(
    tmp_path: Path,
) -> None:
    project = tmp_path / "proj"
    (tmp_path / "libs" / "mylib").mkdir(parents=True)
    project.mkdir()
    base = (
        'lock-version = "1.0"\ncreated-by = "envspec"\n\n[[packages]]\nname = "mylib"\n'
        'directory = {{ path = "{path}" }}\n'
    )
    spec = parse_spec(
        'python = ">=3.11"\nrequirements = ["mylib"]\n[sources]\nmylib = { path = "../libs/mylib" }\n',
        path=project / "envspec.toml",
    )
    stale_reasons(spec, lockfile.loads(base.format(path="../libs/mylib")))  # named: fine
    for hostile in ("../../../..", "/", "../libs"):
        with pytest.raises(UserError) as caught:
            stale_reasons(spec, lockfile.loads(base.format(path=hostile)))
        assert "'mylib'" in str(caught.value) and hostile in str(caught.value)


@pytest.mark.parametrize("parse", [parse_spec, parse_pyproject_spec])
@pytest.mark.parametrize(
    "body",
    [
        "requirements = " + "[" * 50_000,
        'python = "3.12"\nrequirements = ' + "[" * 900 + "]" * 900,
        'python = "3.12"\n[groups]\nx = ' + "{a = " * 900 + "1" + "}" * 900,
    ],
)
def test_deeply_nested_specs_are_spec_errors(parse: object, body: str) -> None:
    with pytest.raises(SpecError):
        parse(body, path=Path("x.toml"))  # type: ignore[operator]


def _pyproject(groups: str) -> str:
    return f'[project]\nname = "p"\nversion = "1"\nrequires-python = ">=3.11"\n[dependency-groups]\n{groups}'


def test_an_include_group_diamond_expands_linearly() -> None:
    lines = ['g0 = ["lib-b"]']
    for level in range(1, 60):  # 2**60 paths if each were walked
        lines.append(f'g{level} = [{{include-group = "g{level - 1}"}}, {{include-group = "g{level - 1}"}}]')
    started = time.monotonic()
    spec = parse_pyproject_spec(_pyproject("\n".join(lines)), path=Path("pyproject.toml"))
    assert time.monotonic() - started < 2
    assert [str(r) for r in spec.groups["g59"]] == ["lib-b"]


def test_an_include_group_cycle_and_a_long_chain_are_not_crashes() -> None:
    with pytest.raises(SpecError) as caught:
        parse_pyproject_spec(
            _pyproject('a = [{include-group = "b"}]\nb = [{include-group = "a"}]\n'),
            path=Path("pyproject.toml"),
        )
    assert "cycle" in str(caught.value) and "a → b → a" in str(caught.value)
    chain = ['g0 = ["lib-b"]'] + [f'g{i} = [{{include-group = "g{i - 1}"}}]' for i in range(1, 3000)]
    spec = parse_pyproject_spec(_pyproject("\n".join(chain)), path=Path("pyproject.toml"))
    assert [str(r) for r in spec.groups["g2999"]] == ["lib-b"]


def test_thousands_of_single_requirement_groups_lock_quickly() -> None:
    groups = "\n".join(f'g{i} = ["lib-b"]' for i in range(3000))
    started = time.monotonic()
    text = lock_text_for(f'python = ">=3.11"\nrequirements = ["app"]\n[groups]\n{groups}\n')
    assert time.monotonic() - started < 6  # quadratic in groups before (18 s for 5,000)
    assert truncation_problem(lockfile.loads(text)) is None


def test_errors_from_loaders_are_envspec_errors() -> None:
    assert issubclass(lockfile.LockFileError, EnvspecError)
