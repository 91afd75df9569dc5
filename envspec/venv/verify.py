"""Verify a venv's installed files against their RECORDs: the file scan behind ``envspec check``.

A venv can match the lock package by package and still not be what the lock describes: someone
patched a file in site-packages to debug, an editor saved over an installed module, a clean-up
script deleted a data file, a tool dropped a stray module into a package. Every wheel installer
writes a RECORD listing each file it installed with its size and sha256, so comparing the files
with their RECORDs finds all of that. This module does the comparison and reports
:class:`envspec.drift.Finding` values; deciding what they mean and printing them is
``envspec.drift``'s job.

Speed is a feature here (a full check of a 45-package, ~7600-file venv must take well under a
second): a file whose size differs is reported without reading it, small files are read whole and
hashed in one call, large ones are streamed through :func:`hashlib.file_digest`, and the work runs
in a thread pool (``hashlib`` and file reads release the GIL). Nothing that RECORD lists is
skipped; entries without a hash (RECORD itself, generated scripts in some installers) are checked
for presence (and size, when RECORD gives one), and bytecode that RECORD lists without a hash is
not reported when absent, because Python writes it again on the next import.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from envspec.drift import Finding
from envspec.venv.confine import Confinement
from envspec.venv.create import pyvenv_version
from envspec.venv.installed import dist_info_dirs, project_name
from envspec.venv.layout import VenvLayout, default_python, read_pyvenv_cfg
from envspec.venv.record import RecordEntry, RecordUnreadable, encode_digest, read_record

__all__ = ["FileVerification", "venv_python_findings", "verify_files"]

_WHOLE_READ_LIMIT = 1 << 20
"""Files up to this size are read in one call; larger ones are streamed (bounded memory)."""
_BATCH = 128
"""Files per task given to the pool: enough to amortise a task's overhead over small files."""
_BYTECODE_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True, slots=True, kw_only=True)
class FileVerification:
    """What :func:`verify_files` found and how much it looked at."""

    findings: tuple[Finding, ...]
    checked_packages: int
    """Distributions whose RECORD was read (the names given that are installed)."""
    checked_files: int
    """RECORD entries verified."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    """One RECORD entry to verify, at its absolute normalised location."""

    location: str
    entry: RecordEntry
    package: NormalizedName


def verify_files(
    layout: VenvLayout, names: Iterable[NormalizedName], *, workers: int | None = None
) -> FileVerification:
    """Check every file the RECORDs of the distributions ``names`` list, then look for files no
    RECORD owns inside their package directories.

    Findings (paths relative to the venv root, ``/``-separated):

    - ``damaged``: the distribution's RECORD is missing or unreadable (``path`` the RECORD);
    - ``missing-file``: an entry's file is not there;
    - ``modified-file``: its size (``expected``/``actual`` in bytes) or sha256 (``sha256=...``, as
      RECORD writes it) differs, or something other than a file is there;
    - ``unowned-file``: a file inside a *package directory* (a top-level directory of
      site-packages holding files of one of ``names``, its dist-info aside) that no RECORD of any
      distribution in the venv lists; bytecode and ``__pycache__`` are ignored.

    A name that is not installed is skipped (the package comparison reports it missing). Every
    distribution in the venv counts as an owner, so a namespace package shared with a
    distribution not in ``names`` raises no false alarm. Reads only; never writes.
    """
    wanted = set(names)
    by_name: dict[NormalizedName, list[Path]] = {}
    for dist_info in dist_info_dirs(layout):
        project = project_name(dist_info)
        if project is not None:
            by_name.setdefault(project, []).append(dist_info)

    root = str(layout.root)
    findings: list[Finding] = []
    jobs: list[_Job] = []
    owned: set[str] = set()
    package_dirs: dict[str, set[NormalizedName]] = {}
    site_packages = [str(path) for path in layout.site_packages]
    unreadable: list[NormalizedName] = []
    checked_packages = 0
    confinement = Confinement(layout)
    for project, dist_infos in sorted(by_name.items()):
        verify = project in wanted
        if verify:
            checked_packages += 1
        for dist_info in dist_infos:
            try:
                entries = read_record(dist_info)
            except RecordUnreadable as error:
                unreadable.append(project)
                if verify:
                    findings.append(
                        Finding(
                            kind="damaged",
                            package=project,
                            path=_relative(str(error.path), root),
                            detail=f"its RECORD cannot be read: {error.reason}",
                        )
                    )
                continue
            base = str(dist_info.parent)
            own_dir = str(dist_info)
            for entry in entries:
                location = os.path.normpath(os.path.join(base, entry.path))
                if not confinement.inside_venv(location, follow_last=True):
                    if verify:  # never followed: a check reads nothing outside the venv
                        findings.append(_outside(project, entry, location, root))
                    continue
                owned.add(os.path.normcase(location))
                if not verify:
                    continue
                jobs.append(_Job(location=location, entry=entry, package=project))
                top = _package_dir(location, site_packages)
                if top is not None and top != own_dir:
                    package_dirs.setdefault(top, set()).add(project)

    # the pool hashes while this thread walks the package directories
    batches = [jobs[start : start + _BATCH] for start in range(0, len(jobs), _BATCH)]
    count = min(workers or min(8, os.cpu_count() or 1), max(1, len(batches)))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="envspec-verify") as pool:
        checked = [pool.submit(_check_batch, batch, root) for batch in batches]
        unowned = _unowned(package_dirs, owned, root, unreadable, site_packages)
        for future in checked:
            findings.extend(future.result())
    findings.extend(unowned)
    return FileVerification(
        findings=tuple(findings), checked_packages=checked_packages, checked_files=len(jobs)
    )


def venv_python_findings(
    root: Path, *, spec_python: SpecifierSet, lock_python: Version | None = None
) -> list[Finding]:
    """Step 2 of the check, from ``pyvenv.cfg`` alone (no interpreter is run).

    ``missing-venv`` when ``root`` is not a venv or its interpreter is gone; ``python-mismatch``
    when the venv's Python does not satisfy ``spec_python``, or is not the ``major.minor`` the lock
    was made for (``lock_python``, from ``[tool.envspec.target] python-version``).
    """
    shown = str(root)
    if not root.is_dir():
        return [Finding(kind="missing-venv", path=shown, detail=f"{shown} does not exist")]
    from envspec.venv.create import CREATING_MARKER

    if (root / CREATING_MARKER).exists():
        return [
            Finding(
                kind="missing-venv",
                path=shown,
                detail=f"the creation of {shown} was interrupted",
            )
        ]
    config = read_pyvenv_cfg(root)
    if config is None:
        return [
            Finding(
                kind="missing-venv",
                path=shown,
                detail=f"{shown} has no pyvenv.cfg: it is not a virtual environment",
            )
        ]
    python = default_python(root, windows=os.name == "nt")
    if not python.exists():  # follows the link: a removed base interpreter counts
        return [
            Finding(
                kind="missing-venv",
                path=shown,
                detail=f"its interpreter {_relative(str(python), str(root))} is missing or broken",
            )
        ]
    version = pyvenv_version(config)
    if version is None:
        return [
            Finding(
                kind="python-mismatch",
                expected=str(spec_python) or None,
                detail="its pyvenv.cfg names no Python version",
            )
        ]
    findings = []
    if not spec_python.contains(version, prereleases=True):
        findings.append(
            Finding(
                kind="python-mismatch",
                expected=str(spec_python),
                actual=str(version),
                detail="the spec's python",
            )
        )
    if lock_python is not None and version.release[:2] != lock_python.release[:2]:
        wanted = ".".join(str(part) for part in lock_python.release[:2])
        findings.append(
            Finding(
                kind="python-mismatch",
                expected=wanted,
                actual=str(version),
                detail=f"the lock was made for Python {wanted}",
            )
        )
    return findings


# ── checking RECORD entries ─────────────────────────────────────────────────────────────────


def _check_batch(jobs: Sequence[_Job], root: str) -> list[Finding]:
    findings = []
    for job in jobs:
        finding = _check_one(job, root)
        if finding is not None:
            findings.append(finding)
    return findings


def _check_one(job: _Job, root: str) -> Finding | None:
    entry, location = job.entry, job.location

    def found(
        kind: Literal["missing-file", "modified-file"],
        expected: str | None,
        actual: str | None,
        detail: str,
    ) -> Finding:
        return Finding(
            kind=kind,
            package=job.package,
            path=_relative(location, root),
            expected=expected,
            actual=actual,
            detail=detail,
        )

    try:
        if entry.sha256 is None:
            info = os.stat(location)
            size = info.st_size
            digest = None
        else:
            with open(location, "rb") as handle:
                info = os.fstat(handle.fileno())
                size = info.st_size
                if entry.size is not None and size != entry.size:
                    digest = None  # differs already: no need to read it
                elif size <= _WHOLE_READ_LIMIT:
                    digest = hashlib.sha256(handle.read()).digest()
                else:
                    digest = hashlib.file_digest(handle, "sha256").digest()
    except (FileNotFoundError, NotADirectoryError):
        if entry.sha256 is None and location.endswith(_BYTECODE_SUFFIXES):
            return None  # generated: the next import writes it again
        return found("missing-file", None, None, "listed in RECORD, not there")
    except IsADirectoryError:
        return found("modified-file", None, None, "a directory where RECORD lists a file")
    except OSError as error:
        return found("modified-file", None, None, f"cannot be read ({error.strerror or error})")
    if not info.st_mode & 0o400:  # root reads it anyway; its owner, and Python, cannot
        return Finding(
            kind="changed-mode",
            package=job.package,
            path=_relative(location, root),
            expected=None,
            actual=f"{stat.S_IMODE(info.st_mode):o}",
            detail=f"not readable (mode {stat.S_IMODE(info.st_mode):o})",
        )
    if entry.size is not None and size != entry.size:
        return found(
            "modified-file",
            str(entry.size),
            str(size),
            f"{size} bytes, RECORD says {entry.size}",
        )
    if entry.sha256 is not None and digest is not None:
        actual = encode_digest(digest)
        if actual != entry.sha256.rstrip("="):
            return found(
                "modified-file",
                f"sha256={entry.sha256}",
                f"sha256={actual}",
                "its content differs from RECORD's sha256",
            )
    return None


def _outside(project: NormalizedName, entry: RecordEntry, location: str, root: str) -> Finding:
    """A RECORD path that leads out of the venv, as written or through a symbolic link."""
    return Finding(
        kind="modified-file",
        package=project,
        path=_relative(location, root),
        detail=f"RECORD lists {entry.path!r}, which leads outside the venv: not followed",
    )


# ── files no RECORD owns ────────────────────────────────────────────────────────────────────


def _package_dir(location: str, site_packages: Sequence[str]) -> str | None:
    """The top-level directory of site-packages that holds ``location``; None for a file directly
    in site-packages or outside it."""
    for directory in site_packages:
        prefix = directory + os.sep
        if location.startswith(prefix):
            top, sep, _ = location[len(prefix) :].partition(os.sep)
            if not sep or top == "__pycache__" or top.endswith((".dist-info", ".data")):
                return None
            return prefix + top
    return None


def _walk_files(top: str) -> Iterator[str]:
    """Every file under ``top``, bytecode in ``__pycache__`` aside (judged by
    :func:`_bytecode_findings`); symlinks are listed, never followed."""
    for directory, subdirs, files in os.walk(top):
        for name in subdirs:
            if os.path.islink(os.path.join(directory, name)):
                yield os.path.join(directory, name)  # a link to a directory: not walked into
        subdirs[:] = [
            d for d in subdirs if not os.path.islink(os.path.join(directory, d))
        ]
        in_cache = os.path.basename(directory) == "__pycache__"
        for name in files:
            if in_cache and name.endswith(_BYTECODE_SUFFIXES):
                continue
            yield os.path.join(directory, name)


_STARTUP_STEMS = ("sitecustomize", "usercustomize")
_VENV_TOOL_FILES = frozenset({"_virtualenv.py", "_virtualenv.pth"})
"""What virtualenv and uv put into every venv they make (pyvenv.cfg then names the tool)."""


def _is_startup(name: str) -> bool:
    """Whether site.py runs ``name`` (an entry directly in site-packages) at every start: a .pth
    file (its ``import`` lines are executed), or the sitecustomize/usercustomize module."""
    return name.endswith(".pth") or name.partition(".")[0] in _STARTUP_STEMS


def _unowned(
    package_dirs: dict[str, set[NormalizedName]],
    owned: set[str],
    root: str,
    unreadable: Sequence[NormalizedName],
    site_packages: Sequence[str] = (),
) -> list[Finding]:
    """What no RECORD owns: files in the package directories (``unowned-file``), entries directly
    in site-packages (``unowned-file``; ``startup-file`` for what Python runs at start), and
    bytecode that does not match its source (``stray-bytecode``). When some distribution's RECORD
    cannot be read, such a file may be one of its own: the detail says so."""
    because = "no RECORD lists it"
    if unreadable:
        suspects = ", ".join(sorted(set(unreadable)))
        because += f" (it may belong to {suspects}, whose RECORD cannot be read)"
    findings = []
    for top, owners in sorted(package_dirs.items()):
        names = sorted(owners)
        shared = len(names) > 1
        where = f"; in {os.path.basename(top)}/, shared by {', '.join(names)}" if shared else ""
        package = None if shared else names[0]
        for location in _walk_files(top):
            if os.path.normcase(location) in owned:
                continue
            if location.endswith(_BYTECODE_SUFFIXES):
                detail = "bytecode no RECORD lists, outside __pycache__: Python imports it"
                findings.append(
                    Finding(
                        kind="stray-bytecode",
                        package=package,
                        path=_relative(location, root),
                        detail=detail + where,
                    )
                )
                continue
            findings.append(
                Finding(
                    kind="unowned-file",
                    package=package,
                    path=_relative(location, root),
                    detail=because + where,
                )
            )
        findings.extend(_bytecode_findings(top, owned, root, package))
    findings.extend(_top_level_findings(site_packages, owned, root, because))
    return findings


def _top_level_findings(
    site_packages: Sequence[str], owned: set[str], root: str, because: str
) -> list[Finding]:
    """Entries directly in site-packages that no RECORD owns (a module or package dropped in by
    hand, a .pth file), and stray bytecode in its own ``__pycache__``."""
    owned_tops: set[str] = set()
    for directory in site_packages:
        prefix = os.path.normcase(directory + os.sep)
        for location in owned:
            if location.startswith(prefix):
                owned_tops.add(prefix + location[len(prefix) :].split(os.sep, 1)[0])
    config = read_pyvenv_cfg(Path(root)) or {}
    tool_made = "virtualenv" in config or "uv" in config
    findings: list[Finding] = []
    for directory in dict.fromkeys(site_packages):
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name == "__pycache__" and entry.is_dir(follow_symlinks=False):
                findings.extend(_bytecode_findings(entry.path, owned, root, None, walk=False))
                continue
            if name.endswith(".dist-info") and entry.is_dir(follow_symlinks=False):
                continue  # a distribution: the package comparison judges it
            if os.path.normcase(entry.path) in owned_tops:
                continue
            if tool_made and name in _VENV_TOOL_FILES:
                continue
            path = _relative(entry.path, root)
            if _is_startup(name):
                findings.append(
                    Finding(
                        kind="startup-file",
                        path=path,
                        detail=because + "; Python runs it at every start",
                    )
                )
            elif name.endswith(_BYTECODE_SUFFIXES):
                findings.append(
                    Finding(
                        kind="stray-bytecode",
                        path=path,
                        detail="bytecode no RECORD lists: Python imports it without a source",
                    )
                )
            else:
                what = "a directory " if entry.is_dir(follow_symlinks=False) else ""
                findings.append(
                    Finding(kind="unowned-file", path=path, detail=what + because)
                )
    return findings


def _bytecode_findings(
    top: str, owned: set[str], root: str, package: str | None, *, walk: bool = True
) -> list[Finding]:
    """``stray-bytecode`` for each ``.pyc`` in the ``__pycache__`` directories under ``top``
    (or in ``top`` itself, a ``__pycache__``, when not ``walk``) that Python would not have
    written for the source next to it."""
    caches: list[str] = []
    if walk:
        for directory, subdirs, _files in os.walk(top):
            if "__pycache__" in subdirs and not os.path.islink(
                os.path.join(directory, "__pycache__")
            ):
                caches.append(os.path.join(directory, "__pycache__"))
            subdirs[:] = [
                d for d in subdirs
                if d != "__pycache__" and not os.path.islink(os.path.join(directory, d))
            ]
    else:
        caches.append(top)
    findings = []
    for cache in caches:
        try:
            names = sorted(
                entry.name
                for entry in os.scandir(cache)
                if entry.name.endswith(_BYTECODE_SUFFIXES) and entry.is_file(follow_symlinks=False)
            )
        except OSError:
            continue
        for name in names:
            location = os.path.join(cache, name)
            problem = _pyc_problem(location, os.path.dirname(cache), name)
            if problem is not None:
                findings.append(
                    Finding(
                        kind="stray-bytecode",
                        package=package,
                        path=_relative(location, root),
                        detail=problem,
                    )
                )
    return findings


def _pyc_problem(location: str, source_dir: str, name: str) -> str | None:
    """Why Python would not have written the bytecode file ``location`` for its source, or
    would run it without checking that source; None when it is what an import leaves.

    The header (PEP 552) says what the bytecode was compiled from: the source's time and size,
    or its hash. A timestamp that does not match the source is stale, or planted; a hash-based
    file without the check-source flag is run blindly whatever the source says."""
    stem = name.split(".", 1)[0]
    source = os.path.join(source_dir, stem + ".py")
    try:
        info = os.stat(source)
    except OSError:
        return "no source next to it (" + stem + ".py)"
    try:
        with open(location, "rb") as handle:
            header = handle.read(16)
    except OSError as error:
        return f"it cannot be read ({error.strerror or error})"
    if len(header) < 16:
        return "its header is truncated"
    flags = int.from_bytes(header[4:8], "little")
    if flags & 0b1:  # hash-based
        if not flags & 0b10:
            return "hash-based bytecode that Python runs without checking its source"
        import importlib.util

        if header[:4] != importlib.util.MAGIC_NUMBER:
            return None  # another Python's hash: that Python checks it itself
        try:
            with open(source, "rb") as handle:
                digest = importlib.util.source_hash(handle.read())
        except OSError:
            return None
        if digest != header[8:16]:
            return "its source hash does not match the source"
        return None
    mtime = int.from_bytes(header[8:12], "little")
    size = int.from_bytes(header[12:16], "little")
    if mtime != int(info.st_mtime) & 0xFFFFFFFF or size != info.st_size & 0xFFFFFFFF:
        return "its header does not match the source's time and size (stale or planted)"
    return None


def _relative(location: str, root: str) -> str:
    """``location`` relative to the venv root with ``/`` separators; absolute when outside."""
    prefix = root + os.sep
    if location.startswith(prefix):
        location = location[len(prefix) :]
    return location.replace(os.sep, "/")
