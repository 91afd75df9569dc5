"""Every resolution case in ``fixtures/cases/*.toml``, run through the real resolver.

resolvelib's style (STYLE.md §3 item 2): a case names its universe, what is requested (base and
groups), the target and options, and what must come out: the exact set of packages and versions, a
conflict whose explanation contains given phrases, or a project no index has. Cases expected to fail
are listed in ``XFAIL_CASES`` (strict: a case that starts passing must be removed from the list).

Case format, beyond the brief's: ``index-requires-python = false`` (top level) makes the in-memory
index omit Requires-Python from its file listing, so only the metadata tells it.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from envspec.errors import EXIT_USER
from envspec.resolve import ResolutionImpossible, resolve
from envspec.resolve.source import PackageNotFound
from envspec.spec.model import ResolutionOptions
from tests.support.memory_source import MemorySource, make_target
from tests.support.universe import Universe, load_universe, merge_universes

CASES_DIR = Path(__file__).resolve().parents[3] / "fixtures" / "cases"
CASE_FILES = sorted(CASES_DIR.glob("*.toml"))

XFAIL_CASES: dict[str, str] = {}


def _universe(names: str | list[str]) -> Universe:
    if isinstance(names, str):
        return load_universe(names)
    return merge_universes(*(load_universe(name) for name in names))


def _options(table: dict[str, Any]) -> ResolutionOptions:
    exclude_newer = table.get("exclude-newer")
    if isinstance(exclude_newer, str):
        exclude_newer = datetime.fromisoformat(exclude_newer)
    return ResolutionOptions(
        prereleases=table.get("prereleases", "if-necessary"),
        exclude_newer=exclude_newer,
        constraints=tuple(Requirement(text) for text in table.get("constraints", [])),
        only_binary=frozenset(
            text if text == ":all:" else canonicalize_name(text)
            for text in table.get("only-binary", [])
        ),
    )


def _upgrade(value: bool | list[str]) -> bool | frozenset[NormalizedName]:
    if isinstance(value, bool):
        return value
    return frozenset(canonicalize_name(name) for name in value)


@pytest.mark.parametrize(
    "case_file",
    [
        pytest.param(
            path,
            id=path.stem,
            marks=[pytest.mark.xfail(reason=XFAIL_CASES[path.stem], strict=True)]
            if path.stem in XFAIL_CASES
            else [],
        )
        for path in CASE_FILES
    ],
)
def test_resolution_case(case_file: Path) -> None:
    case = tomllib.loads(case_file.read_text(encoding="utf-8"))
    source = MemorySource(
        _universe(case["universe"]),
        index_requires_python=case.get("index-requires-python", True),
    )
    target_table = case.get("target", {})
    target = make_target(
        python=target_table.get("python", "3.11.7"),
        platform=target_table.get("platform", "linux"),
    )
    options_table = case.get("options", {})
    requirements: dict[str | None, list[Requirement]] = {
        None: [Requirement(text) for text in case["requested"]]
    }
    for group, texts in case.get("groups", {}).items():
        requirements[group] = [Requirement(text) for text in texts]
    locked = {
        canonicalize_name(name): Version(version)
        for name, version in options_table.get("locked", {}).items()
    }
    expected = case["expected"]

    def run() -> dict[str, str]:
        resolution = resolve(
            requirements,
            target=target,
            source=source,
            options=_options(options_table),
            locked=locked,
            upgrade=_upgrade(options_table.get("upgrade", False)),
        )
        return {name: str(package.version) for name, package in resolution.packages.items()}

    if "resolved" in expected:
        want = {canonicalize_name(k): str(Version(v)) for k, v in expected["resolved"].items()}
        assert run() == want
    elif "conflict" in expected:
        with pytest.raises(ResolutionImpossible) as raised:
            run()
        message = str(raised.value)
        assert raised.value.exit_code == EXIT_USER
        assert message.startswith("Cannot resolve: ")
        assert "\n" not in message, "the explanation is one paragraph"
        for phrase in expected["conflict"]:
            assert phrase in message, f"{phrase!r} missing from: {message}"
    else:
        with pytest.raises(PackageNotFound) as not_found:
            run()
        assert not_found.value.name == expected["not-found"]
        assert not_found.value.exit_code == EXIT_USER


def test_there_are_enough_cases() -> None:
    """The brief asks for at least 40 cases, at least 8 of them conflict explanations."""
    texts = [path.read_text(encoding="utf-8") for path in CASE_FILES]
    assert len(texts) >= 40
    assert sum("conflict = [" in text for text in texts) >= 8
