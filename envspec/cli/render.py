"""Results into words: where each kind of text goes, and how each command's result reads.

The handlers (:mod:`envspec.cli.handlers`) call a command and hand its result here; nothing here
computes anything a command could need, so the wording of envspec lives in one place and the
commands never print. What a value says about itself in one line (a plan action, a lock change,
a drift finding) stays with the value; this module arranges those lines for a person or a machine.

Results on stdout (a machine may read them, so they are printed even with ``--quiet``); progress,
notes and errors on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from envspec.errors import EnvspecError

if TYPE_CHECKING:
    from envspec.drift import DriftReport
    from envspec.commands.init import InitResult
    from envspec.commands.lock import LockResult
    from envspec.commands.show import PythonsResult
    from envspec.commands.sync import SyncResult

__all__ = [
    "Output",
    "Progress",
    "check_report",
    "edit_result",
    "init_result",
    "lock_changes",
    "lock_result",
    "packages",
    "python_document",
    "python_list",
    "sync_result",
]


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


class Progress:
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


def packages(count: int) -> str:
    """``1 package``, ``2 packages``."""
    return f"{count} package" if count == 1 else f"{count} packages"


# ── one function per result ──────────────────────────────────────────────────────────────────


def init_result(result: InitResult, out: Output) -> None:
    if result.pyproject:
        out.info(
            f"{result.path.name} is already a spec for envspec (requires-python = "
            f"{result.python!r}, [project].dependencies, [dependency-groups]); put envspec's "
            "own settings under [tool.envspec]. Nothing written."
        )
        out.info("Run `envspec sync`, or `envspec init --envspec-toml` for a separate file.")
        return
    out.info(f'Wrote {result.path} with python = "{result.python}" ({result.note}).')
    out.info("Add requirements to it, then run `envspec sync`.")


def lock_result(result: LockResult, elapsed: float, out: Output) -> None:
    if result.fresh_without_resolving:
        out.info(f"{result.path.name} is fresh ({packages(result.package_count)}); nothing to do.")
        return
    where = ""
    if result.environments > 1:
        shared = result.resolutions
        where = (
            f" for {result.environments} environments ({shared} "
            f"{'resolution' if shared == 1 else 'resolutions'})"
        )
    out.info(f"Resolved {packages(result.package_count)}{where} in {elapsed:.2f}s")
    for split in result.splits:
        out.detail(f"  split: {split}")
    if result.left_out:
        out.info(
            f"Not covered ({len(result.left_out)} of the environments the spec allows have no "
            "solution; `required-environments` makes that an error):"
        )
        shown = result.left_out if out.verbosity > 0 else result.left_out[:4]
        for line in shown:
            out.info(f"  {line}")
        if len(shown) < len(result.left_out):
            out.info(f"  ... and {len(result.left_out) - len(shown)} more (-v lists them)")
    for change in result.changes:
        out.info(f"  {change}")
    if result.written:
        out.info(f"Wrote {result.path}")
    else:
        out.info(f"{result.path.name} unchanged")


def lock_changes(result: LockResult | None, out: Output) -> None:
    """What a re-lock on the way (sync, add, remove) changed; nothing when it changed nothing."""
    if result is not None and result.changes:
        out.info(f"Locked {packages(result.package_count)}:")
        for change in result.changes:
            out.info(f"  {change}")


def sync_result(result: SyncResult, elapsed: float, out: Output) -> None:
    lock_changes(result.lock, out)
    plan = result.plan
    if plan is None:
        out.info(f"{result.venv} is in sync; nothing to do.")
        return
    if result.dry_run:
        if result.created:
            out.result(f"would create {result.venv} with {result.interpreter}")
        for action in plan.actions:
            out.result(str(action))
        if plan.is_empty():
            out.result("nothing to do")
        return
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


def python_document(result: PythonsResult) -> dict[str, Any]:
    """``envspec python --json``."""
    return {
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


def python_list(result: PythonsResult, out: Output) -> None:
    """``envspec python``: one line per interpreter, the chosen one starred."""
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


def check_report(report: DriftReport, *, as_json: bool, out: Output) -> None:
    """The report on stdout; a clean one in words goes to stderr (nothing to act on)."""
    if as_json:
        import json  # only --json needs it

        out.result(json.dumps(report.to_json(), indent=2))
    elif report.is_clean():
        out.info(report.render_text())
    else:
        out.result(report.render_text())


def edit_result(
    written: tuple[str, ...], removed: list[str], *, group: str | None, spec_path: Path, out: Output
) -> None:
    """What ``add`` / ``remove`` changed in the spec (secrets in URLs redacted)."""
    from envspec.values.urls import redact_text  # only an edit needs it

    where = f"group {group!r} of " if group else ""
    for text in written:
        out.info(f"Added {redact_text(text)!r} to {where}{spec_path.name}")
    for name in removed:
        out.info(f"Removed {name!r} from {where}{spec_path.name}")
