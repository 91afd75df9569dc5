"""``envspec check``: the spec, the lock and the venv compared, every difference a finding.

The ``--no-verify-files`` answer for a venv whose state still vouches for spec, lock and
installed dist-infos costs what the no-op sync costs: this module's top imports are light, and
what a full comparison needs is imported inside :func:`check` after that answer (start-up time).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from envspec.commands.project import (
    LOCK_FILENAME,
    find_spec,
    load_any_spec,
    local_source_changes,
    lock_environment,
    read_lock,
    requested_groups,
)
from envspec.commands.sync import vouching_state
from envspec.drift import DriftReport, Finding, compare_packages
from envspec.errors import OutsideWorldError
from envspec.fsutil import cache_root

__all__ = ["check"]


def check(
    directory: Path,
    *,
    groups: Sequence[str] = (),
    all_groups: bool = False,
    verify_files: bool = True,
    cache_dir: str | None = None,
) -> DriftReport:
    """``envspec check``: the spec, the lock and the venv compared, every difference a finding.

    Raises only for bad input (no spec, invalid spec, unknown group: exit 2) and for the outside
    world (the venv's interpreter cannot be probed: exit 3); drift is data in the report. Reads
    only. The venv is read through its own interpreter (probed once, then cached), so a venv
    envspec did not create is checked the same way."""
    if not verify_files:
        # A sync that verified the lock's freshness left a state that still vouches for the spec,
        # the lock and the installed dist-infos, byte for byte: nothing can have drifted.
        found = vouching_state(directory, groups=groups, all_groups=all_groups)
        if found is not None and found[1].spec_fresh:
            venv_dir, state = found
            try:
                shown = str(venv_dir.relative_to(directory))
            except ValueError:
                shown = str(venv_dir)
            return DriftReport(checked_packages=state.packages, venv=shown, lock=LOCK_FILENAME)

    # start-up: the vouching state above answers without any of these
    from packaging.version import InvalidVersion, Version

    from envspec.lock.freshness import stale_reasons
    from envspec.lock.tool import locked_python
    from envspec.lock.select import select_wanted
    from envspec.pythons.probe import probe_interpreter
    from envspec.venv.installed import read_installed
    from envspec.venv.integrity import venv_tampering
    from envspec.venv.layout import VenvLayout, default_python, default_scripts
    from envspec.venv.state import read_state
    from envspec.venv.verify import venv_python_findings
    from envspec.venv.verify import verify_files as verify

    windows = os.name == "nt"
    spec_path = find_spec(directory)
    spec = load_any_spec(spec_path)
    wanted_groups = requested_groups(spec, groups, all_groups)
    lock_path = spec.project_dir / LOCK_FILENAME
    venv_dir = spec.venv_dir
    try:
        shown_venv = str(venv_dir.relative_to(spec.project_dir))
    except ValueError:
        shown_venv = str(venv_dir)
    findings: list[Finding] = []

    def report(packages: int = 0, files: int = 0, verified: bool = False) -> DriftReport:
        return DriftReport(
            findings=tuple(findings),
            checked_packages=packages,
            checked_files=files,
            verified_files=verified,
            venv=shown_venv,
            lock=LOCK_FILENAME,
        )

    # 1. the lock: present and fresh for the spec
    existing = read_lock(lock_path)
    if existing is None:
        findings.append(
            Finding(
                kind="missing-lock",
                path=LOCK_FILENAME,
                detail=f"there is no {LOCK_FILENAME} next to {spec_path.name}",
            )
        )
        return report()
    findings.extend(
        Finding(kind="stale-lock", path=LOCK_FILENAME, detail=reason)
        for reason in stale_reasons(spec, existing)
        or local_source_changes(existing, lock_path.parent)
    )

    # 2. the venv: there, and of a Python the spec and the lock accept
    recorded = locked_python(existing)
    try:
        lock_python = Version(recorded) if recorded else None
    except InvalidVersion:
        lock_python = None
    problems = venv_python_findings(venv_dir, spec_python=spec.python, lock_python=lock_python)
    findings.extend(problems)
    if problems:
        return report()  # a venv of another Python is recreated by a sync, not compared
    scripts_dir = default_scripts(venv_dir, windows=windows)
    tampering = venv_tampering(venv_dir, scripts_dir, read_state(venv_dir))
    findings.extend(tampering)
    if any(finding.path != "pyvenv.cfg" for finding in tampering):
        return report()  # its interpreter is not the one envspec made: nothing to run or trust

    venv_python = default_python(venv_dir, windows=windows)
    try:
        probe = probe_interpreter(venv_python, cache_dir=cache_root(cache_dir))
    except OutsideWorldError:
        if tampering:  # an edited pyvenv.cfg (another home) can break the interpreter
            return report()
        raise
    selection = select_wanted(existing, probe.target, wanted_groups, lock_path)
    if selection is None:
        findings.append(
            Finding(
                kind="python-mismatch",
                expected=lock_environment(existing),
                actual=f"{probe.version} ({probe.platform})",
                detail="the lock was made for another environment",
            )
        )
        return report()
    layout = VenvLayout.from_scheme(venv_dir, probe.scheme, windows=windows)

    # 3. the packages: exactly the locked ones, at the locked versions
    installed = read_installed(layout)
    findings.extend(compare_packages(selection, installed))
    if not verify_files:
        return report(len(installed))

    # 4. the files: every RECORD entry intact, nothing unowned in package directories
    verification = verify(layout, installed)
    findings.extend(verification.findings)
    return report(len(installed), verification.checked_files, True)
