"""The venv edge: create a venv, read what it holds, apply a plan to it, remember the last sync.

Modules (each imported on its own; this package imports none of them, so the no-op sync pays only for
``state``, ``installed`` and what they import):

- ``layout``     where purelib, scripts and python are, from the interpreter's venv scheme
- ``create``     ``<python> -m venv``, recreated on a version change or when broken
- ``state``      ``.envspec-state.json``, the no-op fast path
- ``mutex``      one sync per venv at a time (an OS file lock next to the venv)
- ``installed``  the one reader of ``*.dist-info``: name, version, INSTALLER, damaged
- ``record``     RECORD: one model, parser, writer and hash encoding
- ``dist_info``  the files envspec adds to a dist-info (INSTALLER, direct_url.json, ENVSPEC_SOURCE)
- ``journal``    the crash journal: the paths an install may write, on disk before the first
- ``confine``    where a package may write and what envspec may delete: inside its venv
- ``placement``  where each file of a wheel lands, judged before anything is written
- ``installers`` the WheelInstaller Protocol (prepare, then run) and pypa ``installer`` behind it
- ``unpacked``   the unpacked-wheel cache: unpack once, manifests, integrity check
- ``linked``     the installer syncs use: cache entries linked into the venv (``linking``: how)
- ``uninstall``  remove a distribution by RECORD, and what a killed install left
- ``apply``      carry out a Plan: recover, uninstall, install in parallel through the Protocol
- ``verify``, ``integrity``, ``prune``  what ``check`` compares, and what a reinstall removes
"""

from __future__ import annotations

__all__: list[str] = []
