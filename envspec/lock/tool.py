"""envspec's own table in a PEP 751 lock, ``[tool.envspec]``: the one module that reads its shape.

What envspec records there (the spec inputs that produced the lock, the environments it covers,
a record of its package list, each local directory's source digest) decides freshness and what a
sync trusts. A lock is untrusted input, so the types are checked once, when it is read
(:func:`tool_table_problem`), and every other module asks the accessors here instead of digging in
the table itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packaging.pylock import Package, Pylock

__all__ = [
    "covered_ids",
    "inputs_table",
    "left_out",
    "locked_python",
    "package_source_digest",
    "package_tool_problem",
    "packages_record_table",
    "requested_environment",
    "subset_tool",
    "tool_table_problem",
]


def _table(lock: Pylock | None) -> Mapping[str, Any]:
    tool = (lock.tool or {}).get("envspec") if lock is not None else None
    return tool if isinstance(tool, Mapping) else {}


def inputs_table(lock: Pylock) -> Mapping[str, Any] | None:
    """``[tool.envspec.inputs]``: the spec inputs recorded; None for a lock another tool wrote."""
    inputs = _table(lock).get("inputs")
    return inputs if isinstance(inputs, Mapping) else None


def packages_record_table(lock: Pylock) -> Mapping[str, Any] | None:
    """``[tool.envspec.packages]``: the count and digest of the package list envspec wrote."""
    record = _table(lock).get("packages")
    return record if isinstance(record, Mapping) else None


def covered_ids(lock: Pylock) -> tuple[str, ...] | None:
    """The ids of the environments a universal lock covers (``cp312-linux-x86_64``...); None
    for a lock of one machine or another tool's lock."""
    found = _table(lock).get("environments")
    return tuple(found) if isinstance(found, list) else None


def left_out(lock: Pylock) -> dict[str, str]:
    """Environments the spec allows that the lock could not serve (no solution there) → why."""
    found = _table(lock).get("left-out")
    if not isinstance(found, Mapping):
        return {}
    return {str(k): str(v) for k, v in found.items()}


def locked_python(lock: Pylock | None) -> str | None:
    """The Python version ``[tool.envspec.target] python-version`` says a one-machine lock was
    made for."""
    target = _table(lock).get("target")
    version = target.get("python-version") if isinstance(target, Mapping) else None
    return version if isinstance(version, str) else None


def package_source_digest(package: Package) -> str | None:
    """The digest ``[packages.tool.envspec] source-digest`` records for a local directory
    package; None when there is none."""
    tool = (package.tool or {}).get("envspec")
    digest = tool.get("source-digest") if isinstance(tool, Mapping) else None
    return str(digest) if digest else None


def requested_environment(lock: Pylock) -> str | None:
    """The one environment ``lock --python-version/--python-platform`` asked for, if it did."""
    value = _table(lock).get("requested-environment")
    return value if isinstance(value, str) else None


def subset_tool(lock: Pylock, groups: list[str]) -> dict[str, Any]:
    """The ``tool`` table of an exported subset: envspec's inputs and package record dropped (the
    subset no longer serves the whole spec, so it must never look fresh for it), and
    ``[tool.envspec.export]`` saying which selection it is; other tools' tables kept."""
    tool: dict[str, Any] = {key: value for key, value in (lock.tool or {}).items() if key != "envspec"}
    own = dict(_table(lock))
    own.pop("inputs", None)
    own.pop("packages", None)  # the record of the whole lock, not of this subset
    own["export"] = {"groups": list(groups)}
    tool["envspec"] = own
    return tool


def package_tool_problem(package: Package) -> str | None:
    """What is wrong with a package's ``[packages.tool.envspec]`` (None: nothing)."""
    own = (package.tool or {}).get("envspec")
    if own is not None and not (
        isinstance(own, dict) and isinstance(own.get("source-digest", ""), str)
    ):
        return f"[packages.tool.envspec] of {package.name!r} has the wrong types: {_shown(own)}"
    return None


def tool_table_problem(tool: object) -> str | None:
    """What is wrong with the types in ``[tool.envspec]`` (None: nothing).

    envspec reads that table in several places (freshness, the target Python, source digests, the
    package record); a lock is untrusted input, so the types are checked once here rather than
    trusted there."""
    if tool is None:
        return None
    if not isinstance(tool, dict):
        return f"'tool' must be a table, not {tool!r}"
    table = tool.get("envspec")
    if table is None:
        return None
    if not isinstance(table, dict):
        return f"[tool.envspec] must be a table, not {_shown(table)}"
    inputs = table.get("inputs")
    if inputs is not None:
        if not isinstance(inputs, dict):
            return f"[tool.envspec].inputs must be a table, not {_shown(inputs)}"
        expected: dict[str, Any] = {
            "python": str,
            "requirements": list[str],
            "groups": dict[str, list[str]],
            "indexes": list[dict[str, Any]],
            "resolution": dict[str, Any],
            "sources": dict[str, str],
            "environments": list[str],
            "required-environments": list[str],
        }
        for key, shape in expected.items():
            if key in inputs and not _has_shape(inputs[key], shape):
                return (
                    f"[tool.envspec].inputs.{key} must be {_describe(shape)}, "
                    f"not {_shown(inputs[key])}"
                )
    covered = table.get("environments")
    if covered is not None and not _has_shape(covered, list[str]):
        return f"[tool.envspec].environments must be a list of strings, not {_shown(covered)}"
    from envspec.values.environments import environment_by_id  # start-up: a lock being read

    named = list(covered or [])
    if isinstance(table.get("requested-environment"), str):
        named.append(table["requested-environment"])
    unknown = [ident for ident in named if environment_by_id(ident) is None]
    if unknown:
        return (
            f"[tool.envspec] names an environment envspec does not know: {_shown(unknown[0])} "
            "(expected e.g. 'cp312-linux-x86_64')"
        )
    dropped = table.get("left-out")
    if dropped is not None and not _has_shape(dropped, dict[str, str]):
        return f"[tool.envspec].left-out must be a table of strings, not {_shown(dropped)}"
    requested = table.get("requested-environment")
    if requested is not None and not isinstance(requested, str):
        return f"[tool.envspec].requested-environment must be a string, not {_shown(requested)}"
    for key, fields in (("target", {"python-version": str}), ("packages", _RECORD_FIELDS)):
        if key not in table:
            continue
        value = table[key]
        if not isinstance(value, dict):
            return f"[tool.envspec].{key} must be a table, not {_shown(value)}"
        for name, kind in fields.items():
            if name in value and not _has_shape(value[name], kind):
                return (
                    f"[tool.envspec].{key}.{name} must be {_describe(kind)}, "
                    f"not {_shown(value[name])}"
                )
    return None


_RECORD_FIELDS: dict[str, Any] = {"count": int, "sha256": str}


def _has_shape(value: object, shape: Any) -> bool:
    origin = getattr(shape, "__origin__", None)
    if origin is list:
        (item,) = shape.__args__
        return isinstance(value, list) and all(_has_shape(v, item) for v in value)
    if origin is dict:
        _, item = shape.__args__
        return isinstance(value, dict) and all(_has_shape(v, item) for v in value.values())
    if shape is Any:
        return True
    if shape is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, shape)


def _describe(shape: Any) -> str:
    origin = getattr(shape, "__origin__", None)
    if origin is list:
        return f"a list of {_describe(shape.__args__[0]).removeprefix('a ')}s"
    if origin is dict:
        item = shape.__args__[1]
        return "a table" if item is Any else f"a table of {_describe(item).removeprefix('a ')}s"
    return {str: "a string", int: "an integer"}.get(shape, "a table")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
