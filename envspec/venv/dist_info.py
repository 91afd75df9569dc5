"""The files envspec adds to a distribution's dist-info, and reads back: where it came from.

Besides METADATA, WHEEL and RECORD (the wheel's own), every install writes ``INSTALLER``
("envspec"); a package installed from a URL or a local path gets PEP 610's ``direct_url.json``, and
one built from a local directory envspec's ``ENVSPEC_SOURCE`` (the lock's digest of that source).
Every installer writes them like INSTALLER (listed in RECORD with their hashes, before RECORD), and
the journal lists them. That is how the next sync (``envspec.venv.installed``) knows who installed
a distribution and where it came from: written and read here, in one place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from envspec.plan import Wanted
from envspec.values.urls import redact_url

__all__ = [
    "DIRECT_URL_FILE",
    "INSTALLER_NAME",
    "NO_EXTRA",
    "SOURCE_DIGEST_FILE",
    "check_extra_names",
    "dist_info_files",
    "read_direct_url",
    "read_installer",
    "read_source_digest",
]

INSTALLER_NAME = "envspec"
"""Written to every installed distribution's INSTALLER file."""

DIRECT_URL_FILE = "direct_url.json"
"""PEP 610: in a dist-info, where a distribution installed from a URL or a local path came from."""

SOURCE_DIGEST_FILE = "ENVSPEC_SOURCE"
"""In a dist-info: the lock's digest of the local source directory the wheel was built from."""

NO_EXTRA: Mapping[str, bytes] = MappingProxyType({})
"""No file besides INSTALLER (the default of every installer's ``extra_dist_info``)."""

_RESERVED_DIST_INFO = frozenset({"RECORD", "INSTALLER", "METADATA", "WHEEL"})


def dist_info_files(wanted: Wanted) -> dict[str, bytes]:
    """The files envspec adds to the dist-info of ``wanted`` besides INSTALLER: PEP 610's
    ``direct_url.json`` (compact JSON) when it comes from a URL or a local path, and
    ``ENVSPEC_SOURCE`` (the lock's digest of its local source and a newline) when it has one.

    The URL's secret is redacted, as PEP 610 asks (``user:***@``): anyone who can read the venv
    can read this file."""
    files: dict[str, bytes] = {}
    if wanted.direct_url is not None:
        document: dict[str, Any] = {"url": redact_url(wanted.direct_url)}
        if wanted.kind == "directory":
            document["dir_info"] = {"editable": True} if wanted.editable else {}
        elif wanted.sha256:
            document["archive_info"] = {
                "hashes": {"sha256": wanted.sha256},
                "hash": f"sha256={wanted.sha256}",
            }
        else:
            document["archive_info"] = {}
        files[DIRECT_URL_FILE] = json.dumps(document, separators=(",", ":")).encode()
    if wanted.source_digest is not None:
        files[SOURCE_DIGEST_FILE] = f"{wanted.source_digest}\n".encode()
    return files


def check_extra_names(extra_dist_info: Mapping[str, bytes]) -> None:
    """ValueError unless every name is a plain file name that is not one of the wheel's own."""
    for filename in extra_dist_info:
        if (
            not filename
            or filename in _RESERVED_DIST_INFO
            or "/" in filename
            or "\\" in filename
            or filename in (".", "..")
        ):
            raise ValueError(f"not a file name an installer may add to a dist-info: {filename!r}")


def read_direct_url(path: Path) -> tuple[str | None, bool]:
    """(url, editable) of a PEP 610 ``direct_url.json``; (None, False) when it is missing or
    malformed (treated as absent: the package then reads as installed from an index)."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None, False
    if not isinstance(data, dict):
        return None, False
    url = data.get("url")
    if not isinstance(url, str) or not url:
        return None, False
    dir_info = data.get("dir_info")
    editable = isinstance(dir_info, dict) and dir_info.get("editable") is True
    return url, editable


def read_source_digest(path: Path) -> str | None:
    """The digest an ``ENVSPEC_SOURCE`` file holds; None when it is missing or empty."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    return text or None


def read_installer(dist_info: Path) -> str | None:
    """The first line of the dist-info's INSTALLER: who installed it (None when unknown)."""
    try:
        text = (dist_info / "INSTALLER").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    first = text.strip().splitlines()
    return first[0].strip() if first else None
