"""The venv edge: create a venv, read what it holds, apply a plan to it, remember the last sync.

Modules (each imported on its own; this package imports none of them, so the no-op sync pays only for
``state``, ``installed`` and ``layout``):

- ``layout``    where purelib, scripts and python are, from the interpreter's venv scheme
- ``create``    ``<python> -m venv``, recreated on a version change or when broken
- ``installed`` the one reader of ``*.dist-info``: name, version, INSTALLER, damaged; RECORD
- ``apply``     carry out a Plan: uninstall by RECORD, install wheels (pypa ``installer``)
- ``state``     ``.envspec-state.json``, the no-op fast path
- ``locking``   one sync per venv at a time (an OS file lock next to the venv)
"""

from __future__ import annotations

__all__: list[str] = []
