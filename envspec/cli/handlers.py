"""One handler per command: parsed arguments in, one command called, its result rendered, an exit code out.

Named *handlers* (not ``commands``) because the commands themselves are what they call: the
handlers only translate between argparse and the command's keyword arguments, and pick the exit
code. The words are :mod:`envspec.cli.render`'s.

Start-up cost matters (``envspec sync`` with nothing to do must answer in tens of milliseconds), so
this module imports only the standard library, ``envspec.errors`` and the renderer at the top; each
command, and everything heavy, is imported inside the handler that runs it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from envspec.cli import render
from envspec.cli.render import Output
from envspec.errors import EXIT_OK, EXIT_USER, EnvspecError

__all__ = [
    "add",
    "check",
    "completion",
    "export",
    "init",
    "lock",
    "python",
    "remove",
    "run",
    "sync",
    "tree",
    "why",
]


def init(args: argparse.Namespace, out: Output) -> int:
    from envspec.commands import init as init_command

    result = init_command.init(
        Path.cwd(), force=args.force, python=args.python, cache_dir=args.cache_dir,
        envspec_toml=args.envspec_toml,
    )
    render.init_result(result, out)
    return EXIT_OK


def lock(args: argparse.Namespace, out: Output) -> int:
    import time

    from envspec.commands import lock as lock_commands

    if args.check:
        checked = lock_commands.lock_check(Path.cwd(), cache_dir=args.cache_dir)
        out.info(f"{checked.path.name} is fresh ({render.packages(checked.package_count)}).")
        return EXIT_OK
    started = time.perf_counter()
    result = lock_commands.lock(
        Path.cwd(),
        upgrade=args.upgrade,
        upgrade_packages=args.upgrade_package,
        python=args.python,
        python_version=args.python_version,
        python_platform=args.python_platform,
        universal=args.universal,
        cache_dir=args.cache_dir,
        offline=args.offline,
    )
    render.lock_result(result, time.perf_counter() - started, out)
    return EXIT_OK


def python(args: argparse.Namespace, out: Output) -> int:
    from envspec.commands import show

    result = show.pythons(Path.cwd(), python=args.python, cache_dir=args.cache_dir)
    if args.json:
        import json

        out.result(json.dumps(render.python_document(result), indent=2))
    else:
        render.python_list(result, out)
    return EXIT_OK


def sync(args: argparse.Namespace, out: Output) -> int:
    import time

    from envspec.commands import sync as sync_commands

    started = time.perf_counter()
    progress = render.Progress(out)
    try:
        result = sync_commands.sync(
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
    render.sync_result(result, time.perf_counter() - started, out)
    return EXIT_OK


def run(args: argparse.Namespace, out: Output) -> int:
    import shutil
    import subprocess

    from envspec.commands import sync as sync_commands
    from envspec.errors import UserError

    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UserError("No command given.", hint="Write it after --, e.g. `envspec run -- pytest`.")
    env = sync_commands.run_environment(
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


def check(args: argparse.Namespace, out: Output) -> int:
    from envspec.commands import check as check_command
    from envspec.errors import EXIT_DRIFT

    report = check_command.check(
        Path.cwd(),
        groups=args.group,
        all_groups=args.all_groups,
        verify_files=not args.no_verify_files,
        cache_dir=args.cache_dir,
    )
    render.check_report(report, as_json=args.json, out=out)
    if report.is_clean():
        return EXIT_OK
    # a missing lock is missing input (exit 2); everything else is drift (exit 1)
    return EXIT_USER if report.of_kind("missing-lock") else EXIT_DRIFT


def add(args: argparse.Namespace, out: Output) -> int:
    return _edit_then_sync(args, out, add=list(args.requirements), remove=[])


def remove(args: argparse.Namespace, out: Output) -> int:
    return _edit_then_sync(args, out, add=[], remove=list(args.names))


def _edit_then_sync(args: argparse.Namespace, out: Output, *, add: list[str], remove: list[str]) -> int:
    from envspec.commands import lock as lock_commands
    from envspec.commands import show
    from envspec.commands import sync as sync_commands
    from envspec.spec.edit import NotInSpec

    try:
        result = lock_commands.edit(
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
                paths = show.why(Path.cwd(), error.name)
            except EnvspecError:
                paths = []
            if paths:
                error.message += "\n" + "\n".join(paths)
                error.hint = "Remove the requirement that pulls it in, or pin it in the spec."
        raise
    render.edit_result(
        result.written, remove, group=args.group, spec_path=result.spec_path, out=out
    )
    render.lock_changes(result.lock, out)
    if args.no_sync:
        return EXIT_OK
    groups, all_groups = sync_commands.last_synced_groups(Path.cwd())
    if args.group and not all_groups:
        groups = sorted({*groups, args.group})
    synced = sync_commands.sync(
        Path.cwd(), cache_dir=args.cache_dir, offline=args.offline,
        groups=groups, all_groups=all_groups, link_mode=args.link_mode,
    )
    if synced.plan is not None:
        out.info(f"{synced.plan.summary()} packages in {synced.venv}")
    return EXIT_OK


def tree(args: argparse.Namespace, out: Output) -> int:
    from envspec.commands import show

    lines = show.tree(
        Path.cwd(), depth=args.depth, invert=args.invert,
        groups=args.group, all_groups=args.all_groups,
    )
    out.result("\n".join(lines))
    return EXIT_OK


def why(args: argparse.Namespace, out: Output) -> int:
    from envspec.commands import show

    out.result("\n".join(show.why(Path.cwd(), args.name)))
    return EXIT_OK


def export(args: argparse.Namespace, out: Output) -> int:
    from envspec.commands import show
    from envspec.fsutil import write_user_file

    text = show.export(
        Path.cwd(), format=args.format, groups=args.group, all_groups=args.all_groups
    )
    if args.output:
        path = Path(args.output)
        write_user_file(path, text)
        out.info(f"Wrote {path}")
    else:
        out.stdout.write(text)
    return EXIT_OK


def completion(parser: argparse.ArgumentParser, args: argparse.Namespace, out: Output) -> int:
    """``envspec completion SHELL``: the script for ``parser`` (bound by :func:`build_parser`,
    so the completion can never list an option the parser does not have)."""
    from envspec.cli.completion import completion_script, parser_commands

    commands, global_options = parser_commands(parser)
    out.result(completion_script(args.shell, commands, global_options).rstrip("\n"))
    return EXIT_OK
