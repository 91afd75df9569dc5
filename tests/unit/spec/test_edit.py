"""`add`/`remove` edit envspec.toml in place: golden before/after files, and what must never change.

Each ``fixtures/edit/<case>.before.toml`` says on its first line what to do
(``# edit: add --group dev 'pytest>=8'``); the result must equal ``<case>.after.toml`` byte for byte
and still be a valid spec.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pytest

from envspec.errors import EXIT_USER
from envspec.spec.load import parse_spec
from envspec.spec.edit import (
    InvalidRequirementArgument,
    NotInSpec,
    UneditableSpec,
    add_requirements,
    remove_requirements,
)

EDIT = Path(__file__).resolve().parents[3] / "fixtures" / "edit"
CASES = sorted(path.name.removesuffix(".before.toml") for path in EDIT.glob("*.before.toml"))


def _run(text: str) -> str:
    """Apply the edit that the text's first line describes."""
    first = text.splitlines()[0]
    assert first.startswith("# edit: "), first
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["add", "remove"])
    parser.add_argument("--group")
    parser.add_argument("values", nargs="+")
    args = parser.parse_args(shlex.split(first.removeprefix("# edit: ")))
    edit = add_requirements if args.action == "add" else remove_requirements
    return edit(text, args.values, group=args.group)


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # no newline translation: bytes are the contract


def test_there_are_golden_cases_for_every_kind_of_edit() -> None:
    assert len(CASES) >= 8
    assert {p.name.removesuffix(".after.toml") for p in EDIT.glob("*.after.toml")} == set(CASES)
    actions = {_read(EDIT / f"{case}.before.toml").split()[2] for case in CASES}
    assert actions == {"add", "remove"}


@pytest.mark.parametrize("case", CASES)
def test_edit_gives_the_golden_file_and_a_valid_spec(case: str) -> None:
    before = _read(EDIT / f"{case}.before.toml")
    expected = _read(EDIT / f"{case}.after.toml")
    parse_spec(before, path=Path("envspec.toml"))  # the input is a valid spec too
    after = _run(before)
    assert after == expected
    parse_spec(after, path=Path("envspec.toml"))


@pytest.mark.parametrize("case", CASES)
def test_edit_is_idempotent(case: str) -> None:
    """Running the same `add` twice changes nothing the second time; a second `remove` fails."""
    once = _run(_read(EDIT / f"{case}.before.toml"))
    if case.startswith("add"):
        assert _run(once) == once
    else:
        with pytest.raises(NotInSpec):
            _run(once)


@pytest.mark.parametrize(
    "text",
    [
        'python = "3.12"\nrequirements = ["a", "b"]\n',
        'python = "3.12"\nrequirements = ["a", "b",]\n',
        'python = "3.12"\nrequirements = []\n',
        'python = "3.12"\nrequirements = [\n  "a",  # why\n  "b"\n]\n',
        'python = "3.12"\nrequirements = [\n  "a",\n  "b",  # why\n]\n# end\n',
        "python = '3.12'\nrequirements = [ 'a' ]\n[groups]\nx = []\n",
    ],
)
def test_add_then_remove_gives_back_the_original_bytes(text: str) -> None:
    added = add_requirements(text, ["zzz-new>=1"])
    assert added != text
    assert remove_requirements(added, ["ZZZ_New"]) == text


def test_windows_line_endings_are_kept() -> None:
    text = 'python = "3.12"\r\nrequirements = [\r\n    "a",\r\n]\r\n\r\n[venv]\r\npath = "v"\r\n'
    after = add_requirements(text, ["b"], group="dev")
    after = add_requirements(after, ["c"])
    assert "\n" not in after.replace("\r\n", "")
    assert after.startswith('python = "3.12"\r\nrequirements = [\r\n    "a",\r\n    "c",\r\n]\r\n')
    assert after.endswith('[venv]\r\npath = "v"\r\n\r\n[groups]\r\ndev = ["b"]\r\n')
    assert remove_requirements(after, ["c"]).startswith(text.split("\r\n\r\n")[0])


def test_removing_a_name_that_is_not_there_says_where_it_is() -> None:
    text = 'python = "3.12"\nrequirements = ["requests"]\n[groups]\ndev = ["Pytest>=8"]\n'
    with pytest.raises(NotInSpec) as caught:
        remove_requirements(text, ["pytest"])
    assert caught.value.name == "pytest"
    assert caught.value.group is None
    assert caught.value.found_in == ("group 'dev'",)
    assert caught.value.exit_code == EXIT_USER
    assert "'pytest' is not in the spec's requirements" in str(caught.value)

    with pytest.raises(NotInSpec) as missing:
        remove_requirements(text, ["rich"], group="dev")
    assert missing.value.name == "rich" and missing.value.group == "dev"
    assert missing.value.found_in == ()
    assert missing.value.hint is not None and "envspec why rich" in missing.value.hint

    with pytest.raises(NotInSpec):
        remove_requirements(text, ["requests"], group="docs")  # no such group


def test_one_name_missing_means_no_edit_at_all() -> None:
    text = 'python = "3.12"\nrequirements = ["requests", "rich"]\n'
    with pytest.raises(NotInSpec) as caught:
        remove_requirements(text, ["rich", "nope"])
    assert caught.value.name == "nope"


@pytest.mark.parametrize("bad", ["requests>=", "not a requirement!", ""])
def test_a_bad_requirement_is_rejected_with_its_reason(bad: str) -> None:
    text = 'python = "3.12"\nrequirements = []\n'
    with pytest.raises(InvalidRequirementArgument) as caught:
        add_requirements(text, ["rich", bad])
    assert caught.value.value == bad
    assert caught.value.exit_code == EXIT_USER


def test_bad_group_and_bad_name_are_rejected() -> None:
    text = 'python = "3.12"\nrequirements = ["rich"]\n'
    with pytest.raises(InvalidRequirementArgument, match="invalid group name"):
        add_requirements(text, ["rich"], group="-dev")
    with pytest.raises(InvalidRequirementArgument, match="not a project name"):
        remove_requirements(text, ["rich>=1"])


def test_text_that_is_not_toml_is_not_edited() -> None:
    with pytest.raises(UneditableSpec, match="not valid TOML"):
        add_requirements('python = "3.12"\nrequirements = ["a"\n', ["b"])


def test_groups_in_dotted_and_inline_form_get_new_groups_in_the_same_form() -> None:
    dotted = 'python = "3.12"\ngroups.dev = ["pytest"]  # tests\n\n[venv]\npath = "v"\n'
    assert add_requirements(dotted, ["ruff"], group="lint") == (
        'python = "3.12"\ngroups.dev = ["pytest"]  # tests\ngroups.lint = ["ruff"]\n\n'
        '[venv]\npath = "v"\n'
    )
    inline = 'python = "3.12"\ngroups = { dev = ["pytest"] }\n'
    after = add_requirements(inline, ["ruff"], group="lint")
    assert after == 'python = "3.12"\ngroups = { dev = ["pytest"], lint = ["ruff"] }\n'
    assert add_requirements(after, ["mypy"], group="dev") == (
        'python = "3.12"\ngroups = { dev = ["pytest", "mypy"], lint = ["ruff"] }\n'
    )


def test_strings_that_need_escaping_and_tricky_neighbours() -> None:
    text = (
        'python = "3.12"\n'
        'note = """a ] and a # and "quotes" """\n'
        "requirements = ['a', \"b\"]  # ] not the end\n"
    )
    after = add_requirements(text, ['c; sys_platform == "linux"'])
    assert after.endswith(
        'requirements = [\'a\', "b", "c; sys_platform == \\"linux\\""]  # ] not the end\n'
    )
    assert after.startswith(text.split("requirements")[0])


def test_a_byte_order_mark_is_kept() -> None:
    text = '\ufeffpython = "3.12"\nrequirements = ["a"]\n'
    assert add_requirements(text, ["b"]) == '\ufeffpython = "3.12"\nrequirements = ["a", "b"]\n'
    assert remove_requirements(text, ["a"]) == '\ufeffpython = "3.12"\nrequirements = []\n'
