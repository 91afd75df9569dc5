"""Fakes for :class:`envspec.venv.installers.WheelInstaller`: watch or break an install through the
Protocol alone, never by patching an installer's private methods.

:class:`HookedInstaller` wraps a real installer and calls ``before_run`` (the journal is on disk,
nothing of the wheel written yet) and ``after_run`` (every file written, RECORD last) around each
prepared install, with the paths the install planned (what its journal lists); a hook may raise or
end the process to play a crash at that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName

from envspec.venv.dist_info import NO_EXTRA
from envspec.venv.installers import PreparedInstall, WheelInstaller
from envspec.venv.layout import VenvLayout

__all__ = ["HookedInstaller", "Hook"]

Hook = Callable[[VenvLayout, NormalizedName, list[str]], None]
"""(the venv, the project, the absolute paths its install planned)."""


def _nothing(layout: VenvLayout, name: NormalizedName, planned: list[str]) -> None:
    return None


class HookedInstaller(WheelInstaller):
    """``inner``'s installs, with ``before_run`` and ``after_run`` called around each one."""

    def __init__(
        self, inner: WheelInstaller, *, before_run: Hook = _nothing, after_run: Hook = _nothing
    ) -> None:
        self.inner = inner
        self.before_run = before_run
        self.after_run = after_run
        self.prepared: list[NormalizedName] = []
        """The projects prepared, in order."""

    def prepare(
        self,
        wheel: Path,
        layout: VenvLayout,
        *,
        name: NormalizedName,
        sha256: str | None = None,
        extra_dist_info: Mapping[str, bytes] = NO_EXTRA,
    ) -> PreparedInstall:
        prepared = self.inner.prepare(
            wheel, layout, name=name, sha256=sha256, extra_dist_info=extra_dist_info
        )
        self.prepared.append(name)
        return _Hooked(prepared, self, layout, name)


@dataclass(frozen=True)
class _Hooked:
    prepared: PreparedInstall
    hooks: HookedInstaller
    layout: VenvLayout
    name: NormalizedName

    def planned_paths(self) -> list[str]:
        return self.prepared.planned_paths()

    def run(self) -> None:
        planned = self.prepared.planned_paths()
        self.hooks.before_run(self.layout, self.name, planned)
        self.prepared.run()
        self.hooks.after_run(self.layout, self.name, planned)
