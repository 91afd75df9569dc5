"""``envspec``: run one command and turn whatever happens into words on stderr and an exit code.

The parser (:mod:`envspec.cli.parser`) picks the handler (:mod:`envspec.cli.handlers`), which calls
one command and renders its result (:mod:`envspec.cli.render`). Here, exceptions derived from
:class:`envspec.errors.EnvspecError` become one paragraph on stderr and the exit code the error
carries; anything else is a bug: one paragraph saying so, its traceback saved under the cache dir's
``crash-reports/`` (shown too under ``--verbose``), and exit code 4.

Start-up cost matters (``envspec sync`` with nothing to do must answer in tens of milliseconds), so
the ``cli`` modules import only the standard library and ``envspec.errors`` at the top; commands and
everything heavy are imported inside the handler that needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from envspec import __version__
from envspec.cli.parser import build_parser
from envspec.cli.render import Output
from envspec.errors import EXIT_BUG, EXIT_OK, EXIT_OUTSIDE, EXIT_USER, EnvspecError, UserError

__all__ = ["entrypoint", "main"]


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
                raise UserError(f"cannot use -C {args.directory!r}: {error.strerror}")
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

    from envspec.values.urls import redact_text  # only a crash needs it

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



def _announce_spec(out: Output) -> None:
    """Say which file is the spec when it is not the obvious one (pyproject.toml)."""
    here = Path.cwd()
    if not (here / "envspec.toml").is_file() and (here / "pyproject.toml").is_file():
        out.info("Using pyproject.toml as the spec ([project], [dependency-groups], [tool.envspec])")
    else:
        out.detail("Using envspec.toml as the spec")


def entrypoint() -> NoReturn:
    """The console script ``envspec`` and ``python -m envspec``."""
    sys.exit(main())
