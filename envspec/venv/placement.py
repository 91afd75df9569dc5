"""Where each file of a wheel lands in a venv, judged before anything is written.

A wheel is data from the internet: its member names, ``.data/<scheme>/`` entries and console-script
names are chosen by its publisher. Before an install writes its journal or any file, every path it
would write is worked out here and must land inside its scheme directory, links resolved, and none
may be the venv's interpreter, ``pyvenv.cfg``, an activation script or envspec's bookkeeping
(:mod:`envspec.venv.confine`); member names and sizes are judged from the archive's directory first
(a zip bomb is refused, not inflated). :class:`UnsafeWheel` says which path. Both installers
(``installers``, ``linked``) and the cache unpack use these checks, so they refuse the same wheels.
"""

from __future__ import annotations

import configparser
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

from installer.utils import parse_entrypoints

from envspec.errors import OutsideWorldError
from envspec.venv.confine import Confinement
from envspec.venv.layout import VenvLayout

__all__ = [
    "MAX_RATIO",
    "MAX_UNPACKED_BYTES",
    "RATIO_FLOOR",
    "Target",
    "UnsafeWheel",
    "WheelInstallFailed",
    "archive_targets",
    "check_archive",
    "check_script_name",
    "confine_targets",
    "planned_paths",
    "scheme_dict",
    "script_variants",
]


class WheelInstallFailed(OutsideWorldError):
    """A wheel could not be installed (not a valid wheel, wrong project, disk error, ...)."""

    def __init__(self, wheel: Path, name: str, reason: str) -> None:
        super().__init__(
            f"Could not install {name} from {str(wheel)!r}: {reason}.",
            hint="The venv was left for the next 'envspec sync' to repair.",
        )
        self.wheel = wheel
        self.name = name
        self.reason = reason


class UnsafeWheel(WheelInstallFailed):
    """A wheel that would write outside its venv (or through a link out of it), replace the venv's
    own interpreter, ``pyvenv.cfg`` or activation scripts, or unpack to far more than it weighs.
    Raised before anything of it is written, so nothing of it is installed."""

    def __init__(self, wheel: Path, name: str, path: str, reason: str) -> None:
        OutsideWorldError.__init__(
            self,
            f"Refused to install {name} from {str(wheel)!r}: {reason}.",
            hint="Nothing of it was installed. Do not use this file; tell its publisher.",
        )
        self.wheel = wheel
        self.name = name
        self.path = path
        """The offending path as the wheel gives it (a member, a script name)."""
        self.reason = reason


MAX_UNPACKED_BYTES = 4 << 30
"""A wheel may unpack to this many bytes, or to 8 times its own size when that is more (the
largest wheels on PyPI, CUDA builds of torch, unpack to about 3 times their size)."""
MAX_RATIO = 200
"""A member bigger than :data:`RATIO_FLOOR` may be at most this many times its compressed size
(source and binaries deflate 3-10:1; zeros deflate 1000:1, which is what a zip bomb is made of)."""
RATIO_FLOOR = 32 << 20
_SIZE_FACTOR = 8

Target = tuple[str, str, str, str]
"""(the scheme directory a file must stay inside, its absolute path, the name the wheel gives
it, what it is: "file" or "console script")."""


def scheme_dict(layout: VenvLayout, name: str) -> dict[str, str]:
    """Scheme name → directory, for project ``name`` in the venv (installer's scheme names)."""
    include = layout.include
    # pip's venv headers location: <venv>/include/site/python3.X/<project>
    if include.name.lower().startswith("python"):
        headers = layout.root / "include" / "site" / include.name / name
    else:
        headers = include / name
    return {
        "purelib": str(layout.purelib),
        "platlib": str(layout.platlib),
        "headers": str(headers),
        "scripts": str(layout.scripts),
        "data": str(layout.data),
    }


def check_archive(archive: zipfile.ZipFile, wheel: Path, name: str) -> list[zipfile.ZipInfo]:
    """The archive's file members, each with a safe relative name and a size within bounds, from
    its central directory; :class:`UnsafeWheel` otherwise. The sizes are the archive's claims:
    the cache unpack counts what it actually writes against them (and ``zipfile`` never inflates
    a member past its declared size)."""
    try:
        wheel_size = os.stat(wheel).st_size
    except OSError:
        wheel_size = 0
    limit = max(MAX_UNPACKED_BYTES, _SIZE_FACTOR * wheel_size)
    total = 0
    members = []
    for info in archive.infolist():
        member = info.filename
        parts = member.split("/")
        if (
            member.startswith("/")
            or "\\" in member
            or "\0" in member
            or ".." in parts
            or ":" in parts[0]
        ):
            raise UnsafeWheel(
                wheel, name, member, f"its member {member!r} would be written outside the venv"
            )
        if member.endswith("/"):
            continue
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnsafeWheel(
                wheel,
                name,
                member,
                f"its member {member!r} inflates {info.compress_size} bytes to "
                f"{info.file_size} (more than {MAX_RATIO}:1): a zip bomb",
            )
        total += info.file_size
        if total > limit:
            raise UnsafeWheel(
                wheel,
                name,
                member,
                f"it unpacks to more than {limit} bytes (at {member!r}): a zip bomb",
            )
        members.append(info)
    return members


def check_script_name(wheel: Path, name: str, script: str) -> None:
    """An entry point's script name becomes a file name in the scripts directory: one plain
    component, never a path."""
    if (
        not script.strip()
        or script in (".", "..")
        or any(c in script for c in "/\\\0")
        or script != script.strip()
    ):
        raise UnsafeWheel(
            wheel, name, script, f"its entry point names the script {script!r}, not a file name"
        )


def script_variants(script: str) -> tuple[str, str, str, str]:
    """Every file name a console script may get (the Windows launcher variants included)."""
    return (script, f"{script}.exe", f"{script}-script.py", f"{script}.pya")


def confine_targets(
    wheel: Path,
    name: str,
    layout: VenvLayout,
    targets: Iterable[Target],
    *,
    follow_last: bool = False,
) -> None:
    """:class:`UnsafeWheel` unless every target lands inside its scheme directory, links
    resolved, and none is the venv's own interpreter, ``pyvenv.cfg``, activation script or
    envspec bookkeeping. ``follow_last``: the installer opens existing files for writing (a link
    at a target would be followed); envspec's own writers replace them instead."""
    confinement = Confinement(layout)
    for directory, path, given, what in targets:
        if not confinement.inside(path, directory, follow_last=follow_last):
            raise UnsafeWheel(
                wheel,
                name,
                given,
                f"its {what} {given!r} would be written outside {directory!r} (to {path!r})",
            )
        if confinement.protected(path):
            raise UnsafeWheel(
                wheel, name, given, f"its {what} {given!r} would replace the venv's own {path!r}"
            )


def planned_paths(
    wheel: Path, layout: VenvLayout, name: str, extra_dist_info: Iterable[str] = ()
) -> list[Path]:
    """Every path installing ``wheel`` into ``layout`` may write, from the archive's file list
    and its ``entry_points.txt`` (console and GUI scripts, with the Windows launcher variants),
    plus the generated dist-info files (INSTALLER and the ``extra_dist_info`` names)."""
    return [Path(p) for _, p, _, _ in archive_targets(wheel, layout, name, extra_dist_info)]


def archive_targets(
    wheel: Path, layout: VenvLayout, name: str, extra_dist_info: Iterable[str] = ()
) -> list[Target]:
    """Every file installing ``wheel`` may write, with the scheme directory it must stay in and
    the name the wheel gives it; :class:`UnsafeWheel` for an unsafe member name, script name or
    size (the destinations themselves are judged by :func:`confine_targets`)."""
    # strings, not pathlib: this runs for every file of every wheel of a sync
    with zipfile.ZipFile(wheel) as archive:
        members = [info.filename for info in check_archive(archive, wheel, name)]
        tops = {m.partition("/")[0] for m in members}
        dist_infos = sorted(t for t in tops if t.endswith(".dist-info"))
        if len(dist_infos) != 1:
            raise ValueError(f"expected one .dist-info directory, found {dist_infos!r}")
        dist_info = dist_infos[0]
        data_dir = dist_info[: -len(".dist-info")] + ".data"
        wheel_text = archive.read(f"{dist_info}/WHEEL").decode("utf-8", errors="replace")
        entry_points = None
        if f"{dist_info}/entry_points.txt" in members:
            entry_points = archive.read(f"{dist_info}/entry_points.txt").decode("utf-8")
    purelib = "root-is-purelib: true" in wheel_text.lower().replace("\r", "")
    schemes = {key: os.path.abspath(value) for key, value in scheme_dict(layout, name).items()}
    root = schemes["purelib" if purelib else "platlib"]
    sep = os.sep
    targets: list[Target] = []
    for member in members:
        top, _, rest = member.partition("/")
        if top == data_dir:
            scheme, _, inner = rest.partition("/")
            if inner:
                directory = schemes.get(scheme, root)
                target = directory + sep + inner.replace("/", sep)
                targets.append((directory, target, member, "file"))
                continue
        targets.append((root, root + sep + member.replace("/", sep), member, "file"))
    for generated in ("INSTALLER", *extra_dist_info):
        path = f"{dist_info}/{generated}"
        targets.append((root, root + sep + path.replace("/", sep), path, "file"))
    if entry_points:
        scripts = schemes["scripts"]
        try:
            parsed = list(parse_entrypoints(entry_points))
        except (AssertionError, configparser.Error) as error:
            raise ValueError(f"invalid entry_points.txt ({error})") from None
        for script, _, _, _ in parsed:
            check_script_name(wheel, name, script)
            for variant in script_variants(script):
                targets.append((scripts, scripts + sep + variant, script, "console script"))
    return [(d, os.path.normpath(p), given, what) for d, p, given, what in targets]
