"""envspec: one committed spec, one PEP 751 lock, one exact venv per project.

Imports go one way, and tests enforce it (tests/unit/test_architecture.py)::

    cli ──▶ operations ──▶ edges ──▶ core
                           index/      spec, schema, target, lockfile, errors,
                           pythons/    resolve/ (provider over a PackageSource seam),
                           venv/       plan, drift, render
                           fsutil

Core modules are pure: no network, no subprocess, no file writes, and never ``httpx``.
Edges return core values and never import ``operations`` or ``cli``. Only ``cli`` prints.

This module stays tiny: ``envspec --version`` and the no-op sync import it, so it must not
pull in anything heavy.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
