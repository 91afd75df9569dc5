"""envspec tree / why over a lock: the diamond, depth, invert, groups, markers, unknown names."""

from __future__ import annotations

import dataclasses

import pytest
from packaging.pylock import Pylock

from envspec.lock import text as lockfile
from envspec.errors import UserError
from envspec.lock.graph import (
    LockGraph,
    UnknownGroup,
    UnknownPackage,
    paths_to,
    render_tree,
    render_why,
)
from tests.support.locking import lock_text_for

SPEC = """\
python = ">=3.11"
requirements = ["app", "http-client[socks]"]
[groups]
dev = ["top"]
docs = ["top", "lib-b"]
"""


def lock_for(spec_text: str, *, python: str = "3.11.7") -> Pylock:
    """Resolve a spec over the basic universe in memory and read the lock back as envspec would."""
    return lockfile.loads(lock_text_for(spec_text, python=python))


@pytest.fixture(scope="module")
def lock() -> Pylock:
    return lock_for(SPEC)


def test_tree_of_the_base_shows_each_requirement_and_what_it_pulls_in(lock: Pylock) -> None:
    assert render_tree(LockGraph.from_lock(lock)) == [
        "app 2.0.0",
        "└── lib-a 2.0.0",
        "    └── lib-b 1.1.0",
        "http-client[socks] 1.0.0",
        "├── base 2.1.0",
        "└── pysocks 1.7.1",
    ]


def test_group_roots_are_labelled_and_only_shown_when_selected(lock: Pylock) -> None:
    base = render_tree(LockGraph.from_lock(lock))
    assert not any("top" in line for line in base)
    lines = render_tree(LockGraph.from_lock(lock, ["dev"]))
    assert "top 1.0.0 (group: dev)" in lines
    # the diamond: top → left, right → base, with the one base version both accept
    start = lines.index("top 1.0.0 (group: dev)")
    assert lines[start + 1 :] == [
        "├── left 1.0.0",
        "│   └── base 2.1.0",
        "└── right 1.0.0",
        "    └── base 2.1.0",
    ]


def test_a_subtree_already_drawn_is_marked_instead_of_expanded_again() -> None:
    spec = 'python = ">=3.11"\nrequirements = ["left", "top"]\n'
    lines = render_tree(LockGraph.from_lock(lock_for(spec)))
    assert lines == [
        "left 1.0.0",
        "└── base 2.1.0",
        "top 1.0.0",
        "├── left 1.0.0 (*)",
        "└── right 1.0.0",
        "    └── base 2.1.0",
    ]
    # a root required by two groups is drawn in full once
    both = render_tree(LockGraph.from_lock(lock_for(SPEC), ["dev", "docs"]))
    assert "top 1.0.0 (group: docs) (*)" in both
    assert sum(line.endswith("left 1.0.0") for line in both) == 1


def test_depth_limits_the_levels_below_the_roots(lock: Pylock) -> None:
    graph = LockGraph.from_lock(lock, ["dev"])
    assert render_tree(graph, depth=0) == [
        "app 2.0.0",
        "http-client[socks] 1.0.0",
        "top 1.0.0 (group: dev)",
    ]
    one = render_tree(graph, depth=1)
    assert "└── lib-a 2.0.0" in one and not any("lib-b" in line for line in one)
    assert not any("base" in line and "    " in line for line in one)  # no grandchildren
    with pytest.raises(UserError, match="depth"):
        render_tree(graph, depth=-1)


def test_depth_cut_never_marks_an_unseen_subtree_as_repeated() -> None:
    graph = LockGraph.from_lock(lock_for('python = ">=3.11"\nrequirements = ["app", "lib-a"]\n'))
    # lib-a's children were cut by the depth under app, so the root 'lib-a' is drawn, not "(*)"
    assert render_tree(graph, depth=1) == [
        "app 2.0.0",
        "└── lib-a 2.0.0",
        "lib-a 2.0.0",
        "└── lib-b 1.1.0",
    ]
    assert render_tree(graph)[-1] == "lib-a 2.0.0 (*)"


def test_invert_shows_who_depends_on_each_package(lock: Pylock) -> None:
    lines = render_tree(LockGraph.from_lock(lock, ["dev"]), invert=True)
    start = lines.index("base 2.1.0")
    assert lines[start : start + 6] == [
        "base 2.1.0",
        "├── http-client 1.0.0 (spec)",
        "├── left 1.0.0",
        "│   └── top 1.0.0 (group: dev)",
        "└── right 1.0.0",
        "    └── top 1.0.0 (group: dev)",
    ]
    tops = [line.split()[0] for line in lines if not line.startswith(("├", "└", "│", " "))]
    assert tops == ["base", "lib-b", "pysocks"]  # the packages that depend on nothing


def test_markers_of_the_spec_requirements_are_shown() -> None:
    text = (
        'python = ">=3.11"\n'
        "requirements = [\"compat; python_version < '3.12'\",\n"
        "                \"modern; python_version < '3.10'\"]\n"
    )
    lines = render_tree(LockGraph.from_lock(lock_for(text)))
    assert lines == ['compat 1.0.0 (marker: python_version < "3.12")']  # modern: not for 3.11


def test_why_lists_every_path_from_the_spec(lock: Pylock) -> None:
    graph = LockGraph.from_lock(lock, ["dev", "docs"])
    paths = paths_to(graph, "base")
    assert paths[0] == ["the spec requires http-client[socks]", "http-client 1.0.0", "base 2.1.0"]
    assert ["group 'dev' requires top", "top 1.0.0", "left 1.0.0", "base 2.1.0"] in paths
    assert ["group 'dev' requires top", "top 1.0.0", "right 1.0.0", "base 2.1.0"] in paths
    assert len(paths) == 5  # spec once, and dev and docs each through left and right
    assert paths_to(graph, "LIB_B") == [
        ["the spec requires app", "app 2.0.0", "lib-a 2.0.0", "lib-b 1.1.0"],
        ["group 'docs' requires lib-b", "lib-b 1.1.0"],
    ]
    assert len(paths_to(graph, "base", limit=2)) == 2
    lines = render_why(graph, "lib-b")
    assert lines[0] == "lib-b 1.1.0 is required by 2 paths:"
    assert "  the spec requires app: app 2.0.0 → lib-a 2.0.0 → lib-b 1.1.0" in lines


def test_why_an_unknown_name_suggests_close_matches(lock: Pylock) -> None:
    graph = LockGraph.from_lock(lock)
    with pytest.raises(UnknownPackage, match="'lib-c'") as caught:
        paths_to(graph, "lib-c")
    assert set(caught.value.close) == {"lib-a", "lib-b"} and caught.value.exit_code == 2
    with pytest.raises(UnknownPackage) as nothing_close:
        render_why(graph, "zzzz")
    assert nothing_close.value.close == ()
    # locked, but only for a group that is not selected: say which
    with pytest.raises(UnknownPackage, match="'dev', 'docs'") as grouped:
        paths_to(graph, "top")
    assert grouped.value.hint is not None and "--group dev" in grouped.value.hint


def test_unknown_group_is_a_user_error(lock: Pylock) -> None:
    with pytest.raises(UnknownGroup, match="'devv'.*Did you mean 'dev'") as caught:
        LockGraph.from_lock(lock, ["devv"])
    assert caught.value.exit_code == 2


def test_lock_without_recorded_inputs_uses_packages_nothing_depends_on(lock: Pylock) -> None:
    foreign = dataclasses.replace(lock, tool=None)
    graph = LockGraph.from_lock(foreign)
    assert [root.name for root in graph.roots()] == ["app", "http-client"]
    assert graph.children("http-client") == ("base", "pysocks")
    assert graph.parents("base") == ("http-client",)


def test_a_cycle_is_drawn_once_and_terminates(lock: Pylock) -> None:
    packages = [
        dataclasses.replace(p, dependencies=[{"name": "app"}]) if p.name == "lib-b" else p
        for p in lock.packages
    ]
    graph = LockGraph.from_lock(dataclasses.replace(lock, packages=packages))
    lines = render_tree(graph)
    assert lines[:4] == [
        "app 2.0.0",
        "└── lib-a 2.0.0",
        "    └── lib-b 1.1.0",
        "        └── app 2.0.0 (*)",
    ]
    assert paths_to(graph, "lib-b")[0][1:] == ["app 2.0.0", "lib-a 2.0.0", "lib-b 1.1.0"]
    # without recorded roots, a cycle nothing reaches still shows up
    orphan = LockGraph.from_lock(dataclasses.replace(lock, packages=packages, tool=None))
    assert any(line.startswith("app 2.0.0") for line in render_tree(orphan))
