"""Building for one command: sdists and source directories → metadata and wheels, for one target.

:mod:`envspec.sources.pep517` runs backends; this module decides *what* to build and *where it comes from*:
an sdist is unpacked once per command, and every wheel built is kept in the built-wheel cache under
the sdist's sha256 (or a directory's digest) and the target, so that a second sync builds nothing.
The isolated build environment of a source is installed by the caller's ``install_environment``
callable (the session pipeline of :mod:`envspec.commands.session`: the same resolver, indexes, lock
selection and installer as a sync, for the same target interpreter); this module never installs.

It is also the index's :class:`~envspec.index.metadata.MetadataBuilder` (through the session):
resolution asks it for an sdist's metadata when the sdist's PKG-INFO cannot be trusted.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, parse_sdist_filename

from envspec.errors import EnvspecError, UserError

if TYPE_CHECKING:
    from envspec.sources.pep517 import Builder, BuiltWheelCache
    from envspec.pythons.probe import Probe
    from envspec.values.files import FileInfo
    from envspec.spec.model import ResolutionOptions

__all__ = ["BUILT_WHEELS_DIRNAME", "EnvironmentInstaller", "SourceBuilds", "target_key"]

_output = logging.getLogger("envspec.sources.pep517.output")


def _log_line(line: str) -> None:
    if _output.isEnabledFor(logging.INFO):
        _output.info("%s", line)


BUILT_WHEELS_DIRNAME = "built-v1"

EnvironmentInstaller = Callable[[Sequence[Requirement], Path], Path]
"""``install_environment(requirements, directory)``: a venv of the target interpreter at
``directory`` holding exactly ``requirements``, resolved and installed; returns its python."""


def target_key(probe: Probe) -> str:
    """What a built wheel depends on besides its source: the interpreter's version, kind and
    platform (as its most specific tag says). Short, for a cache path."""
    target = probe.target
    facts = "|".join(
        (
            target.markers["implementation_name"],
            target.markers["python_full_version"],
            str(target.tags[0]) if target.tags else "",
        )
    )
    return hashlib.sha256(facts.encode()).hexdigest()[:16]


class SourceBuilds:
    """Metadata and wheels of sources, built for the interpreter ``probe`` describes.

    ``install_environment`` installs a build environment (see :data:`EnvironmentInstaller`).
    ``options``: the spec's resolution options; only-binary refuses every build up front.
    """

    def __init__(
        self,
        *,
        probe: Probe,
        cache_dir: Path,
        options: ResolutionOptions,
        install_environment: EnvironmentInstaller,
        on_output: Callable[[str], None] | None = None,
        on_build: Callable[[str], None] | None = None,
    ) -> None:
        """``on_output`` receives each line a backend prints; by default the lines go to the
        ``envspec.sources.pep517.output`` logger, which ``--verbose`` shows."""
        self.probe = probe
        self.options = options
        self._cache_dir = cache_dir
        self._install_environment = install_environment
        self._on_output = on_output or _log_line
        self._on_build = on_build
        self._made: tuple[Path, Builder, BuiltWheelCache] | None = None
        self._sdists: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._provisioned: dict[Path, list[Requirement]] = {}

    def close(self) -> None:
        if self._made is not None:
            self._made[1].close()
            shutil.rmtree(self._made[0], ignore_errors=True)

    def _machinery(self) -> tuple[Path, Builder, BuiltWheelCache]:
        """Made on first use: most commands build nothing, and need not import the machinery."""
        with self._lock:
            if self._made is None:
                from envspec.sources.pep517 import Builder, BuiltWheelCache

                work = Path(tempfile.mkdtemp(prefix="envspec-build-"))
                builder = Builder(
                    provision=self._provision, work_dir=work / "builder", on_output=self._on_output
                )
                self._made = (
                    work,
                    builder,
                    BuiltWheelCache(self._cache_dir / BUILT_WHEELS_DIRNAME),
                )
            return self._made

    @property
    def _work(self) -> Path:
        return self._machinery()[0]

    @property
    def _builder(self) -> Builder:
        return self._machinery()[1]

    @property
    def _cache(self) -> BuiltWheelCache:
        return self._machinery()[2]

    # -- metadata ------------------------------------------------------------------------------

    def build_metadata(self, sdist: Path, file: FileInfo) -> bytes:
        """The :class:`~envspec.index.metadata.MetadataBuilder` seam: an index sdist's METADATA."""
        name, version = parse_sdist_filename(file.filename)
        self._refuse_if_binary_only(name, f"{file.filename}")
        root = self._unpacked_sdist(sdist, file.sha256 or file.filename)
        return self._builder.metadata(root, package=f"{name} {version}")

    def directory_metadata(self, directory: Path, name: NormalizedName, editable: bool) -> bytes:
        self._refuse_if_binary_only(name, str(directory))
        return self._builder.metadata(directory, package=f"{name} ({directory})", editable=editable)

    def archive_metadata(self, archive: Path, file: FileInfo) -> bytes:
        """METADATA of a wheel or sdist given by path or URL (a ``[sources]`` archive)."""
        import zipfile

        from envspec.index.metadata import pkg_info_is_static, sdist_pkg_info, wheel_metadata

        if file.filename.endswith(".whl"):
            with zipfile.ZipFile(archive) as opened:
                return wheel_metadata(opened, file)
        try:
            data = sdist_pkg_info(archive, file)
        except Exception:  # no usable PKG-INFO: the backend says
            data = b""
        if data and pkg_info_is_static(data):
            return data
        return self.build_metadata(archive, file)

    # -- wheels --------------------------------------------------------------------------------

    def sdist_wheel(self, sdist: Path, sha256: str, name: NormalizedName, version: str) -> Path:
        """The wheel of an sdist for this target: from the cache, else built and cached."""
        key = f"sdist/{sha256}/{target_key(self.probe)}"
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        self._refuse_if_binary_only(name, sdist.name)
        if self._on_build is not None:
            self._on_build(f"{name} {version}")
        root = self._unpacked_sdist(sdist, sha256)
        built = self._builder.build(
            root, self._work / "wheels" / sha256, package=f"{name} {version}"
        )
        return self._cache.put(key, built)

    def directory_wheel(
        self, directory: Path, name: NormalizedName, *, editable: bool, digest: str | None
    ) -> Path:
        """The (editable) wheel of a local source directory; cached under its digest, so an
        unchanged directory is built once per target."""
        from envspec.sources.pep517 import source_digest

        self._refuse_if_binary_only(name, str(directory))
        current = source_digest(directory, editable=editable)
        where = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
        kind = "editable" if editable else "wheel"
        key = f"dir/{where}/{kind}-{current.split(':')[-1][:32]}/{target_key(self.probe)}"
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self._on_build is not None:
            self._on_build(f"{name} ({directory})")
        out = self._work / "wheels" / where / kind
        built = self._builder.build(
            directory, out, package=f"{name} ({directory})", editable=editable
        )
        return self._cache.put(key, built)

    # -- internals -----------------------------------------------------------------------------

    def _refuse_if_binary_only(self, name: NormalizedName, what: str) -> None:
        if self.options.requires_binary(name):
            raise UserError(
                f"{name} ({what}) would have to be built from source, and the spec's "
                "resolution.only-binary forbids building it.",
                hint=f"Remove {name!r} (or ':all:') from only-binary, or use a source that is a "
                "wheel.",
            )

    def _unpacked_sdist(self, sdist: Path, key: str) -> Path:
        from envspec.sources.pep517 import unpack_sdist

        work = self._work
        with self._lock:
            found = self._sdists.get(key)
            if found is None:
                found = unpack_sdist(sdist, Path(tempfile.mkdtemp(prefix="sdist-", dir=work)))
                self._sdists[key] = found
            return found

    def _provision(self, requirements: Sequence[Requirement], directory: Path) -> Path:
        """A build environment at ``directory`` holding ``requirements`` (and what was asked
        for there before): a venv of the target interpreter, resolved and installed by envspec."""
        everything = [*self._provisioned.get(directory, []), *requirements]
        self._provisioned[directory] = everything
        try:
            return self._install_environment(everything, directory)
        except EnvspecError as error:
            from envspec.sources.pep517 import packages_being_built

            stack = packages_being_built()
            whose = stack[-1] if stack else "a source"
            wanted = ", ".join(map(str, requirements)) or "nothing"
            error.message = (
                f"Cannot set up the build environment of {whose} (it needs {wanted}): "
                f"{error.message}"
            )
            raise
