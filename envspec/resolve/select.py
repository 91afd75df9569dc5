"""Which files of a version the lock may record, and which of them the target can install.

Two questions, asked per file, with a short human reason for every "no" (the conflict explanation
quotes them):

* *May the lock record this file?* Not if it was uploaded after ``exclude-newer`` (a file whose index
  gives no upload time is excluded too whenever ``exclude-newer`` is set: it cannot be shown to be
  old enough), not if it is yanked unless the version is pinned with ``==``/``===`` (PEP 592), and not
  an sdist when the project must be installed from a binary (``only-binary``). Wheels for *every*
  platform stay: one lock serves every machine.
* *Can the target install it?* Its index Requires-Python must admit the target interpreter, and a
  wheel must carry a tag the target supports (an sdist always can, when allowed).

A version is a candidate only when at least one of its files passes both; its metadata is read from
the best of those (the best-ranked wheel, else the sdist). Modelled on unearth's ``Evaluator``: each
rule is one ``check_*`` method returning the reason it fails, or None.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from envspec.values.files import FileInfo
from envspec.spec.model import ResolutionOptions
from envspec.values.target import Target

__all__ = ["FileSelector", "VersionFiles"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionFiles:
    """The verdict on one version of a project."""

    version: Version
    files: tuple[FileInfo, ...]
    """Files the lock may record, sorted by filename (all platforms)."""
    best_file: FileInfo | None
    """The file the target would install (and reads metadata from); None if there is none."""
    rejection: str | None
    """Why this version is not a candidate (None when it is)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSelector:
    target: Target
    options: ResolutionOptions

    # -- may the lock record it? ------------------------------------------------------------
    def check_exclude_newer(self, file: FileInfo) -> str | None:
        """Files uploaded after ``exclude-newer`` are out. So is a file the index gives no upload
        time for, whenever ``exclude-newer`` is set: it cannot be shown to be old enough, and
        letting it in would make the resolution depend on when it ran."""
        cutoff = self.options.exclude_newer
        if cutoff is None:
            return None
        if file.upload_time is None:
            return "no upload time, so it cannot be checked against exclude-newer"
        if file.upload_time > cutoff:
            return "uploaded after exclude-newer"
        return None

    def check_yanked(self, file: FileInfo, *, pinned: bool) -> str | None:
        if not file.yanked or pinned:
            return None
        return f"yanked: {file.yanked_reason}" if file.yanked_reason else "yanked"

    def check_binary(self, name: NormalizedName, file: FileInfo) -> str | None:
        if file.kind == "sdist" and self.options.requires_binary(name):
            return "only an sdist, but only-binary is set"
        if file.kind == "other":
            return "not a wheel or an sdist"
        return None

    def lock_rejection(self, name: NormalizedName, file: FileInfo, *, pinned: bool) -> str | None:
        return (
            self.check_yanked(file, pinned=pinned)
            or self.check_exclude_newer(file)
            or self.check_binary(name, file)
        )

    # -- can the target install it? ---------------------------------------------------------
    def check_requires_python(self, file: FileInfo) -> str | None:
        if not file.requires_python:
            return None
        try:
            if self.target.allows_python(file.requires_python):
                return None
        except InvalidSpecifier:
            return None  # an index typo must not hide a file; the metadata is checked later
        return (
            f"requires Python {SpecifierSet(file.requires_python)}, "
            f"but the target is Python {self.target.python_version}"
        )

    def check_platform(self, file: FileInfo) -> str | None:
        if file.kind == "wheel" and self.target.wheel_rank(file.filename) is None:
            return "no wheel for this platform"
        return None

    def check_wheel_required(self, file: FileInfo) -> str | None:
        if file.kind == "sdist" and self.options.wheels_required:
            return "only an sdist, and required-environments asks for a wheel here"
        return None

    def install_rejection(self, file: FileInfo) -> str | None:
        return (
            self.check_requires_python(file)
            or self.check_platform(file)
            or self.check_wheel_required(file)
        )

    # -- the version as a whole ---------------------------------------------------------------
    def select_version(
        self,
        name: NormalizedName,
        version: Version,
        files: Iterable[FileInfo],
        *,
        pinned: bool,
    ) -> VersionFiles:
        """Sort a version's files into lockable / installable, and say why it is not a candidate."""
        lockable: list[FileInfo] = []
        lock_reasons: list[str] = []
        for file in sorted(files, key=lambda f: f.filename):
            reason = self.lock_rejection(name, file, pinned=pinned)
            if reason is None:
                lockable.append(file)
            else:
                lock_reasons.append(reason)
        wheels: list[tuple[int, FileInfo]] = []
        sdist: FileInfo | None = None
        install_reasons: list[str] = []
        for file in lockable:
            reason = self.install_rejection(file)
            if reason is not None:
                install_reasons.append(reason)
            elif file.kind == "wheel":
                rank = self.target.wheel_rank(file.filename)
                assert rank is not None
                wheels.append((rank, file))
            elif sdist is None:
                sdist = file
        best = min(wheels, key=lambda pair: (pair[0], pair[1].filename))[1] if wheels else sdist
        rejection: str | None = None
        if best is None:
            rejection = _main_reason(install_reasons or lock_reasons) or "no files"
        return VersionFiles(
            version=version, files=tuple(lockable), best_file=best, rejection=rejection
        )


def _main_reason(reasons: list[str]) -> str | None:
    """The reason to show for a version: a Requires-Python mismatch outranks a platform miss."""
    for reason in reasons:
        if reason.startswith("requires Python"):
            return reason
    return reasons[0] if reasons else None
