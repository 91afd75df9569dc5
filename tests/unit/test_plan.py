"""The reconciler's diff: exact, deterministic, every kind of change."""

from __future__ import annotations

from packaging.utils import canonicalize_name
from packaging.version import Version

from envspec.plan import Installed, Wanted, make_plan


def want(name: str, version: str) -> Wanted:
    return Wanted(
        name=canonicalize_name(name),
        version=Version(version),
        url=f"https://x.test/{name}-{version}-py3-none-any.whl",
        filename=f"{name}-{version}-py3-none-any.whl",
        sha256="0" * 64,
    )


def have(name: str, version: str, **kw: object) -> Installed:
    return Installed(name=canonicalize_name(name), version=Version(version), **kw)  # type: ignore[arg-type]


def test_every_kind_of_change_in_name_order() -> None:
    plan = make_plan(
        [want("new", "1"), want("up", "2"), want("down", "1"), want("same", "1"), want("hurt", "1")],
        {
            n.name: n
            for n in [
                have("up", "1"),
                have("down", "2"),
                have("same", "1"),
                have("extra", "3", installer="pip"),
                have("hurt", "1", damaged=True),
                have("pip", "24.0"),
            ]
        },
    )
    assert [str(a) for a in plan.actions] == [
        "~ down 2 -> 1",
        "- extra==3",
        "~ hurt==1 (reinstall)",
        "+ new==1",
        "- pip==24.0",
        "~ up 1 -> 2",
    ]
    assert plan.unchanged == ("same",)
    assert plan.summary() == "+1 −2 ~3"
    assert {a.name for a in plan.to_remove} == {"down", "extra", "hurt", "pip", "up"}
    assert {a.name for a in plan.to_install} == {"down", "hurt", "new", "up"}


def test_matching_venv_gives_an_empty_plan() -> None:
    plan = make_plan([want("a", "1")], {"a": have("a", "1")})  # type: ignore[dict-item]
    assert plan.is_empty()
    assert plan.unchanged == ("a",)


def test_forced_reinstall() -> None:
    plan = make_plan([want("a", "1")], {"a": have("a", "1")}, reinstall=["a"])  # type: ignore[dict-item,list-item]
    assert [a.kind for a in plan.actions] == ["reinstall"]
