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


# ── packages from sources: URLs, archives, local directories ─────────────────────────────────

SOURCE = "file:///work/app/libs/mylib"


def want_dir(
    name: str = "mylib", *, editable: bool = False, digest: str | None = "d1", label: str = "libs/mylib"
) -> Wanted:
    return Wanted(
        name=canonicalize_name(name),
        version=None,
        url=SOURCE,
        filename="mylib",
        sha256=None,
        kind="directory",
        editable=editable,
        direct_url=SOURCE,
        source_digest=digest,
        source_label=label,
    )


def want_url(name: str, version: str, url: str) -> Wanted:
    return Wanted(
        name=canonicalize_name(name),
        version=Version(version),
        url=url,
        filename=url.rsplit("/", 1)[-1],
        sha256="1" * 64,
        kind="sdist" if url.endswith(".tar.gz") else "wheel",
        direct_url=url,
        source_label=url,
    )


def have_dir(version: str = "0.1", **kw: object) -> Installed:
    fields: dict[str, object] = {"direct_url": SOURCE, "source_digest": "d1", **kw}
    return have("mylib", version, **fields)


def plan_of(wanted: Wanted, installed: Installed | None, **kw: object) -> list[str]:
    found = {installed.name: installed} if installed is not None else {}
    return [str(a) for a in make_plan([wanted], found, **kw).actions]  # type: ignore[arg-type]


def test_a_directory_is_installed_and_shown_by_its_source() -> None:
    (action,) = make_plan([want_dir()], {}).actions
    assert (action.kind, action.old, action.new) == ("install", None, None)
    assert str(action) == "+ mylib (libs/mylib)"


def test_a_directory_is_never_compared_by_version() -> None:
    for version in ("0.1", "9.9", "0"):
        assert plan_of(want_dir(), have_dir(version)) == []


def test_a_directory_is_reinstalled_when_its_source_changed() -> None:
    plan = make_plan([want_dir(digest="d2")], {canonicalize_name("mylib"): have_dir()})
    (action,) = plan.actions
    assert (action.kind, action.reason, action.old, action.new) == (
        "reinstall",
        "source-changed",
        Version("0.1"),
        None,
    )
    assert str(action) == "~ mylib (libs/mylib, source changed)"
    assert [a.name for a in plan.to_remove] == [a.name for a in plan.to_install] == ["mylib"]


def test_a_directory_that_lost_its_digest_is_reinstalled_then_converges() -> None:
    assert plan_of(want_dir(digest=None), have_dir()) == ["~ mylib (libs/mylib, source changed)"]
    assert plan_of(want_dir(digest=None), have_dir(source_digest=None)) == []


def test_switching_editable_mode_reinstalls() -> None:
    assert plan_of(want_dir(editable=True), have_dir()) == ["~ mylib (libs/mylib, now editable)"]
    assert plan_of(want_dir(), have_dir(editable=True)) == [
        "~ mylib (libs/mylib, no longer editable)"
    ]
    assert plan_of(want_dir(editable=True), have_dir(editable=True)) == []


def test_a_directory_installed_from_elsewhere_is_reinstalled() -> None:
    moved = have_dir(direct_url="file:///elsewhere/mylib")
    assert plan_of(want_dir(), moved) == ["~ mylib (libs/mylib, source switched)"]
    from_index = have_dir(direct_url=None, source_digest=None, installer="pip")
    assert plan_of(want_dir(), from_index) == ["~ mylib (libs/mylib, source switched)"]


def test_a_damaged_or_forced_directory_is_reinstalled() -> None:
    assert plan_of(want_dir(), have_dir(damaged=True)) == ["~ mylib (libs/mylib, reinstall)"]
    assert plan_of(want_dir(), have_dir(), reinstall=["mylib"]) == [
        "~ mylib (libs/mylib, reinstall)"
    ]


def test_a_url_package_at_the_same_version_from_another_url_is_reinstalled() -> None:
    url = "https://files.test/a-1.0-py3-none-any.whl"
    wanted = want_url("a", "1.0", url)
    assert plan_of(wanted, have("a", "1.0", direct_url=url)) == []
    assert plan_of(wanted, have("a", "1.0", direct_url="https://old.test/a-1.0.tar.gz")) == [
        f"~ a==1.0 ({url}, source switched)"
    ]
    assert plan_of(wanted, have("a", "1.0")) == [f"~ a==1.0 ({url}, source switched)"]
    assert plan_of(wanted, None) == [f"+ a==1.0 ({url})"]
    # another version is an upgrade, as from an index
    assert plan_of(wanted, have("a", "0.9", direct_url=url)) == ["~ a 0.9 -> 1.0"]


def test_an_index_package_installed_from_a_url_or_path_goes_back_to_the_index() -> None:
    (action,) = make_plan([want("a", "1.0")], {"a": have("a", "1.0", direct_url=SOURCE)}).actions  # type: ignore[dict-item]
    assert (action.kind, action.reason) == ("reinstall", "source-switched")
    assert str(action) == "~ a==1.0 (now from an index)"
    # pip installs from an index write no direct_url.json: nothing to do
    assert plan_of(want("a", "1.0"), have("a", "1.0", installer="pip")) == []
