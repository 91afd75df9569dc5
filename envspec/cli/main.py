"""Command-line interface: argument parsing and printing, nothing else.

Every command calls one function in ``envspec.operations`` and prints what it returns. Exceptions
derived from :class:`envspec.errors.EnvspecError` become one paragraph on stderr and the exit code
the error carries; anything else is a bug: one paragraph saying so, its traceback saved under the
cache dir's ``crash-reports/`` (shown too under ``--verbose``), and exit code 4.

Start-up cost matters (``envspec sync`` with nothing to do must answer in tens of milliseconds), so
this module imports only the standard library and ``envspec.errors`` at the top; operations and
everything heavy are imported inside the command that needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from envspec import __version__
from envspec.errors import EXIT_OK, EXIT_OUTSIDE, EXIT_USER, EnvspecError

__all__ = ["Output", "entrypoint", "main"]


class Output:
    """Where a command's words go: results on stdout, progress and errors on stderr."""

    def __init__(self, *, verbosity: int, stdout: TextIO, stderr: TextIO) -> None:
        self.verbosity = verbosity
        self.stdout = stdout
        self.stderr = stderr

    def result(self, text: str) -> None:
        """The command's answer; printed even with --quiet (a machine may read it)."""
        print(text, file=self.stdout)

    def info(self, text: str) -> None:
        if self.verbosity >= 0:
            print(text, file=self.stderr)

    def detail(self, text: str) -> None:
        if self.verbosity > 0:
            print(text, file=self.stderr)

    def error(self, error: EnvspecError) -> None:
        print(f"error: {error}", file=self.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=self.stderr)


def _packages(count: int) -> str:
    return f"{count} package" if count == 1 else f"{count} packages"


# ── commands ─────────────────────────────────────────────────────────────────────────────────


def _cmd_init(args: argparse.Namespace, out: Output) -> int:
    from envspec import operations

    result = operations.init(
        Path.cwd(), force=args.force, python=args.python, cache_dir=args.cache_dir,
        envspec_toml=args.envspec_toml,
    )
    if result.pyproject:
        out.info(
            f"{result.path.name} is already a spec for envspec (requires-python = "
            f"{result.python!r}, [project].dependencies, [dependency-groups]); put envspec's "
            "own settings under [tool.envspec]. Nothing written."
        )
        out.info("Run `envspec sync`, or `envspec init --envspec-toml` for a separate file.")
        return EXIT_OK
    out.info(f'Wrote {result.path} with python = "{result.python}" ({result.note}).')
    out.info("Add requirements to it, then run `envspec sync`.")
    return EXIT_OK


def _cmd_lock(args: argparse.Namespace, out: Output) -> int:
    import time

    from envspec import operations

    if args.check:
        checked = operations.lock_check(Path.cwd(), cache_dir=args.cache_dir)
        out.info(f"{checked.path.name} is fresh ({_packages(checked.package_count)}).")
        return EXIT_OK
    started = time.perf_counter()
    result = operations.lock(
        Path.cwd(),
        upgrade=args.upgrade,
        upgrade_packages=args.upgrade_package,
        python=args.python,
        cache_dir=args.cache_dir,
        offline=args.offline,
    )
    elapsed = time.perf_counter() - started
    if result.fresh_without_resolving:
        out.info(f"{result.path.name} is fresh ({_packages(result.package_count)}); nothing to do.")
        return EXIT_OK
    out.info(f"Resolved {_packages(result.package_count)} in {elapsed:.2f}s")
    for change in result.changes:
        out.info(f"  {change}")
    if result.written:
        out.info(f"Wrote {result.path}")
    else:
        out.info(f"{result.path.name} unchanged")
    return EXIT_OK


def _cmd_python(args: argparse.Namespace, out: Output) -> int:
    import json

    from envspec import operations

    result = operations.pythons(Path.cwd(), python=args.python, cache_dir=args.cache_dir)
    if args.json:
        document = {
            "requested": result.requested,
            "chosen": str(result.chosen.path) if result.chosen else None,
            "interpreters": [
                {
                    "path": str(i.path),
                    "version": str(i.version),
                    "implementation": i.implementation,
                    "source": i.source,
                }
                for i in result.interpreters
            ],
        }
        out.result(json.dumps(document, indent=2))
        return EXIT_OK
    for interpreter in result.interpreters:
        mark = "*" if result.chosen is not None and interpreter.path == result.chosen.path else " "
        note = "" if interpreter.is_supported else "  [not usable: envspec needs CPython >= 3.8]"
        out.result(f"{mark} {interpreter.describe()}{note}")
    if result.requested is None:
        out.info("(no envspec.toml here: nothing selected)")
    elif result.chosen is not None:
        out.info(f"python = {result.requested!r} selects {result.chosen.path}")
    else:
        out.info(result.problem or "")
    return EXIT_OK


class _Progress:
    """Counts on one rewritten terminal line while work goes on; nothing when stderr is a pipe."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.live = out.verbosity >= 0 and out.stderr.isatty()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int, nbytes: int) -> None:
        if not self.live:
            return
        verb = {"download": "Downloading", "build": "Building", "install": "Installing"}.get(
            stage, stage
        )
        size = f" ({nbytes / 1048576:.1f} MiB)" if nbytes else ""
        print(f"\r\x1b[2K{verb} {done}/{total}{size}", end="", file=self.out.stderr, flush=True)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            print("\r\x1b[2K", end="", file=self.out.stderr, flush=True)
            self.shown = False


def _print_lock_changes(result: object, out: Output) -> None:
    changes = getattr(result, "changes", ())
    if changes:
        out.info(f"Locked {_packages(getattr(result, 'package_count', 0))}:")
        for change in changes:
            out.info(f"  {change}")


def _cmd_sync(args: argparse.Namespace, out: Output) -> int:
    import time

    from envspec import operations

    started = time.perf_counter()
    progress = _Progress(out)
    try:
        result = operations.sync(
            Path.cwd(),
            groups=args.group,
            all_groups=args.all_groups,
            frozen=args.frozen,
            locked=args.locked,
            dry_run=args.dry_run,
            reinstall=args.reinstall,
            python=args.python,
            cache_dir=args.cache_dir,
            offline=args.offline,
            progress=progress,
            link_mode=args.link_mode,
        )
    finally:
        progress.clear()
    elapsed = time.perf_counter() - started
    if result.lock is not None:
        _print_lock_changes(result.lock, out)
    plan = result.plan
    if plan is None:
        out.info(f"{result.venv} is in sync; nothing to do.")
        return EXIT_OK
    if result.dry_run:
        if result.created:
            out.result(f"would create {result.venv} with {result.interpreter}")
        for action in plan.actions:
            out.result(str(action))
        if plan.is_empty():
            out.result("nothing to do")
        return EXIT_OK
    if result.created:
        out.info(f"Created {result.venv} with {result.interpreter}")
    for action in plan.actions:
        out.detail(f"  {action}")
    out.info(f"{plan.summary()} packages in {elapsed:.2f}s")
    if result.windows:
        activate = f"{result.venv}\\Scripts\\activate"
    else:
        activate = f"source {result.venv}/bin/activate"
    out.info(f"Activate with: {activate}")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace, out: Output) -> int:
    import shutil
    import subprocess

    from envspec import operations
    from envspec.errors import UserError

    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UserError("No command given.", hint="Write it after --, e.g. `envspec run -- pytest`.")
    env = operations.run_environment(
        Path.cwd(),
        frozen=args.frozen,
        groups=args.group,
        all_groups=args.all_groups,
        python=args.python,
        cache_dir=args.cache_dir,
        offline=args.offline,
        link_mode=args.link_mode,
    )
    if env.synced is not None and env.synced.plan is not None and not env.synced.plan.is_empty():
        out.info(f"Synced {env.venv}: {env.synced.plan.summary()} packages")
    executable = shutil.which(command[0], path=env.environ["PATH"])
    if executable is None:
        print(f"error: command not found: {command[0]!r}", file=out.stderr)
        return 127
    try:
        return subprocess.call([executable, *command[1:]], env=env.environ)
    except KeyboardInterrupt:
        return 130


def _cmd_check(args: argparse.Namespace, out: Output) -> int:
    import json

    from envspec import operations
    from envspec.errors import EXIT_DRIFT

    report = operations.check(
        Path.cwd(),
        groups=args.group,
        all_groups=args.all_groups,
        verify_files=not args.no_verify_files,
        cache_dir=args.cache_dir,
    )
    if args.json:
        out.result(json.dumps(report.to_json(), indent=2))
    elif report.is_clean():
        out.info(report.render_text())
    else:
        out.result(report.render_text())
    if report.is_clean():
        return EXIT_OK
    # a missing lock is missing input (exit 2); everything else is drift (exit 1)
    return EXIT_USER if report.of_kind("missing-lock") else EXIT_DRIFT


def _edit_then_sync(args: argparse.Namespace, out: Output, *, add: list[str], remove: list[str]) -> int:
    from envspec import operations
    from envspec.spec.edit import NotInSpec

    try:
        result = operations.edit(
            Path.cwd(),
            add=add,
            remove=remove,
            group=args.group,
            cache_dir=args.cache_dir,
            offline=args.offline,
        )
    except NotInSpec as error:
        if not error.found_in:
            # say where it does come from: the paths that lock it in
            try:
                paths = operations.why(Path.cwd(), error.name)
            except EnvspecError:
                paths = []
            if paths:
                error.message += "\n" + "\n".join(paths)
                error.hint = "Remove the requirement that pulls it in, or pin it in the spec."
        raise
    where = f"group {args.group!r} of " if args.group else ""
    from envspec.values.urls import redact_text

    for text in result.written:
        out.info(f"Added {redact_text(text)!r} to {where}{result.spec_path.name}")
    for name in remove:
        out.info(f"Removed {name!r} from {where}{result.spec_path.name}")
    _print_lock_changes(result.lock, out)
    if args.no_sync:
        return EXIT_OK
    groups, all_groups = operations.last_synced_groups(Path.cwd())
    if args.group and not all_groups:
        groups = sorted({*groups, args.group})
    synced = operations.sync(
        Path.cwd(), cache_dir=args.cache_dir, offline=args.offline,
        groups=groups, all_groups=all_groups, link_mode=args.link_mode,
    )
    if synced.plan is not None:
        out.info(f"{synced.plan.summary()} packages in {synced.venv}")
    return EXIT_OK


def _cmd_add(args: argparse.Namespace, out: Output) -> int:
    return _edit_then_sync(args, out, add=list(args.requirements), remove=[])


def _cmd_remove(args: argparse.Namespace, out: Output) -> int:
    return _edit_then_sync(args, out, add=[], remove=list(args.names))


def _cmd_tree(args: argparse.Namespace, out: Output) -> int:
    from envspec import operations

    lines = operations.tree(
        Path.cwd(), depth=args.depth, invert=args.invert,
        groups=args.group, all_groups=args.all_groups,
    )
    out.result("\n".join(lines))
    return EXIT_OK


def _cmd_why(args: argparse.Namespace, out: Output) -> int:
    from envspec import operations

    out.result("\n".join(operations.why(Path.cwd(), args.name)))
    return EXIT_OK


def _cmd_export(args: argparse.Namespace, out: Output) -> int:
    from envspec import operations
    from envspec.fsutil import write_user_file

    text = operations.export(
        Path.cwd(), format=args.format, groups=args.group, all_groups=args.all_groups
    )
    if args.output:
        path = Path(args.output)
        write_user_file(path, text)
        out.info(f"Wrote {path}")
    else:
        out.stdout.write(text)
    return EXIT_OK


# ── parser ───────────────────────────────────────────────────────────────────────────────────

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
        metavar="PATH",
        help="use this interpreter instead of discovering one (also: ENVSPEC_PYTHON)",
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
        _cmd_init,
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
        "Resolve the spec against the index and write pylock.toml. Versions already locked are\n"
        "kept while they still satisfy the spec; a lock that is already fresh is not rewritten.",
        "envspec lock --upgrade-package requests",
        _cmd_lock,
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

    sync = command(
        "sync",
        "make .venv match the lock exactly",
        "Create or update the project's venv so that it holds exactly what pylock.toml selects\n"
        "for this machine: install missing, change wrong versions, remove extraneous packages.\n"
        "Re-locks first if the spec changed (unless --frozen or --locked).",
        "envspec sync --group dev",
        _cmd_sync,
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
        _cmd_check,
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
        _cmd_add,
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
        _cmd_remove,
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
        _cmd_tree,
    )
    tree.add_argument("--depth", type=int, metavar="N", help="stop at depth N")
    tree.add_argument("--invert", action="store_true", help="show who depends on each package")
    _add_group_options(tree)

    why = command(
        "why",
        "show every path from the spec to a package",
        "Show every path from the spec's requirements to a locked package.",
        "envspec why urllib3",
        _cmd_why,
    )
    why.add_argument("name", metavar="NAME")

    export = command(
        "export",
        "write requirements.txt with hashes (or a pylock.toml)",
        "Export the lock's selection as requirements.txt with --hash lines, usable with\n"
        "`pip install --require-hashes -r`, or as a pylock.toml for one group selection.",
        "envspec export -o requirements.txt",
        _cmd_export,
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
        _cmd_run,
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
        _cmd_python,
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
        _cmd_completion,
    )
    completion.add_argument("shell", choices=["bash", "zsh", "fish"])

    return parser


def _show_log(out: Output, logger_name: str, prefix: str) -> None:
    """--verbose: print each record of ``logger_name`` on stderr behind ``prefix``, as it comes.
    Two loggers are shown: ``envspec.sources.pep517.output`` (every line a build backend prints) and
    ``envspec.notes`` (what envspec skipped or worked around, such as a broken index entry)."""
    import logging

    class _Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            print(f"{prefix}{record.getMessage()}", file=out.stderr, flush=True)

    logger = logging.getLogger(logger_name)
    logger.handlers[:] = [_Lines()]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run envspec with ``argv`` (without the program name); returns the exit code."""
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(arguments)
    out = Output(
        verbosity=args.verbose - args.quiet,
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(out.stderr)
        return EXIT_USER
    if out.verbosity > 0:
        _show_log(out, "envspec.sources.pep517.output", "  | ")
        _show_log(out, "envspec.notes", "note: ")
    try:
        if args.directory:
            try:
                os.chdir(args.directory)
            except OSError as error:
                raise _usage_error(f"cannot use -C {args.directory!r}: {error.strerror}")
        if args.command not in ("init", "completion"):
            _announce_spec(out)
        return int(handler(args, out))
    except EnvspecError as error:
        if args.verbose:
            import traceback

            traceback.print_exc(file=out.stderr)
        out.error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=out.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`envspec tree | head`): not an error; keep Python's exit flush quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as error:
        # The filesystem said no (permissions, disk full, ...): the outside world, not a bug.
        if args.verbose:
            import traceback

            traceback.print_exc(file=out.stderr)
        where = f" ({error.filename})" if error.filename else ""
        print(f"error: {error.strerror or error}{where}", file=out.stderr)
        return EXIT_OUTSIDE
    except Exception as error:  # noqa: BLE001 - anything else is a bug: say so, never exit 1
        return _report_bug(error, args, arguments, out)


def _report_bug(
    error: BaseException, args: argparse.Namespace, arguments: list[str], out: Output
) -> int:
    """Turn an unexpected exception into one paragraph and a saved traceback (exit 4).

    A raw traceback with exit status 1 reads as "drift" to CI; a bug gets its own exit code, and its
    traceback goes to a file the user can attach to a report rather than into their terminal.
    """
    import traceback

    from envspec.errors import EXIT_BUG

    from envspec.values.urls import redact_text

    text = redact_text("".join(traceback.format_exception(error)))  # locals may hold URLs
    header = (
        f"envspec {__version__} on Python {sys.version.split()[0]} ({sys.platform})\n"
        f"cwd: {os.getcwd()}\nargv: {_redacted_argv(arguments)}\n\n"
    )
    saved = _save_crash_report(header + text, getattr(args, "cache_dir", None))
    if args.verbose:
        print(text, end="", file=out.stderr)
    where = f"The full traceback was saved to {saved}." if saved else (
        "The traceback could not be saved; run again with -v to see it."
    )
    print(
        f"error: this is a bug in envspec, not a problem with your project "
        f"({type(error).__name__}: {_first_line(error)}). {where} Please report it on envspec's "
        "issue tracker (the repository you installed envspec from), attaching that file and the "
        "command you ran.",
        file=out.stderr,
    )
    return EXIT_BUG


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "no message"


def _redacted_argv(arguments: list[str]) -> str:
    """The command line with every URL's password redacted: reports get shared."""
    from envspec.values.urls import redact_text

    return " ".join(redact_text(arg) for arg in arguments)


def _save_crash_report(text: str, cache_dir: str | None) -> Path | None:
    """Write ``text`` under ``<cache>/crash-reports/``, else the temp dir; None if neither works."""
    import tempfile
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    candidates: list[Path] = []
    try:
        from envspec.fsutil import cache_root

        candidates.append(cache_root(cache_dir) / "crash-reports")
    except Exception:  # noqa: BLE001 - the report must not fail because the cache dir is odd
        pass
    candidates.append(Path(tempfile.gettempdir()) / "envspec-crash-reports")
    for directory in candidates:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{stamp}.txt"
            path.write_text(text, encoding="utf-8", errors="replace")
        except OSError:
            continue
        return path
    return None


def _cmd_completion(args: argparse.Namespace, out: Output) -> int:
    from envspec.cli.completion import Command, completion_script

    parser = build_parser()
    commands = []
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        if not isinstance(action, argparse._SubParsersAction):
            continue
        summaries = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            options = [
                (flag, option.help or "")
                for option in sub._actions
                for flag in option.option_strings
            ]
            commands.append(Command(name, summaries.get(name, ""), options))
    global_options = [flag for option in parser._actions for flag in option.option_strings]
    out.result(completion_script(args.shell, commands, global_options).rstrip("\n"))
    return EXIT_OK


def _announce_spec(out: Output) -> None:
    """Say which file is the spec when it is not the obvious one (pyproject.toml)."""
    here = Path.cwd()
    if not (here / "envspec.toml").is_file() and (here / "pyproject.toml").is_file():
        out.info("Using pyproject.toml as the spec ([project], [dependency-groups], [tool.envspec])")
    else:
        out.detail("Using envspec.toml as the spec")


def _usage_error(message: str) -> EnvspecError:
    from envspec.errors import UserError

    return UserError(message)


def entrypoint() -> NoReturn:
    """The console script ``envspec`` and ``python -m envspec``."""
    sys.exit(main())
