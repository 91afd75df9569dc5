"""The import direction of DESIGN.md, enforced: core never reaches the edges or the network."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "envspec"

# The tiers of DESIGN.md, bottom to top. A module may import its own tier and the tiers below,
# never a tier above. The foundation and the core never reach the network or a process.
FOUNDATION = ["envspec/errors.py", "envspec/fsutil.py", "envspec/values"]
CORE = ["envspec/spec", "envspec/lock", "envspec/resolve", "envspec/plan.py", "envspec/drift.py"]
EDGES = ["envspec/index", "envspec/pythons", "envspec/venv", "envspec/sources"]
COMMANDS = ["envspec/commands"]
CLI = ["envspec/cli", "envspec/__main__.py"]
TIERS = {"foundation": FOUNDATION, "core": CORE, "edges": EDGES, "commands": COMMANDS, "cli": CLI}


def _dotted(entry: str) -> str:
    return entry.removesuffix(".py").replace("/", ".")


def _above(tier: str) -> tuple[str, ...]:
    names = list(TIERS)
    return tuple(_dotted(e) for upper in names[names.index(tier) + 1 :] for e in TIERS[upper])


NETWORK_AND_PROCESSES = ("httpx", "subprocess")
# (entries, what they must not import)
RULES = [
    (FOUNDATION, (*NETWORK_AND_PROCESSES, *_above("foundation"))),
    (CORE, (*NETWORK_AND_PROCESSES, *_above("core"))),
    (EDGES, _above("edges")),
    (COMMANDS, _above("commands")),
]


def test_every_module_belongs_to_one_tier_and_every_listed_path_exists() -> None:
    listed = [entry for entries in TIERS.values() for entry in entries]
    assert [e for e in listed if not (PACKAGE.parent / e).exists()] == []
    covered = {module for entry in listed for module in _modules(entry)}
    everything = {
        path for path in PACKAGE.rglob("*.py") if path.parent != PACKAGE or path.name != "__init__.py"
    }
    assert sorted(str(p.relative_to(PACKAGE.parent)) for p in everything - covered) == []


@pytest.mark.parametrize("entries, forbidden", RULES, ids=[tier for tier in TIERS if tier != "cli"])
def test_no_tier_imports_a_tier_above_it(entries: list[str], forbidden: tuple[str, ...]) -> None:
    assert _violations(entries, forbidden) == []


def _modules(entry: str) -> list[Path]:
    path = PACKAGE.parent / entry
    if path.is_dir():
        return sorted(path.rglob("*.py"))
    return [path] if path.exists() else []


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _violations(entries: list[str], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for entry in entries:
        for module in _modules(entry):
            for name in sorted(_imports(module)):
                if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                    found.append(f"{module.relative_to(PACKAGE.parent)} imports {name}")
    return found


def test_checker_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself can fail: an import of httpx is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from httpx import Client\nimport envspec.index.client\n")
    assert {"httpx", "httpx.Client", "envspec.index.client"} <= _imports(bad)


def _fresh_modules(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import envspec",
        "import envspec.cli.main",
        "from envspec.cli.main import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass",
        "import envspec.spec.model, envspec.values.target, envspec.lock.model, envspec.plan",
    ],
)
def test_light_paths_import_neither_httpx_nor_resolvelib(code: str) -> None:
    modules = _fresh_modules(code)
    assert "httpx" not in modules
    assert "resolvelib" not in modules


def test_the_resolver_core_does_not_import_httpx() -> None:
    assert "httpx" not in _fresh_modules("import envspec.resolve, envspec.resolve.source")


def test_every_module_imports_on_its_own() -> None:
    """No circular imports: each module imports in a fresh interpreter (after pip-tools)."""
    names = sorted(
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for path in PACKAGE.rglob("*.py")
        if path.name not in {"__main__.py", "_probe_script.py"}
    )
    names = [name.removesuffix(".__init__") for name in names]
    script = (
        "import importlib, subprocess, sys\n"
        "failed = []\n"
        f"for name in {names!r}:\n"
        "    r = subprocess.run([sys.executable, '-c', f'import {name}'], capture_output=True, text=True)\n"
        "    if r.returncode: failed.append((name, r.stderr.strip().splitlines()[-1:]))\n"
        "print(failed)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
