"""File eligibility (envspec.resolve.select): what the lock records, what the target installs."""

from __future__ import annotations

from datetime import UTC, datetime

from packaging.utils import canonicalize_name
from packaging.version import Version

from envspec.resolve.select import FileSelector
from envspec.values.files import FileInfo
from envspec.spec.model import ResolutionOptions
from tests.support.memory_source import make_target

NAME = canonicalize_name("pkg")
V1 = Version("1.0")
JAN = datetime(2024, 1, 1, tzinfo=UTC)
JUN = datetime(2024, 6, 1, tzinfo=UTC)


def _file(filename: str, **fields: object) -> FileInfo:
    return FileInfo(
        filename=filename,
        url=f"https://example.test/files/{filename}",
        index_url="https://example.test/simple",
        upload_time=fields.pop("upload_time", JAN),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


WHEEL_ANY = _file("pkg-1.0-py3-none-any.whl")
WHEEL_LINUX = _file("pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
WHEEL_WIN = _file("pkg-1.0-cp311-cp311-win_amd64.whl")
SDIST = _file("pkg-1.0.tar.gz")


def _selector(platform: str = "linux", **options: object) -> FileSelector:
    return FileSelector(
        target=make_target("3.11.7", platform),  # type: ignore[arg-type]
        options=ResolutionOptions(**options),  # type: ignore[arg-type]
    )


def test_lock_keeps_every_platform_and_installs_the_best_wheel() -> None:
    verdict = _selector().select_version(
        NAME, V1, [SDIST, WHEEL_WIN, WHEEL_ANY, WHEEL_LINUX], pinned=False
    )
    assert [f.filename for f in verdict.files] == sorted(
        f.filename for f in (SDIST, WHEEL_WIN, WHEEL_ANY, WHEEL_LINUX)
    )
    assert verdict.best_file == WHEEL_LINUX  # the platform wheel outranks the pure one
    assert verdict.rejection is None


def test_sdist_is_the_fallback_and_only_binary_drops_it() -> None:
    assert _selector().select_version(NAME, V1, [WHEEL_WIN, SDIST], pinned=False).best_file == SDIST
    strict = _selector(only_binary=frozenset({":all:"})).select_version(
        NAME, V1, [WHEEL_WIN, SDIST], pinned=False
    )
    assert strict.best_file is None
    assert SDIST not in strict.files
    assert strict.rejection == "no wheel for this platform"


def test_yanked_only_when_pinned() -> None:
    yanked = _file("pkg-1.0-py3-none-any.whl", yanked=True, yanked_reason="bad")
    selector = _selector()
    loose = selector.select_version(NAME, V1, [yanked], pinned=False)
    assert loose.rejection == "yanked: bad" and loose.files == ()
    assert selector.select_version(NAME, V1, [yanked], pinned=True).best_file == yanked


def test_exclude_newer_drops_late_files_and_files_without_upload_time() -> None:
    selector = _selector(exclude_newer=datetime(2024, 3, 1, tzinfo=UTC))
    late = _file("pkg-1.0-py3-none-any.whl", upload_time=JUN)
    unknown = _file("pkg-1.0.tar.gz", upload_time=None)
    assert selector.check_exclude_newer(WHEEL_ANY) is None
    assert selector.check_exclude_newer(late) == "uploaded after exclude-newer"
    assert selector.check_exclude_newer(unknown) is not None
    assert _selector().check_exclude_newer(unknown) is None  # no cutoff, no check


def test_requires_python_of_the_file_is_checked_against_the_target() -> None:
    needs_312 = _file("pkg-1.0-py3-none-any.whl", requires_python=">=3.12")
    verdict = _selector().select_version(NAME, V1, [needs_312], pinned=False)
    assert verdict.rejection == "requires Python >=3.12, but the target is Python 3.11.7"
    assert verdict.files == (needs_312,)  # still lockable: another target may install it


def test_windows_only_wheel_is_rejected_on_linux_accepted_on_windows() -> None:
    linux = _selector().select_version(NAME, V1, [WHEEL_WIN], pinned=False)
    assert linux.rejection == "no wheel for this platform"
    windows = _selector("windows").select_version(NAME, V1, [WHEEL_WIN], pinned=False)
    assert windows.best_file == WHEEL_WIN
