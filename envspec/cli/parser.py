"""The command line's shape: every command, its options and its help text, in one argparse parser.

:func:`build_parser` binds each command to its handler in :mod:`envspec.cli.handlers`; it imports
nothing heavy (the handlers import their command when they run), so building the parser stays on
the fast path of every invocation.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable

from envspec import __version__
from envspec.cli import handlers
from envspec.cli.render import Output

__all__ = ["build_parser"]

_DESCRIPTION = """\
envspec keeps every Python project in its own virtual environment, described by one committed
spec (envspec.toml), locked into a standard PEP 751 lock (pylock.toml), and reconciled exactly into
.venv. Commit the spec and the lock; run `envspec sync` after every pull and `envspec check` in CI.
"""

_EPILOG = """\
exit codes: 0 success; 1 drift or a stale lock found; 2 wrong input (spec, arguments,
unsatisfiable requirements); 3 the outside world failed (network, index, filesystem, interpreter).

Run `envspec COMMAND --help` for a command's options and an example.
"""


def _add_group_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="NAME",
        help="also include this dependency group from [groups] (repeatable)",
    )
    parser.add_argument(
        "--all-groups", action="store_true", help="include every dependency group"
    )


def _add_link_mode_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--link-mode",
        choices=["clone", "hardlink", "copy"],
        help="how installed files get from the cache into the venv (default: the spec's "
        "[venv] link-mode, else clone on macOS, hardlink elsewhere)",
    )


def _add_python_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--python",
        metavar="VERSION|PATH",
        help="a Python version (3.11, 3.11.7) found on this machine, or an interpreter's path "
        "or command (also: ENVSPEC_PYTHON; default: .python-version, else the newest that "
        "fits the spec)",
    )


def _common_options(*, subcommand: bool) -> argparse.ArgumentParser:
    """Options accepted both before and after the command name (``envspec -v sync`` and
    ``envspec sync -v``). On subcommands their defaults are suppressed, otherwise argparse would
    let the subcommand's default overwrite a value given before the command."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if subcommand else value

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="count", default=default(0),
        help="say more (tracebacks on errors)",
    )
    common.add_argument(
        "-q", "--quiet", action="count", default=default(0),
        help="say only what was asked for and errors",
    )
    common.add_argument(
        "-C", "--directory", metavar="DIR", default=default(None),
        help="run as if envspec was started in DIR (where envspec.toml is)",
    )
    common.add_argument(
        "--cache-dir", metavar="DIR", default=default(None),
        help="cache directory (default: the platform's user cache dir; also ENVSPEC_CACHE_DIR)",
    )
    common.add_argument(
        "--offline", action="store_true", default=default(False),
        help="use only the cache; never touch the network",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``envspec``; each command's handler is its ``handler`` default."""
    common = _common_options(subcommand=False)
    sub_common = _common_options(subcommand=True)

    parser = argparse.ArgumentParser(
        prog="envspec",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"envspec {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def command(
        name: str,
        summary: str,
        description: str,
        example: str,
        handler: Callable[[argparse.Namespace, Output], int],
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=summary,
            description=description,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[sub_common],
        )
        sub.set_defaults(handler=handler)
        return sub

    init = command(
        "init",
        "write a starter envspec.toml here",
        "Write a starter envspec.toml in the current directory: python set to a floor (\">=3.11\"),\n"
        "the oldest interpreter found (PATH, pyenv, py launcher) that upstream still supports,\n"
        "so every teammate with a supported Python can sync; no requirements yet.",
        "envspec init && envspec add requests",
        handlers.init,
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing envspec.toml")
    init.add_argument(
        "--envspec-toml",
        action="store_true",
        help="write envspec.toml even where pyproject.toml could serve as the spec",
    )
    _add_python_option(init)

    lock = command(
        "lock",
        "resolve envspec.toml into pylock.toml (PEP 751)",
        "Resolve the spec against the index and write pylock.toml: one lock for every CPython\n"
        "minor the spec's python allows on Linux, macOS and Windows (x86-64 and arm64), narrowed\n"
        "by the spec's environments. Versions already locked are kept while they still satisfy\n"
        "the spec; a lock that is already fresh is not rewritten.",
        "envspec lock --upgrade-package requests\n"
        "  envspec lock --python-version 3.11 --python-platform windows-amd64",
        handlers.lock,
    )
    lock.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if pylock.toml is stale for the spec; write nothing, no network",
    )
    lock.add_argument("--upgrade", action="store_true", help="ignore the lock; newest versions")
    lock.add_argument(
        "--upgrade-package",
        action="append",
        default=[],
        metavar="NAME",
        help="free only this package from its locked version (repeatable)",
    )
    _add_python_option(lock)
    lock.add_argument(
        "--python-version",
        metavar="X.Y[.Z]",
        help="lock for this one Python version instead of every one the spec allows",
    )
    lock.add_argument(
        "--python-platform",
        metavar="PLATFORM",
        help="lock for this one platform (linux-x86_64, linux-aarch64, macos-x86_64, "
        "macos-arm64, windows-amd64, windows-arm64; or linux, macos, windows)",
    )
    lock.add_argument(
        "--universal",
        action="store_true",
        help="lock for every environment the spec allows again (after --python-version or "
        "--python-platform made a lock for one)",
    )

    sync = command(
        "sync",
        "make .venv match the lock exactly",
        "Create or update the project's venv so that it holds exactly what pylock.toml selects\n"
        "for this machine: install missing, change wrong versions, remove extraneous packages.\n"
        "Re-locks first if the spec changed (unless --frozen or --locked).",
        "envspec sync --group dev",
        handlers.sync,
    )
    sync.add_argument("--frozen", action="store_true", help="use pylock.toml as it is")
    sync.add_argument(
        "--locked", action="store_true", help="fail (exit 1) instead of re-locking a stale lock"
    )
    sync.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    sync.add_argument(
        "--reinstall",
        action="store_true",
        help="rewrite every package from its verified wheel (repairs edited or deleted files)",
    )
    _add_group_options(sync)
    _add_python_option(sync)
    _add_link_mode_option(sync)

    check = command(
        "check",
        "verify spec, lock and venv agree (for CI)",
        "Verify that the lock is fresh for the spec and that the venv matches the lock exactly:\n"
        "Python version, every package and version, nothing extra, installed files intact.\n"
        "Exit 1 with a readable report on any drift.",
        "envspec check --json",
        handlers.check,
    )
    check.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    check.add_argument(
        "--no-verify-files", action="store_true", help="skip hashing installed files (faster)"
    )
    _add_group_options(check)

    add = command(
        "add",
        "add requirements to the spec, then lock and sync",
        "Add PEP 508 requirements to envspec.toml (keeping its comments and layout), then lock\n"
        "and sync. A bare name gets a lower bound at the version locked.",
        "envspec add 'httpx>=0.27' --group dev",
        handlers.add,
    )
    add.add_argument("requirements", nargs="+", metavar="REQ", help="PEP 508 requirement")
    add.add_argument("--group", metavar="NAME", help="add to this dependency group")
    add.add_argument("--no-sync", action="store_true", help="stop after the lock")
    _add_link_mode_option(add)

    remove = command(
        "remove",
        "remove requirements from the spec, then lock and sync",
        "Remove requirements by name from envspec.toml, then lock and sync.",
        "envspec remove rich",
        handlers.remove,
    )
    remove.add_argument("names", nargs="+", metavar="NAME")
    remove.add_argument("--group", metavar="NAME", help="remove from this dependency group")
    remove.add_argument("--no-sync", action="store_true", help="stop after the lock")
    _add_link_mode_option(remove)

    tree = command(
        "tree",
        "show the locked dependency graph",
        "Show the locked dependency graph with versions and the markers that apply.",
        "envspec tree --depth 1",
        handlers.tree,
    )
    tree.add_argument("--depth", type=int, metavar="N", help="stop at depth N")
    tree.add_argument("--invert", action="store_true", help="show who depends on each package")
    _add_group_options(tree)

    why = command(
        "why",
        "show every path from the spec to a package",
        "Show every path from the spec's requirements to a locked package.",
        "envspec why urllib3",
        handlers.why,
    )
    why.add_argument("name", metavar="NAME")

    export = command(
        "export",
        "write requirements.txt with hashes (or a pylock.toml)",
        "Export the lock's selection as requirements.txt with --hash lines, usable with\n"
        "`pip install --require-hashes -r`, or as a pylock.toml for one group selection.",
        "envspec export -o requirements.txt",
        handlers.export,
    )
    export.add_argument(
        "--format", choices=["requirements.txt", "pylock.toml"], default="requirements.txt"
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    _add_group_options(export)

    run = command(
        "run",
        "run a command inside the synced venv",
        "Sync if needed (unless --frozen), then run CMD with the venv's scripts directory first\n"
        "on PATH and VIRTUAL_ENV set; exits with the command's exit code.",
        "envspec run -- pytest -x",
        handlers.run,
    )
    run.add_argument("--frozen", action="store_true", help="do not sync first")
    _add_link_mode_option(run)
    _add_group_options(run)
    _add_python_option(run)
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ARGS")

    python = command(
        "python",
        "list interpreters and the one the spec selects",
        "List the Python interpreters found (PATH, pyenv, py launcher) and which one the spec's\n"
        "`python` selects.",
        "envspec python",
        handlers.python,
    )
    python.add_argument("--json", action="store_true", help="machine-readable list on stdout")
    _add_python_option(python)

    completion = command(
        "completion",
        "print a shell completion script (bash, zsh, fish)",
        "Print a completion script for your shell. Load it from your shell's start-up file:\n"
        '  bash: eval "$(envspec completion bash)"    zsh: eval "$(envspec completion zsh)"\n'
        "  fish: envspec completion fish | source",
        'eval "$(envspec completion bash)"',
        functools.partial(handlers.completion, parser),
    )
    completion.add_argument("shell", choices=["bash", "zsh", "fish"])

    return parser

