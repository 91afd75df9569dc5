"""Remove from site-packages what no RECORD owns: the second half of ``sync --reinstall``.

Reinstalling every package rewrites every file a RECORD lists, but a file that nobody's RECORD
lists — a ``.pth`` or ``sitecustomize.py`` planted in site-packages, a module added inside a
package, bytecode that does not match its source — survives it, and keeps changing what Python
runs. ``envspec check`` reports those (``unowned-file``, ``startup-file``, ``stray-bytecode``);
this removes exactly what it reports, so that the fix it prints makes it clean.

Only paths inside the venv's site-packages are removed, and links are removed, never followed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from envspec.venv.installed import dist_info_dirs, project_name
from envspec.venv.layout import VenvLayout
from envspec.venv.verify import verify_files

__all__ = ["PRUNED_KINDS", "prune_unowned"]

PRUNED_KINDS = frozenset({"unowned-file", "startup-file", "stray-bytecode"})


def prune_unowned(layout: VenvLayout) -> list[Path]:
    """Remove every unowned entry the check would report; returns what was removed. A
    distribution whose RECORD cannot be read stops it: its files would look unowned."""
    names = []
    for dist_info in dist_info_dirs(layout):
        name = project_name(dist_info)
        if name is not None:
            names.append(name)
    findings = verify_files(layout, names).findings
    if any(f.kind == "damaged" for f in findings):
        return []
    root = Path(os.path.abspath(layout.root))
    allowed = [Path(os.path.realpath(p)) for p in layout.site_packages]
    removed: list[Path] = []
    for finding in findings:
        if finding.kind not in PRUNED_KINDS or finding.path is None:
            continue
        target = root / finding.path
        parent = Path(os.path.realpath(target.parent))  # the entry itself is never resolved
        if not any(_inside(parent, site_packages) for site_packages in allowed):
            continue
        try:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        except FileNotFoundError:
            continue
        removed.append(target)
    return removed


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.relative_to(directory)
    except ValueError:
        return False
    return True
