"""Report the facts envspec needs about the interpreter that runs this script, as JSON.

envspec itself needs Python >= 3.11 and ``packaging``, but it builds venvs for any CPython >= 3.8,
which has neither. So it runs this script *under the target interpreter* and computes everything
else (wheel tags, Target) from the facts printed here. This docstring is the protocol.

Invocation (by ``envspec.pythons.probe``)::

    <interpreter> -I -c <the source of this file>

``-I`` (isolated mode) keeps the answer a property of the interpreter alone: PYTHON* environment
variables are ignored, the user site directory is not added, and neither the current directory nor
a script directory is put on ``sys.path`` (a project's own ``platform.py`` or ``json.py`` must not
shadow the standard library). ``-S`` is deliberately *not* used: before Python 3.11 it is ``site``
that points ``sys.prefix`` at a venv, and recognising a venv is one of the things asked here.

Output: one JSON object on the *last* line of stdout (anything a ``.pth`` file prints comes before
it and is ignored), exit status 0. Keys:

- ``protocol`` (int): this protocol's version, 1.
- ``version_info``: ``[major, minor, micro, releaselevel, serial]``.
- ``implementation``: ``sys.implementation.name`` ("cpython", "pypy", ...).
- ``executable``, ``prefix``, ``base_prefix``: from ``sys`` (prefix != base_prefix in a venv).
- ``markers``: the PEP 508 marker environment, computed exactly as
  ``packaging.markers.default_environment()`` does.
- ``tags``: the raw facts wheel tags are computed from: ``py_version_nodot``, ``soabi``,
  ``ext_suffix``, ``extension_suffixes``, ``py_debug``, ``py_gil_disabled``, ``with_pymalloc`` (config
  variables, null when unset), ``has_gettotalrefcount``, ``pointer_size`` (bytes), ``platform``
  (``sysconfig.get_platform()``), ``platform_system``, ``mac_ver`` (``[release, machine]``),
  ``glibc_version`` (``os.confstr('CS_GNU_LIBC_VERSION')`` or null), ``multiarch``.
- ``platform``: ``sysconfig.get_platform()``.
- ``scheme``: purelib, platlib, scripts, data, include as paths relative to a venv's root, in the
  interpreter's own path style; from sysconfig's "venv" scheme where it exists (3.11+), otherwise
  "nt" on Windows and "posix_prefix" elsewhere (never the distributor's default, which on Debian is
  the /usr/local scheme).

Compatibility: this file must run on every Python 3 that ``-I`` exists on (3.4+), not just 3.8+, so
that discovery can report an old interpreter with its version instead of a crash. Hence no
f-strings, no annotations, and no ``from __future__ import annotations`` (a SyntaxError before 3.7).
It imports only the standard library and defines no names a caller uses.
"""

# This file runs on Pythons older than the project's target version: no pyupgrade rules.
# ruff: noqa: UP030, UP032, UP035

import json
import os
import platform
import struct
import sys
import sysconfig
from importlib.machinery import EXTENSION_SUFFIXES

MYPY = False  # type checkers treat MYPY as true; at run time typing is never imported
if MYPY:
    from typing import Any, Dict, List, Optional  # noqa: F401

# A script, not a module: nothing here is imported by envspec.
__all__ = []  # type: List[str]

PROTOCOL = 1
SCHEME_KEYS = ("purelib", "platlib", "scripts", "data", "include")


def format_full_version(info):
    # type: (Any) -> str
    version = "{0}.{1}.{2}".format(info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def marker_environment():
    # type: () -> Dict[str, str]
    # Mirrors packaging.markers.default_environment(); a test compares the two.
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": format_full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def glibc_version():
    # type: () -> Optional[str]
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, OSError, ValueError):
        return None
    return value or None


def tag_facts():
    # type: () -> Dict[str, Any]
    mac_release, _, mac_machine = platform.mac_ver()
    return {
        "py_version_nodot": sysconfig.get_config_var("py_version_nodot"),
        "soabi": sysconfig.get_config_var("SOABI"),
        "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
        "extension_suffixes": list(EXTENSION_SUFFIXES),
        "py_debug": sysconfig.get_config_var("Py_DEBUG"),
        "py_gil_disabled": sysconfig.get_config_var("Py_GIL_DISABLED"),
        "with_pymalloc": sysconfig.get_config_var("WITH_PYMALLOC"),
        "has_gettotalrefcount": hasattr(sys, "gettotalrefcount"),
        "pointer_size": struct.calcsize("P"),
        "platform": sysconfig.get_platform(),
        "platform_system": platform.system(),
        "mac_ver": [mac_release, mac_machine],
        "glibc_version": glibc_version(),
        "multiarch": getattr(sys.implementation, "_multiarch", None),
    }


def venv_scheme():
    # type: () -> Dict[str, str]
    names = sysconfig.get_scheme_names()
    if "venv" in names:
        scheme = "venv"
    elif os.name == "nt":
        scheme = "nt"
    else:
        scheme = "posix_prefix"
    root = os.path.join(os.path.abspath(os.sep), "envspec-venv-root")
    variables = {
        "base": root,
        "platbase": root,
        "installed_base": root,
        "installed_platbase": root,
    }
    paths = sysconfig.get_paths(scheme=scheme, vars=variables)
    return {key: os.path.relpath(paths[key], root) for key in SCHEME_KEYS}


def main():
    # type: () -> None
    info = sys.version_info
    answer = {
        "protocol": PROTOCOL,
        "version_info": [info[0], info[1], info[2], info[3], info[4]],
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "markers": marker_environment(),
        "tags": tag_facts(),
        "platform": sysconfig.get_platform(),
        "scheme": venv_scheme(),
    }
    sys.stdout.write("\n" + json.dumps(answer, sort_keys=True) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
