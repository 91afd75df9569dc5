"""Running the real envspec CLI in a subprocess, as a user (or CI) does."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Project", "run_envspec"]


def run_envspec(*args: str, cwd: Path, env: dict[str, str] | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "envspec", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def _skip_without_interpreter(body: str) -> None:
    """A spec whose ``python`` no interpreter here satisfies would fail for want of a Python, not
    for what the test checks: skip it, naming the Python it needs."""
    import tomllib

    from tests.support.pythons import skip_unless_python

    try:
        python = tomllib.loads(body).get("python")
    except tomllib.TOMLDecodeError:
        return  # a test of a broken spec
    if isinstance(python, str) and python.strip():
        try:
            skip_unless_python(python)
        except ValueError:
            return  # a test of a bad specifier


@dataclass
class Project:
    """A project directory with an envspec.toml that points at a loopback index."""

    root: Path
    index_url: str

    def write_spec(self, body: str, *, index_url: str | None = None) -> None:
        url = index_url or self.index_url
        _skip_without_interpreter(body)
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "envspec.toml").write_text(
            f'{body.rstrip()}\n\n[[index]]\nname = "loopback"\nurl = "{url}"\n'
        )

    def envspec(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_envspec(*args, cwd=self.root, env=env)

    @property
    def lock_text(self) -> str:
        return (self.root / "pylock.toml").read_text(encoding="utf-8")

    def locked(self) -> dict[str, str]:
        import tomllib

        data = tomllib.loads(self.lock_text)
        return {p["name"]: p["version"] for p in data["packages"]}
