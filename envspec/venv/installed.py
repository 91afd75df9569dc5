"""The one way envspec reads what a venv holds: its ``*.dist-info`` directories.

Reading the files directly (not by running the venv's python with ``importlib.metadata``) keeps a
sync from spawning an interpreter and works for any target Python. What matters for the reconciler
is each distribution's name, version, who installed it, and whether it can be trusted: a
distribution without a readable RECORD, or without METADATA, cannot be uninstalled or verified
reliably, so it is reported ``damaged`` and the planner reinstalls (or removes) it. envspec's own
installs and uninstalls are ordered so that an interrupted one always leaves exactly that mark (see
``envspec.venv.apply``). RECORD itself is parsed by ``envspec.venv.record``, the dist-info files
envspec adds by ``envspec.venv.dist_info``, the journal by ``envspec.venv.journal``.

Where a distribution came from matters too once packages can be installed from a URL or a local
directory: PEP 610's ``direct_url.json`` says so (its URL, whether editable), and envspec's own
``ENVSPEC_SOURCE`` holds the digest of the local source it was built from. Both are read only when
the distribution's RECORD (read anyway, to know it is intact) lists them: no file is opened that
does not exist, which keeps this hot path of every sync as cheap as it was.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from packaging.metadata import parse_email
from packaging.utils import InvalidName, NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from envspec.plan import Installed
from envspec.venv.dist_info import (
    DIRECT_URL_FILE,
    SOURCE_DIGEST_FILE,
    read_direct_url,
    read_installer,
    read_source_digest,
)
from envspec.venv.journal import journal_names
from envspec.venv.layout import VenvLayout
from envspec.venv.record import RecordEntry, RecordUnreadable, read_record
from envspec.venv.state import site_packages_fingerprint

__all__ = [
    "UNKNOWN_VERSION",
    "dist_info_dirs",
    "dist_info_fingerprint",
    "find_dist_info",
    "find_dist_infos",
    "project_name",
    "read_installed",
]

UNKNOWN_VERSION = Version("0")
"""The version reported for a distribution whose METADATA and directory name both lack one; it is
also marked damaged, so the planner replaces it whatever the lock says."""

_DIST_INFO = ".dist-info"


def read_installed(layout: VenvLayout) -> dict[NormalizedName, Installed]:
    """Every distribution in purelib and platlib, by normalised name.

    Two dist-info directories of one project (a broken venv) are reported as one damaged
    distribution, so a sync replaces both with the locked one. A project whose install was
    interrupted before its dist-info appeared (a leftover install journal) is reported damaged with
    version :data:`UNKNOWN_VERSION`, so the plan is never empty while its stray files remain.
    """
    found: dict[NormalizedName, Installed] = {}
    for dist_info in dist_info_dirs(layout):
        installed = _read_dist_info(dist_info)
        if installed is None:
            continue
        if installed.name in found:
            installed = dataclasses.replace(installed, damaged=True)
        found[installed.name] = installed
    for name in journal_names(layout):
        if name not in found:
            found[name] = Installed(name=name, version=UNKNOWN_VERSION, damaged=True)
    return dict(sorted(found.items()))


def find_dist_infos(layout: VenvLayout, name: str) -> list[Path]:
    """Every dist-info directory of project ``name`` (any spelling), sorted."""
    wanted = canonicalize_name(name)
    return [d for d in dist_info_dirs(layout) if project_name(d) == wanted]


def find_dist_info(layout: VenvLayout, name: str) -> Path | None:
    """The dist-info directory of project ``name``, None when it is not installed."""
    matches = find_dist_infos(layout, name)
    return matches[0] if matches else None


def dist_info_fingerprint(layout: VenvLayout) -> str:
    """See :func:`envspec.venv.state.site_packages_fingerprint` (kept there, light to import,
    for the no-op sync)."""
    return site_packages_fingerprint(layout.site_packages)


def dist_info_dirs(layout: VenvLayout) -> list[Path]:
    dirs: list[Path] = []
    for site_packages in layout.site_packages:
        try:
            with os.scandir(site_packages) as entries:
                dirs.extend(
                    Path(entry.path)
                    for entry in entries
                    if entry.name.endswith(_DIST_INFO) and entry.is_dir()
                )
        except FileNotFoundError:
            continue
    return sorted(dirs)


def _split_dir_name(dist_info: Path) -> tuple[str, str]:
    stem = dist_info.name[: -len(_DIST_INFO)]
    name, _, version = stem.partition("-")
    return name, version


def _metadata_fields(dist_info: Path) -> tuple[str | None, str | None] | None:
    """(name, version) from METADATA; None when METADATA is missing or unreadable."""
    try:
        data = (dist_info / "METADATA").read_bytes()
    except OSError:
        return None
    raw, _ = parse_email(data)
    return raw.get("name"), raw.get("version")


def project_name(dist_info: Path) -> NormalizedName | None:
    """The name read_installed reports: METADATA's Name, else the directory's."""
    fields = _metadata_fields(dist_info)
    for candidate in (fields[0] if fields else None, _split_dir_name(dist_info)[0]):
        if candidate:
            try:
                return canonicalize_name(candidate, validate=True)
            except InvalidName:
                continue
    return None


def _read_dist_info(dist_info: Path) -> Installed | None:
    fields = _metadata_fields(dist_info)
    damaged = fields is None
    raw_name, raw_version = fields if fields is not None else (None, None)
    dir_name, dir_version = _split_dir_name(dist_info)
    name: NormalizedName | None = None
    for candidate in (raw_name, dir_name):
        if candidate:
            try:
                name = canonicalize_name(candidate, validate=True)
                break
            except InvalidName:
                damaged = True
    if name is None:
        return None  # not a distribution envspec can name, so not one it can manage
    version: Version | None = None
    for candidate in (raw_version, dir_version):
        if candidate:
            try:
                version = Version(candidate)
                break
            except InvalidVersion:
                damaged = True
    if version is None:
        version, damaged = UNKNOWN_VERSION, True
    listed: set[str] = set()
    try:
        entries = read_record(dist_info)
    except RecordUnreadable:
        damaged = True  # reinstalled whatever its source: not worth reading
    else:
        listed = _listed_source_files(dist_info.name, entries)
    direct_url, editable = (
        read_direct_url(dist_info / DIRECT_URL_FILE)
        if DIRECT_URL_FILE in listed
        else (None, False)
    )
    source_digest = (
        read_source_digest(dist_info / SOURCE_DIGEST_FILE)
        if SOURCE_DIGEST_FILE in listed
        else None
    )
    return Installed(
        name=name,
        version=version,
        installer=read_installer(dist_info),
        damaged=damaged,
        direct_url=direct_url,
        editable=editable,
        source_digest=source_digest,
    )


def _listed_source_files(dist_info_name: str, entries: list[RecordEntry]) -> set[str]:
    """Which of ``direct_url.json`` and ``ENVSPEC_SOURCE`` the RECORD lists in the dist-info."""
    wanted = {
        f"{dist_info_name}/{DIRECT_URL_FILE}": DIRECT_URL_FILE,
        f"{dist_info_name}/{SOURCE_DIGEST_FILE}": SOURCE_DIGEST_FILE,
    }
    found: set[str] = set()
    for entry in entries:
        if entry.path.endswith((DIRECT_URL_FILE, SOURCE_DIGEST_FILE)):
            key = wanted.get(entry.path.replace("\\", "/"))
            if key is not None:
                found.add(key)
    return found
