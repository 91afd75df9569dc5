"""The spec: :mod:`~envspec.spec.model` (the frozen values every tier reads),
:mod:`~envspec.spec.load` (envspec.toml → Spec, every problem with its line),
:mod:`~envspec.spec.pyproject` (pyproject.toml → the same Spec), :mod:`~envspec.spec.schema`
(the JSON schema's keywords interpreted), :mod:`~envspec.spec.parse` (value parsers: requirement,
specifier, date, URL), :mod:`~envspec.spec.rules` (checks across values a schema cannot state),
:mod:`~envspec.spec.edit` (add/remove as text surgery) and :mod:`~envspec.spec.tomltext` (the one
TOML text scanner, for line numbers and for edits).

Nothing is imported here: the lock model imports :mod:`~envspec.spec.model` alone, and must stay light.
"""

from __future__ import annotations

__all__: list[str] = []
