"""Running a source tree's PEP 517 build backend: its metadata, its wheel, its editable wheel.

The backend runs in a subprocess of the *target* interpreter (the one the wheel is for, which need
not be the one running envspec), inside an isolated build environment holding only the tree's
``build-system.requires`` (plus what the backend's ``get_requires_for_build_*`` hook adds). Making
that environment is injected as a :data:`Provision` callable: the caller resolves and installs the
requirements with envspec itself, which may in turn build other sources with this same
:class:`Builder`. pypa's ``pyproject_hooks`` speaks the hook protocol and implements the fallbacks
PEP 517 allows (metadata from a built wheel when ``prepare_metadata_*`` is missing); this module
owns the environments, the subprocess (output captured, environment cleaned), and turning every
failure into one :class:`BuildFailed` a user can read.

Concurrency: the resolver asks for metadata from several threads. One environment serves one
(source directory, editable) pair and is reused by its metadata and build calls; a lock per pair
makes two calls for the same source wait for each other, while different sources build in
parallel. A build requirement that itself needs building re-enters the builder from inside
``provision``; a stack of the packages under construction turns an endless ``a -> b -> a`` into a
:class:`BuildFailed` instead of a hang. The stack is a :mod:`contextvars` variable: per thread,
like a thread-local, and carried into worker threads when the caller submits work with
``contextvars.copy_context().run`` (which the caller must do if ``provision`` resolves in worker
threads; otherwise a cycle crossing threads waits on the per-source lock forever).
"""

from __future__ import annotations

import contextvars
import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pyproject_hooks import (
    BackendUnavailable,
    BuildBackendHookCaller,
    HookMissing,
    UnsupportedOperation,
)

from envspec.sources.pep517.backend import BuildSystem, read_build_system
from envspec.errors import OutsideWorldError
from envspec.fsutil import atomic_copy

__all__ = ["BuildFailed", "Builder", "Provision", "packages_being_built"]

Provision = Callable[[Sequence[Requirement], Path], Path]
"""``provision(requirements, directory) -> python``: make a Python environment at ``directory``
(new and empty on the first call) holding ``requirements``, and return its python executable.
Called again on the same directory with *additional* requirements (those a backend's
``get_requires_for_build_*`` hook asks for): then it adds them to that environment."""

_T = TypeVar("_T")
_DROPPED_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "__PYVENV_LAUNCHER__")
_building: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "envspec_build_stack", default=()
)


def packages_being_built() -> tuple[str, ...]:
    """The packages this thread is building, outermost first (for messages about their build
    environments, which the :data:`Provision` callable makes without knowing whose they are)."""
    return _building.get()


class BuildFailed(OutsideWorldError):
    """A source could not be built: the backend failed, is missing, or lacks a needed hook.

    ``package`` is what the caller called the source ("docopt 0.6.2"), ``hook`` the PEP 517 hook
    that failed (None when no hook ran, e.g. a cyclic build dependency), ``output`` the last lines
    the backend printed, ``reason`` what went wrong when it is not just "the backend failed".
    """

    def __init__(
        self,
        package: str,
        hook: str | None,
        output: Sequence[str] = (),
        *,
        reason: str | None = None,
        hint: str | None = None,
    ) -> None:
        headline = f"building {package} failed"
        if hook is not None:
            headline += f" in {hook}"
        if reason:
            headline += f": {reason}"
        lines = [headline]
        if output:
            lines.append("The build backend's last output:")
            lines.extend(f"    {line}" for line in output)
        super().__init__(
            "\n".join(lines),
            hint=hint or ("Run with --verbose to see the whole build output." if output else None),
        )
        self.package = package
        self.hook = hook
        self.output = tuple(output)
        self.reason = reason


class _HookProcessFailed(Exception):
    """The hook subprocess exited non-zero (raised by the runner, caught by the Builder)."""

    def __init__(self, returncode: int) -> None:
        super().__init__(returncode)
        self.returncode = returncode


@dataclass(slots=True, kw_only=True, eq=False)
class _Session:
    """The build state of one (source directory, editable) pair; mutated under ``lock`` only."""

    source_dir: Path
    editable: bool
    directory: Path
    lock: threading.Lock = field(default_factory=threading.Lock)
    build_system: BuildSystem | None = None
    python: Path | None = None
    provisioned: set[str] = field(default_factory=set)
    metadata_dir: Path | None = None
    """The ``.dist-info`` directory prepared by the metadata hook, passed on to the build hook."""
    metadata: bytes | None = None


class Builder:
    """Builds source trees with their own backends, each in its own isolated environment.

    ``work_dir`` holds the environments, prepared metadata and wheels in progress (never the
    source tree: it may be read-only or the user's own project; only what a backend itself writes
    lands there, as setuptools' ``*.egg-info``). ``output_lines``: how many of the backend's last
    lines a :class:`BuildFailed` quotes. ``on_output`` receives every line the backend prints
    (``--verbose``); it is called from the thread running the build.
    """

    def __init__(
        self,
        *,
        provision: Provision,
        work_dir: Path,
        output_lines: int = 25,
        on_output: Callable[[str], None] | None = None,
    ) -> None:
        self._provision = provision
        self._work_dir = Path(work_dir).absolute()
        self._output_lines = max(1, output_lines)
        self._on_output = on_output
        self._sessions: dict[tuple[Path, bool], _Session] = {}
        self._sessions_lock = threading.Lock()
        self._created_work_dir = False
        self._closed = False

    # -- public API -------------------------------------------------------------------------

    def metadata(self, source_dir: Path, *, package: str, editable: bool = False) -> bytes:
        """The core metadata (``METADATA`` bytes) the backend declares for ``source_dir``.

        Runs ``prepare_metadata_for_build_wheel`` (``..._editable`` with ``editable``); a backend
        without that hook builds the wheel and its metadata is read from it (the wheel is then
        reused by :meth:`build`).
        """
        with self._guard(package):
            session = self._session(source_dir, editable, package)
            with session.lock:
                if session.metadata is not None:
                    return session.metadata
                self._prepare(session, package)
                target = Path(tempfile.mkdtemp(prefix="metadata-", dir=session.directory))
                if editable:
                    hook = "prepare_metadata_for_build_editable"
                    name: object = self._hook(
                        package,
                        session,
                        hook,
                        lambda caller: caller.prepare_metadata_for_build_editable(str(target)),
                    )
                else:
                    hook = "prepare_metadata_for_build_wheel"
                    name = self._hook(
                        package,
                        session,
                        hook,
                        lambda caller: caller.prepare_metadata_for_build_wheel(str(target)),
                    )
                dist_info = target / _plain_name(package, hook, name)
                try:
                    data = (dist_info / "METADATA").read_bytes()
                except OSError:
                    raise BuildFailed(
                        package, hook, reason=f"the backend wrote no METADATA in {name!r}"
                    ) from None
                session.metadata_dir = dist_info
                session.metadata = data
                return data

    def build(
        self, source_dir: Path, out_dir: Path, *, package: str, editable: bool = False
    ) -> Path:
        """Build a wheel (``build_wheel``, or PEP 660's ``build_editable``) of ``source_dir`` into
        ``out_dir``; return its path. The wheel appears in ``out_dir`` complete or not at all."""
        with self._guard(package):
            session = self._session(source_dir, editable, package)
            with session.lock:
                self._prepare(session, package)
                staging = Path(tempfile.mkdtemp(prefix="wheel-", dir=session.directory))
                metadata_dir = str(session.metadata_dir) if session.metadata_dir else None
                if editable:
                    hook = "build_editable"
                    name: object = self._hook(
                        package,
                        session,
                        hook,
                        lambda caller: caller.build_editable(str(staging), None, metadata_dir),
                    )
                else:
                    hook = "build_wheel"
                    name = self._hook(
                        package,
                        session,
                        hook,
                        lambda caller: caller.build_wheel(str(staging), None, metadata_dir),
                    )
                built = staging / _plain_name(package, hook, name)
                if not built.name.endswith(".whl") or not built.is_file():
                    raise BuildFailed(package, hook, reason=f"the backend built no wheel ({name!r})")
                result = _move_into(built, Path(out_dir))
                shutil.rmtree(staging, ignore_errors=True)
                return result

    def close(self) -> None:
        """Remove every environment and file this builder made under ``work_dir``."""
        with self._sessions_lock:
            self._closed = True
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            with session.lock:
                shutil.rmtree(session.directory, ignore_errors=True)
        if self._created_work_dir:
            try:
                self._work_dir.rmdir()
            except OSError:
                pass  # something else put files there: not ours to remove

    def __enter__(self) -> Builder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- sessions and the cycle guard -------------------------------------------------------

    @contextmanager
    def _guard(self, package: str) -> Iterator[None]:
        stack = _building.get()
        key = _package_key(package)
        if key in (_package_key(entry) for entry in stack):
            start = [_package_key(entry) for entry in stack].index(key)
            chain = " -> ".join([*stack[start:], package])
            raise BuildFailed(package, None, reason=f"cyclic build dependency: {chain}")
        token = _building.set((*stack, package))
        try:
            yield
        finally:
            _building.reset(token)

    def _session(self, source_dir: Path, editable: bool, package: str) -> _Session:
        source = Path(source_dir).resolve()
        if not source.is_dir():
            raise BuildFailed(package, None, reason=f"{str(source_dir)!r} is not a directory")
        with self._sessions_lock:
            if self._closed:
                raise RuntimeError("this Builder is closed")
            key = (source, editable)
            session = self._sessions.get(key)
            if session is None:
                if not self._work_dir.exists():
                    self._work_dir.mkdir(parents=True)
                    self._created_work_dir = True
                digest = hashlib.sha256(f"{source}\0{editable}".encode()).hexdigest()[:12]
                label = re.sub(r"[^a-z0-9]+", "-", source.name.lower()).strip("-") or "source"
                suffix = "-editable" if editable else ""
                directory = self._work_dir / f"{label[:40]}-{digest}{suffix}"
                shutil.rmtree(directory, ignore_errors=True)  # a leftover of a killed run
                directory.mkdir()
                session = _Session(source_dir=source, editable=editable, directory=directory)
                self._sessions[key] = session
            return session

    # -- the environment --------------------------------------------------------------------

    def _prepare(self, session: _Session, package: str) -> None:
        """Read the build system and provision the environment, once per session."""
        if session.build_system is None:
            session.build_system = read_build_system(session.source_dir)
        if session.python is not None:
            return
        requires = session.build_system.requires
        env_dir = session.directory / "env"
        shutil.rmtree(env_dir, ignore_errors=True)  # a provision that failed half-way
        session.python = Path(self._provision(requires, env_dir))
        session.provisioned.update(str(req) for req in requires)
        if session.editable:
            hook = "get_requires_for_build_editable"
            raw: object = self._hook(
                package, session, hook, lambda caller: caller.get_requires_for_build_editable()
            )
        else:
            hook = "get_requires_for_build_wheel"
            raw = self._hook(
                package, session, hook, lambda caller: caller.get_requires_for_build_wheel()
            )
        missing = [
            req
            for req in _parse_requirements(package, hook, raw)
            if str(req) not in session.provisioned
        ]
        if missing:
            session.python = Path(self._provision(missing, env_dir))
            session.provisioned.update(str(req) for req in missing)

    def _hook(
        self,
        package: str,
        session: _Session,
        hook: str,
        invoke: Callable[[BuildBackendHookCaller], _T],
    ) -> _T:
        """Run one hook; every way it can fail becomes a :class:`BuildFailed`."""
        assert session.build_system is not None and session.python is not None
        backend = session.build_system.backend
        tail = _OutputTail(self._output_lines, self._on_output)
        try:
            caller = BuildBackendHookCaller(
                str(session.source_dir),
                backend,
                backend_path=list(session.build_system.backend_path or ()) or None,
                runner=tail.run,
                python_executable=str(session.python),
            )
        except ValueError as error:  # a backend-path leaving the tree through a symlink
            raise BuildFailed(package, hook, reason=str(error)) from None
        try:
            return invoke(caller)
        except _HookProcessFailed as error:
            reason = None if error.returncode > 0 else f"killed by signal {-error.returncode}"
            raise BuildFailed(package, hook, tail.lines(), reason=reason) from None
        except BackendUnavailable as error:
            traceback = error.traceback.strip().splitlines()
            if self._on_output is not None:
                for line in traceback:
                    self._on_output(line)
            cause = f" ({traceback[-1].strip()})" if traceback else ""
            raise BuildFailed(
                package,
                hook,
                tail.lines(),
                reason=f"its build backend {backend!r} cannot be imported{cause}",
                hint="The source's build-system.requires must provide its build-backend.",
            ) from None
        except HookMissing as error:
            if error.hook_name in ("build_editable", "prepare_metadata_for_build_editable"):
                reason = (
                    f"its build backend {backend!r} does not support editable installs "
                    "(it has no PEP 660 build_editable hook)"
                )
            else:
                reason = f"its build backend {backend!r} has no {error.hook_name} hook"
            raise BuildFailed(package, hook, tail.lines(), reason=reason) from None
        except UnsupportedOperation as error:
            output = [*tail.lines(), *error.traceback.splitlines()][-self._output_lines :]
            raise BuildFailed(package, hook, output, reason="the backend refused") from None
        except OSError as error:  # the interpreter could not be started
            raise BuildFailed(
                package, hook, tail.lines(), reason=f"the build could not run ({error})"
            ) from None


class _OutputTail:
    """The subprocess runner handed to ``pyproject_hooks``: cleaned environment, stdout and stderr
    merged and captured line by line, the last lines kept for the error message."""

    def __init__(self, keep: int, on_output: Callable[[str], None] | None) -> None:
        self._tail: deque[str] = deque(maxlen=keep)
        self._on_output = on_output

    def lines(self) -> tuple[str, ...]:
        return tuple(self._tail)

    def _emit(self, line: str) -> None:
        self._tail.append(line)
        if self._on_output is not None:
            self._on_output(line)

    def run(
        self,
        cmd: Sequence[str],
        cwd: str | None = None,
        extra_environ: Mapping[str, str] | None = None,
    ) -> None:
        env = _hook_environment(extra_environ)
        process = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        try:
            with process.stdout:
                for raw in process.stdout:
                    self._emit(raw.decode("utf-8", "replace").rstrip("\r\n"))
        except BaseException:  # on_output failed, or Ctrl-C: leave no orphan behind
            process.kill()
            process.wait()
            raise
        returncode = process.wait()
        if returncode != 0:
            raise _HookProcessFailed(returncode)
        if len(cmd) >= 4:
            self._take_warnings(Path(cmd[3]) / "output.json")

    def _take_warnings(self, output_json: Path) -> None:
        """Move the backend's warnings from the hook's output file into the captured output.

        ``pyproject_hooks`` would re-issue them with ``warnings.warn_explicit`` in this process,
        where they would reach the user's terminal outside ``--verbose`` (or, under a warnings
        filter of "error", abort the build). The control directory is the hook script's second
        argument, per its documented protocol.
        """
        try:
            data = json.loads(output_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # pyproject_hooks reports a missing or broken output file itself
        found = data.get("warnings") if isinstance(data, dict) else None
        if not found:
            return
        for warning in found:
            if isinstance(warning, dict):
                self._emit(
                    f"warning: {warning.get('filename')}:{warning.get('lineno')}: "
                    f"{warning.get('message')}"
                )
        data["warnings"] = []
        output_json.write_text(json.dumps(data), encoding="utf-8")


def _hook_environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    """This process's environment minus what would leak into an isolated build: a PYTHONPATH or
    PYTHONHOME of the caller, pip's settings, the user site-packages."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in _DROPPED_ENV and not name.upper().startswith("PIP_")
    }
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"  # the output arrives line by line, for --verbose
    env["PYTHONIOENCODING"] = "utf-8"  # decoded as UTF-8 above, whatever the locale
    if extra:
        env.update(extra)
    return env


def _package_key(package: str) -> str:
    """``"Foo_Bar 1.0"`` and ``"foo-bar 1.0"`` are the same package being built."""
    name, _, rest = package.strip().partition(" ")
    return f"{canonicalize_name(name)} {rest.strip()}".strip()


def _parse_requirements(package: str, hook: str, raw: object) -> list[Requirement]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise BuildFailed(package, hook, reason=f"the backend returned {raw!r}, not a list of strings")
    requirements = []
    for text in raw:
        try:
            requirements.append(Requirement(text))
        except InvalidRequirement as error:
            raise BuildFailed(
                package, hook, reason=f"the backend asked for {text!r}, not a requirement ({error})"
            ) from None
    return requirements


def _plain_name(package: str, hook: str, name: object) -> str:
    """A hook's returned file name, refused unless it is a plain name inside the directory."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
        raise BuildFailed(package, hook, reason=f"the backend returned {name!r}, not a file name")
    return name


def _move_into(built: Path, out_dir: Path) -> Path:
    """Move ``built`` into ``out_dir``; the wheel appears there whole or not at all."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / built.name
    try:
        os.replace(built, target)  # atomic on one filesystem
        return target
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
    # another filesystem: copy to a temporary name beside the target, then rename
    atomic_copy(built, target)
    return target
