"""envspec.drift: the package comparison, the text a person reads and the JSON a CI script
parses, for every kind of drift `envspec check` reports. Pure: no venv, no files but the schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from packaging.utils import NormalizedName
from packaging.version import Version

from envspec.drift import FINDING_KINDS, DriftReport, Finding, FindingKind, compare_packages
from envspec.plan import Installed, Wanted

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "check-report.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _wanted(name: str, version: str) -> Wanted:
    return Wanted(
        name=NormalizedName(name),
        version=Version(version),
        url=f"https://example.invalid/{name}-{version}-py3-none-any.whl",
        filename=f"{name}-{version}-py3-none-any.whl",
        sha256="0" * 64,
    )


def _installed(
    name: str, version: str, installer: str | None = "envspec", *, damaged: bool = False
) -> tuple[NormalizedName, Installed]:
    key = NormalizedName(name)
    return key, Installed(name=key, version=Version(version), installer=installer, damaged=damaged)


SITE = "lib/python3.12/site-packages"

# One finding of every kind, as the check's steps produce them.
EXAMPLES: dict[FindingKind, Finding] = {
    "missing-lock": Finding(
        kind="missing-lock",
        path="pylock.toml",
        detail="there is no pylock.toml next to envspec.toml",
    ),
    "stale-lock": Finding(
        kind="stale-lock", path="pylock.toml", detail="requirement 'rich' was added to the spec"
    ),
    "missing-venv": Finding(kind="missing-venv", path=".venv", detail=".venv does not exist"),
    "python-mismatch": Finding(
        kind="python-mismatch", expected="==3.12.*", actual="3.11.7", detail="the spec's python"
    ),
    "missing": Finding(kind="missing", package="idna", expected="3.7"),
    "wrong-version": Finding(
        kind="wrong-version", package="urllib3", expected="2.2.1", actual="1.26.18",
        detail="installed by pip",
    ),
    "changed-source": Finding(
        kind="changed-source", package="mylib", expected="libs/mylib",
        actual="file:///work/app/libs/mylib",
        detail="the local source changed since it was installed",
    ),
    "extraneous": Finding(
        kind="extraneous", package="pysocks", actual="1.7.1", detail="installed by pip"
    ),
    "damaged": Finding(
        kind="damaged", package="certifi", path=f"{SITE}/certifi-2024.2.2.dist-info/RECORD",
        detail="its RECORD cannot be read: it does not exist",
    ),
    "modified-file": Finding(
        kind="modified-file", package="requests", path=f"{SITE}/requests/api.py",
        expected="sha256=abc", actual="sha256=def", detail="its content differs",
    ),
    "missing-file": Finding(
        kind="missing-file", package="requests", path=f"{SITE}/requests/models.py"
    ),
    "unowned-file": Finding(
        kind="unowned-file", package="requests", path=f"{SITE}/requests/patch.py"
    ),
    "modified-venv": Finding(
        kind="modified-venv", path="pyvenv.cfg", expected="false", actual="true",
        detail="include-system-site-packages changed from 'false' to 'true'",
    ),
    "changed-mode": Finding(
        kind="changed-mode", package="requests", path=f"{SITE}/requests/api.py",
        actual="0", detail="not readable (mode 0)",
    ),
    "startup-file": Finding(
        kind="startup-file", path=f"{SITE}/zzz.pth", detail="no RECORD lists it",
    ),
    "stray-bytecode": Finding(
        kind="stray-bytecode", package="requests",
        path=f"{SITE}/requests/__pycache__/evil.cpython-312.pyc",
        detail="no source next to it (evil.py)",
    ),
}


def test_the_examples_cover_every_kind() -> None:
    assert set(EXAMPLES) == set(FINDING_KINDS)


# ── compare_packages ─────────────────────────────────────────────────────────────────────────


def test_a_venv_matching_the_lock_has_no_package_drift() -> None:
    wanted = [_wanted("a", "1.0"), _wanted("b", "2.0")]
    installed = dict([_installed("a", "1.0"), _installed("b", "2.0")])
    assert compare_packages(wanted, installed) == []


def test_every_package_difference_is_reported_with_locked_and_installed_versions() -> None:
    wanted = [_wanted("missing-one", "1.0"), _wanted("old", "2.0"), _wanted("new", "1.0")]
    installed = dict(
        [
            _installed("old", "1.5", "pip"),
            _installed("new", "3.0", None),
            _installed("pysocks", "1.7.1", "pip"),
        ]
    )
    found = {(f.kind, f.package): f for f in compare_packages(wanted, installed)}
    assert set(found) == {
        ("missing", "missing-one"),
        ("wrong-version", "old"),
        ("wrong-version", "new"),
        ("extraneous", "pysocks"),
    }
    assert (found["missing", "missing-one"].expected, found["missing", "missing-one"].actual) == (
        "1.0",
        None,
    )
    old = found["wrong-version", "old"]
    assert (old.expected, old.actual, old.detail) == ("2.0", "1.5", "installed by pip")
    assert found["wrong-version", "new"].detail == "installer unknown"
    extra = found["extraneous", "pysocks"]
    assert (extra.expected, extra.actual, extra.detail) == (None, "1.7.1", "installed by pip")


def test_a_damaged_package_at_the_locked_version_is_reported_damaged() -> None:
    wanted = [_wanted("a", "1.0")]
    installed = dict([_installed("a", "1.0", damaged=True)])
    (finding,) = compare_packages(wanted, installed)
    assert (finding.kind, finding.package, finding.actual) == ("damaged", "a", "1.0")


def _directory(digest: str = "d1", *, editable: bool = False) -> Wanted:
    return Wanted(
        name=NormalizedName("mylib"),
        version=None,
        url="file:///work/app/libs/mylib",
        filename="mylib",
        sha256=None,
        kind="directory",
        editable=editable,
        direct_url="file:///work/app/libs/mylib",
        source_digest=digest,
        source_label="libs/mylib",
    )


def _installed_from(
    name: str, version: str, direct_url: str | None, **kw: Any
) -> dict[NormalizedName, Installed]:
    key = NormalizedName(name)
    return {
        key: Installed(
            name=key, version=Version(version), installer="envspec", direct_url=direct_url, **kw
        )
    }


def test_a_local_source_that_changed_since_its_install_is_a_changed_source(
    validator: jsonschema.Draft202012Validator,
) -> None:
    installed = _installed_from("mylib", "0.1", "file:///work/app/libs/mylib", source_digest="d1")
    assert compare_packages([_directory("d1")], installed) == []
    (finding,) = compare_packages([_directory("d2")], installed)
    assert (finding.kind, finding.package, finding.expected, finding.actual) == (
        "changed-source",
        "mylib",
        "libs/mylib",
        "file:///work/app/libs/mylib",
    )
    assert finding.detail == "the local source changed since it was installed"
    report = DriftReport(findings=(finding,), checked_packages=1)
    assert report.render_text() == "\n".join(
        [
            "✗ .venv drifted from pylock.toml: 1 changed source",
            "",
            "Installed from another source (or an outdated one):",
            "  mylib from libs/mylib: the local source changed since it was installed",
            "",
            "Fix: envspec sync",  # a sync reinstalls it: no --reinstall needed
        ]
    )
    document = report.to_json()
    validator.validate(document)
    assert document["findings"][0]["kind"] == "changed-source"
    assert document["fix"] == "envspec sync"


def test_a_package_from_the_wrong_source_at_the_right_version_is_a_changed_source() -> None:
    url = "https://files.test/b-2.0.tar.gz"
    from_url = Wanted(
        name=NormalizedName("b"), version=Version("2.0"), url=url, filename="b-2.0.tar.gz",
        sha256="1" * 64, kind="sdist", direct_url=url, source_label=url,
    )
    (to_url,) = compare_packages([from_url], dict([_installed("b", "2.0", "pip")]))
    assert (to_url.kind, to_url.expected, to_url.actual) == ("changed-source", url, "an index")
    assert to_url.detail == "it was installed from an index"
    (to_index,) = compare_packages([_wanted("b", "2.0")], _installed_from("b", "2.0", url))
    assert (to_index.kind, to_index.expected, to_index.actual) == ("changed-source", "an index", url)
    assert to_index.describe() == f"b from an index: it was installed from {url}"


def test_editable_mode_differences_are_changed_sources() -> None:
    source = "file:///work/app/libs/mylib"
    plain = _installed_from("mylib", "0.1", source, source_digest="d1")
    (finding,) = compare_packages([_directory(editable=True)], plain)
    assert finding.kind == "changed-source" and "editable" in (finding.detail or "")
    editable = _installed_from("mylib", "0.1", source, source_digest="d1", editable=True)
    (back,) = compare_packages([_directory()], editable)
    assert back.kind == "changed-source" and back.detail != finding.detail


def test_a_missing_directory_names_its_source_and_a_damaged_one_stays_damaged() -> None:
    (missing,) = compare_packages([_directory()], {})
    assert (missing.kind, missing.expected) == ("missing", "libs/mylib")
    assert missing.describe() == "mylib libs/mylib"
    damaged = _installed_from(
        "mylib", "0.1", "file:///elsewhere", source_digest="old", damaged=True
    )
    (finding,) = compare_packages([_directory()], damaged)
    assert finding.kind == "damaged"  # its files need rewriting whatever its source


# ── the report ───────────────────────────────────────────────────────────────────────────────


def test_a_clean_report_says_so_in_one_line_and_json_has_no_findings(
    validator: jsonschema.Draft202012Validator,
) -> None:
    report = DriftReport(checked_packages=8, checked_files=312, verified_files=True)
    assert report.is_clean() and report.fix_command() is None
    assert report.render_text() == "✓ .venv matches pylock.toml (8 packages, 312 files verified)"
    document = report.to_json()
    validator.validate(document)
    assert document["clean"] is True and document["findings"] == [] and document["fix"] is None
    assert document["checked"] == {"packages": 8, "files": 312, "files_verified": True}
    fast = DriftReport(checked_packages=1, verified_files=False, venv="env")
    assert fast.render_text() == "✓ env matches pylock.toml (1 package; files not verified)"


@pytest.mark.parametrize("kind", FINDING_KINDS)
def test_each_kind_alone_fails_renders_its_section_and_validates(
    kind: FindingKind, validator: jsonschema.Draft202012Validator
) -> None:
    finding = EXAMPLES[kind]
    report = DriftReport(findings=(finding,), checked_packages=3, verified_files=True)
    assert not report.is_clean()
    text = report.render_text()
    lines = text.splitlines()
    assert lines[0].startswith("✗ ")
    item = "  " + finding.describe()
    assert item in lines
    heading = lines[lines.index(item) - 1]
    assert heading.endswith(":") and not heading.startswith(" ")
    for value in (finding.package, finding.path if kind.endswith("-file") else None):
        if value:
            assert value in item  # the item names what it is about
    if kind.endswith("-lock"):
        expected_fix = "envspec lock"
    elif kind.endswith("-file") or kind in ("damaged", "changed-mode", "stray-bytecode"):
        expected_fix = "envspec sync --reinstall"  # the versions are right: files need rewriting
    else:
        expected_fix = "envspec sync"
    assert lines[-1] == f"Fix: {expected_fix}"
    document = report.to_json()
    validator.validate(document)
    assert document["findings"] == [
        {
            "kind": kind,
            "package": finding.package,
            "expected": finding.expected,
            "actual": finding.actual,
            "path": finding.path,
            "detail": finding.detail,
        }
    ]
    assert document["fix"] == expected_fix and document["clean"] is False


def test_the_verdict_counts_venv_drift_and_sections_follow_check_order() -> None:
    report = DriftReport(
        findings=(
            Finding(kind="modified-file", package="b", path=f"{SITE}/b/x.py"),
            Finding(kind="modified-file", package="a", path=f"{SITE}/a/y.py"),
            EXAMPLES["extraneous"],
        ),
        checked_packages=3,
        checked_files=40,
        verified_files=True,
    )
    text = report.render_text()
    assert text == "\n".join(
        [
            "✗ .venv drifted from pylock.toml: 1 extraneous, 2 modified files",
            "",
            "Extraneous packages (not in the lock):",
            "  pysocks 1.7.1 (installed by pip)",
            "",
            "Modified files:",
            f"  {SITE}/a/y.py (a)",
            f"  {SITE}/b/x.py (b)",
            "",
            "Fix: envspec sync --reinstall",
        ]
    )


def test_lock_and_venv_problems_together_name_both_and_sync_fixes_them() -> None:
    report = DriftReport(
        findings=(EXAMPLES["missing"], EXAMPLES["stale-lock"], EXAMPLES["python-mismatch"]),
        venv="env",
        lock="pylock.toml",
    )
    assert report.verdict() == (
        "✗ pylock.toml is stale for the spec; env drifted from pylock.toml: wrong Python, 1 missing"
    )
    assert [f.kind for f in report.findings] == ["stale-lock", "python-mismatch", "missing"]
    assert report.fix_command() == "envspec sync"
    assert DriftReport(findings=(EXAMPLES["missing-lock"],)).verdict() == (
        "✗ pylock.toml does not exist"
    )
    assert DriftReport(findings=(EXAMPLES["missing-venv"],)).verdict() == "✗ .venv does not exist"


def test_findings_are_sorted_and_duplicates_collapse_to_the_most_specific() -> None:
    vague = compare_packages(
        [_wanted("certifi", "2024.2.2")], dict([_installed("certifi", "2024.2.2", damaged=True)])
    )
    report = DriftReport(
        findings=(*vague, EXAMPLES["damaged"], EXAMPLES["missing"], EXAMPLES["missing"])
    )
    assert report.findings == (EXAMPLES["missing"], EXAMPLES["damaged"])
    assert report.counts() == {"missing": 1, "damaged": 1}


def test_json_round_trips_through_text_and_the_schema_rejects_inconsistent_documents(
    validator: jsonschema.Draft202012Validator,
) -> None:
    report = DriftReport(findings=tuple(EXAMPLES.values()), checked_packages=5)
    document: dict[str, Any] = json.loads(json.dumps(report.to_json()))
    validator.validate(document)
    assert [f["kind"] for f in document["findings"]] == list(FINDING_KINDS)
    missing = next(f for f in document["findings"] if f["kind"] == "missing")
    broken = [
        {**document, "clean": True},  # clean with findings
        {**document, "fix": None},  # drift without a fix
        {**document, "findings": [{**document["findings"][0], "kind": "bogus"}]},
        {**document, "findings": [_without(missing, "path")]},
        # a missing package that names no package
        {**document, "findings": [{**missing, "package": None}]},
        {**document, "version": 2},
    ]
    for bad in broken:
        assert not validator.is_valid(bad), bad


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}
