"""From a resolution to pylock.toml: groups as markers, all files, deterministic, freshness."""

from __future__ import annotations

from pathlib import Path

from packaging.pylock import PackageWheel

from envspec.lock import text as lockfile
from envspec.lock.freshness import stale_reasons
from envspec.lock.model import changes_between
from envspec.spec.load import parse_spec
from tests.support.locking import lock_text_for
from tests.support.memory_source import make_target

SPEC = """\
python = ">=3.11"
requirements = ["app", "http-client[socks]"]
[groups]
dev = ["top"]
docs = ["top", "lib-b"]
"""


def lock_for(spec_text: str, *, python: str = "3.11.7", platform: str = "linux") -> str:
    return lock_text_for(spec_text, python=python, platform=platform)


def test_one_lock_serves_the_base_and_every_group() -> None:
    lock = lockfile.loads(lock_for(SPEC))
    by_name = {p.name: p for p in lock.packages}
    assert lock.dependency_groups == ["dev", "docs"]
    assert by_name["app"].marker is None
    assert by_name["lib-b"].marker is None  # app → lib-a → lib-b: base needs it too
    assert str(by_name["top"].marker) == '"dev" in dependency_groups or "docs" in dependency_groups'

    env = dict(make_target("3.11.7", "linux").markers)
    tags = make_target("3.11.7", "linux").tags
    base = {p.name for p, _ in lock.select(environment=env, tags=tags, dependency_groups=[])}
    dev = {p.name for p, _ in lock.select(environment=env, tags=tags, dependency_groups=["dev"])}
    assert "top" not in base and "base" in base  # http-client needs base in any case
    assert dev - base == {"top", "left", "right"}
    assert "pysocks" in base  # the extra asked for in the spec


def test_every_file_of_the_version_is_recorded_with_hash_and_size() -> None:
    lock = lockfile.loads(lock_for('python = "3.11"\nrequirements = ["speedups"]\n'))
    (speedups,) = [p for p in lock.packages if p.name == "speedups"]
    wheels = speedups.wheels or []
    names = [w.filename for w in wheels]
    assert any("win_amd64" in n for n in names) and any("manylinux" in n for n in names)
    assert all(isinstance(w, PackageWheel) and len(w.hashes["sha256"]) == 64 for w in wheels)
    assert speedups.sdist is not None
    assert lock.environments is not None and 'sys_platform == "linux"' in str(lock.environments[0])


def test_same_inputs_give_byte_identical_locks() -> None:
    assert lock_for(SPEC) == lock_for(SPEC)


def test_freshness_is_semantic() -> None:
    lock = lockfile.loads(lock_for(SPEC))
    reformatted = (
        "# a comment\n[groups]\ndocs = [ 'LIB_B', \"top\" ]\ndev = ['Top']\n\n"
        "[resolution]\nprereleases = 'if-necessary'\n"
        "\n# python moved below\n"
    )
    reformatted = 'python = " >=3.11 "\nrequirements = ["HTTP-Client[SOCKS]", "app"]\n' + reformatted
    assert stale_reasons(parse_spec(reformatted, path=Path("/p/envspec.toml")), lock) == []

    changed = SPEC.replace('"app"', '"app<2"')
    reasons = stale_reasons(parse_spec(changed, path=Path("/p/envspec.toml")), lock)
    assert reasons == ["requirements: added 'app<2'", "requirements: removed 'app'"]

    grouped = SPEC.replace('docs = ["top", "lib-b"]', 'docs = ["top"]')
    reasons = stale_reasons(parse_spec(grouped, path=Path("/p/envspec.toml")), lock)
    assert reasons == ["group 'docs': removed 'lib-b'"]

    option = SPEC + '[resolution]\nexclude-newer = "2024-01-01T00:00:00Z"\n'
    (reason,) = stale_reasons(parse_spec(option, path=Path("/p/envspec.toml")), lock)
    assert "exclude-newer" in reason


def test_changes_between_locks() -> None:
    old = lockfile.loads(lock_for('python = "3.11"\nrequirements = ["app<2"]\n'))
    new = lockfile.loads(lock_for('python = "3.11"\nrequirements = ["app"]\n'))
    assert [str(c) for c in changes_between(old, new)] == ["~ app 1.0.0 -> 2.0.0"]
    fewer = lockfile.loads(lock_for('python = "3.11"\nrequirements = ["lib-b"]\n'))
    assert [str(c) for c in changes_between(new, fewer)] == ["- app 2.0.0", "- lib-a 2.0.0"]
    assert [str(c) for c in changes_between(None, fewer)] == ["+ lib-b 1.1.0"]
