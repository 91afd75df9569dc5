"""The one install pipeline: indexes + builds + resolve + wheels obtained + a selection installed
into a venv layout. ``lock`` and ``add``/``remove`` resolve through it, ``sync`` installs through
it, and so do the build environments of sources: a backend's ``build-system.requires`` is resolved,
selected, planned and installed exactly as a project's requirements are.

The wiring goes one way. A :class:`Session` opens the indexes (:class:`IndexSource`) with itself
as their metadata builder; once the target interpreter is known (:meth:`Session.building_for`) it
makes the builds (:class:`SourceBuilds`) and hands them :meth:`Session.install_environment` as a
callable. ``envspec.sources`` never imports this module; an sdist whose build environment needs
another sdist built recurses through this pipeline only, never through a command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Self

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from envspec.errors import OutsideWorldError
from envspec.fsutil import cache_root
from envspec.index.download import HashMismatch
from envspec.index.metadata import RefuseToBuild
from envspec.index.source import IndexSource
from envspec.lock.model import LockInputs, build_lock
from envspec.lock.select import select_wanted
from envspec.plan import make_plan
from envspec.resolve import resolve
from envspec.sources.builds import SourceBuilds
from envspec.sources.wheels import ProgressCallback, obtain_wheels
from envspec.spec.model import ResolutionOptions
from envspec.venv.apply import apply_plan
from envspec.venv.create import ensure_venv
from envspec.venv.installed import read_installed
from envspec.venv.linked import CachedUnpackInstaller

if TYPE_CHECKING:
    from packaging.version import Version

    from envspec.resolve.universal import UniversalResolution
    from envspec.values.environments import Environment

    from envspec.plan import Plan
    from envspec.pythons.probe import Probe
    from envspec.resolve.candidates import DirectPackage
    from envspec.spec.model import LinkMode, Spec
    from envspec.values.files import FileInfo
    from envspec.venv.layout import VenvLayout

__all__ = ["UNPACKED_DIRNAME", "Session", "resolve_spec"]

UNPACKED_DIRNAME = "unpacked-v1"
"""The installer's cache of unpacked wheels, under the cache root (one entry per wheel sha256)."""


class Session:
    """One command's indexes and, once the target is known, its builds."""

    def __init__(self, spec: Spec, *, cache_dir: str | None, offline: bool) -> None:
        self.cache_dir = cache_root(cache_dir)
        self.options = spec.resolution
        self._builds: SourceBuilds | None = None
        self._probe: Probe | None = None
        self.source = IndexSource(
            spec.indexes,
            cache_dir=self.cache_dir,
            offline=offline,
            source_urls=_source_urls(spec),
            builder=self,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.source.close()

    @property
    def probe(self) -> Probe:
        assert self._probe is not None, "Session.building_for() was not entered"
        return self._probe

    @property
    def builds(self) -> SourceBuilds:
        assert self._builds is not None, "Session.building_for() was not entered"
        return self._builds

    @contextmanager
    def building_for(self, probe: Probe | None) -> Iterator[SourceBuilds | None]:
        """Builds for the interpreter ``probe`` describes; their work directory removed after.
        Without an interpreter (None), an sdist that needs building is refused, saying why."""
        if probe is None:
            yield None
            return
        builds = SourceBuilds(
            probe=probe,
            cache_dir=self.cache_dir,
            options=self.options,
            install_environment=self.install_environment,
        )
        self._probe, self._builds = probe, builds
        try:
            yield builds
        finally:
            self._probe, self._builds = None, None
            builds.close()

    # -- the index's MetadataBuilder --------------------------------------------------------

    def build_metadata(self, sdist: Path, file: FileInfo) -> bytes:
        """An sdist's METADATA through the builds; refused while no target is known."""
        if self._builds is None:
            return RefuseToBuild().build_metadata(sdist, file)
        return self._builds.build_metadata(sdist, file)

    # -- the pipeline -----------------------------------------------------------------------

    def materialise(self, spec: Spec) -> dict[NormalizedName, DirectPackage]:
        """The spec's ``[sources]``, each downloaded or read and its metadata read or built."""
        if not spec.sources:
            return {}
        # start-up: only for a spec with [sources]
        from envspec.sources.materialise import Materials, materialise
        from envspec.sources.pep517 import source_digest

        source, builds = self.source, self.builds

        def download(file: FileInfo) -> Path:
            try:
                return source.download(file)
            except HashMismatch as error:
                raise OutsideWorldError(
                    f"The file at {error.url} does not match the #sha256= the spec gives for it: "
                    f"expected {file.sha256}, got {error.actual.get('sha256')}.",
                    hint="If the file changed on purpose, put its new sha256 in the spec; otherwise "
                    "something between you and the server is serving other content.",
                ) from None

        return materialise(
            spec,
            Materials(
                download=download,
                archive_metadata=builds.archive_metadata,
                directory_metadata=builds.directory_metadata,
                digest=lambda directory, editable: source_digest(directory, editable=editable),
            ),
        )

    def installer(self, *, link_mode: LinkMode | None = None) -> CachedUnpackInstaller:
        """The installer through the unpacked-wheel cache: each wheel is unzipped once per
        machine, and every later install of it (another venv, a recreated one) links its files."""
        return CachedUnpackInstaller(self.cache_dir / UNPACKED_DIRNAME, link_mode=link_mode)

    def install(
        self,
        plan: Plan,
        layout: VenvLayout,
        *,
        installer: CachedUnpackInstaller,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Every wheel the plan installs obtained and verified before anything is installed
        (:func:`~envspec.sources.wheels.obtain_wheels`), then the plan applied to ``layout``."""
        wheels = obtain_wheels(
            plan.to_install,
            source=self.source,
            builds=self.builds,
            progress=progress,
            unpack=installer.unpacked,
        )
        total = len(plan.actions)
        done = 0

        def step(_action: object) -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress("install", done, total, 0)

        apply_plan(plan, layout, wheels, installer=installer, progress=step)

    def install_environment(self, requirements: Sequence[Requirement], directory: Path) -> Path:
        """A build environment: a venv of the target interpreter at ``directory`` holding exactly
        ``requirements``, resolved from this session's indexes; returns its python."""
        probe = self.probe
        layout, _ = ensure_venv(
            directory, interpreter=probe.path, version=probe.version, scheme=probe.scheme
        )
        options = ResolutionOptions(
            prereleases=self.options.prereleases,
            exclude_newer=self.options.exclude_newer,
            only_binary=self.options.only_binary,
        )
        resolution = resolve(
            {None: requirements}, target=probe.target, source=self.source, options=options
        )
        inputs = LockInputs(
            python="",
            requirements=tuple(map(str, requirements)),
            groups={},
            indexes=(),
            resolution={},
        )
        lock = build_lock(resolution, inputs, probe.target)
        selection = select_wanted(lock, probe.target, [], directory / "pylock.toml")
        assert selection is not None
        plan = make_plan(selection, read_installed(layout))
        if not plan.is_empty():
            self.install(plan, layout, installer=self.installer())
        return layout.python


def resolve_spec(
    spec: Spec,
    find_probe: Callable[[], Probe],
    *,
    environments: Sequence[Environment],
    preferred: Callable[[Environment], Mapping[NormalizedName, Version]],
    upgrade: bool | frozenset[NormalizedName],
    cache_dir: str | None,
    offline: bool,
) -> UniversalResolution:
    """Resolve the spec for every environment the lock covers (none of them needs an
    interpreter: their markers and tags are data).

    An interpreter is still probed (``find_probe``) for what only running Python can do: building
    an sdist's or a source directory's metadata. Its page downloads start first and overlap the
    probe (and the import of the HTTP stack, which happens in the fetching thread). When no
    interpreter fits the spec, resolution goes on and only a build, if one is needed, fails."""
    from envspec.pythons.discover import InterpreterNotFound  # start-up: a resolution's cost
    from envspec.resolve.universal import resolve_universal

    requirements: dict[str | None, Sequence[Requirement]] = {None: spec.requirements}
    requirements.update({str(name): reqs for name, reqs in spec.groups.items()})
    names = {canonicalize_name(r.name) for reqs in requirements.values() for r in reqs}
    with Session(spec, cache_dir=cache_dir, offline=offline) as session:
        session.source.prefetch(sorted(names - set(spec.sources)))
        try:
            probe: Probe | None = find_probe()
        except InterpreterNotFound:
            if spec.sources:
                raise  # [sources] are built (or read) with an interpreter of the spec's
            probe = None
        with session.building_for(probe):
            direct = session.materialise(spec)
            return resolve_universal(
                requirements,
                environments=environments,
                source=session.source,
                options=spec.resolution,
                preferred=preferred,
                upgrade=upgrade,
                direct=direct,
                required=spec.required_environments,
            )


def _source_urls(spec: Spec) -> list[str]:
    """The spec's source URLs as written: their credentials serve the lock's redacted URLs."""
    return [source.url for source in spec.sources.values() if source.url is not None]
