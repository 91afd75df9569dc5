"""Progress is shown on a terminal only, and cleared before the summary."""

from __future__ import annotations

import io

from envspec.cli.render import Output, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_shows_counts_and_bytes_then_clears() -> None:
    err = Terminal()
    progress = Progress(Output(verbosity=0, stdout=io.StringIO(), stderr=err))
    progress("download", 2, 3, 3 * 1048576 // 2)
    progress("install", 1, 3, 0)
    progress.clear()
    text = err.getvalue()
    assert "Downloading 2/3 (1.5 MiB)" in text
    assert "Installing 1/3" in text
    assert text.endswith("\r\x1b[2K")


def test_no_progress_in_a_pipe_or_when_quiet() -> None:
    pipe = io.StringIO()
    Progress(Output(verbosity=0, stdout=io.StringIO(), stderr=pipe))("download", 1, 1, 10)
    quiet = Terminal()
    Progress(Output(verbosity=-1, stdout=io.StringIO(), stderr=quiet))("download", 1, 1, 10)
    assert pipe.getvalue() == "" and quiet.getvalue() == ""
