"""One resolution for every environment a lock covers.

resolvelib resolves for one environment; a team's lock must serve many (each CPython minor the spec
allows, on Linux, macOS and Windows, x86-64 and arm64). Forking resolvelib's state on markers, as uv
does with its own resolver, is not possible, so the environments are resolved one after another
and merged (PDM's lock targets), made cheap and consistent by two rules:

- **Same answers, same resolution.** A resolution is a pure function of the answers it got to its
  environment-dependent questions (a marker's value, a Requires-Python check, whether a version
  has an installable file, the version to try first). Each resolution records them; before
  resolving for the next environment, the recorded questions of every earlier resolution are asked
  again there, and when every answer is the same, that resolution is reused as it is. A spec with
  no platform-specific dependency resolves once, whatever the number of environments.
- **Versions agree wherever possible.** The versions chosen for earlier environments are tried
  first in later ones (the ``locked`` preference an existing lock uses), and environments are
  resolved scarcest first: the oldest Python, then the platforms with the fewest wheels. A version
  differs between environments only where a marker, a Requires-Python or the wheels available
  force it.

The target-independent caches (project pages, versions, metadata) are shared by all the
resolutions, so nothing is fetched twice. Pure: the source does the I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName
from packaging.version import Version

from envspec.resolve import Resolution, ResolutionImpossible, SharedCaches, resolve
from envspec.resolve.candidates import DirectPackage
from envspec.resolve.select import FileSelector
from envspec.resolve.source import PackageSource
from envspec.spec.model import ResolutionOptions
from envspec.values.environments import Environment
from envspec.values.target import Target

__all__ = ["SCARCITY", "UniversalResolution", "resolve_universal"]

SCARCITY = (
    "macos-x86_64",
    "windows-arm64",
    "linux-aarch64",
    "macos-arm64",
    "windows-amd64",
    "linux-x86_64",
)
"""Platforms from the fewest wheels published for them to the most: resolved in this order within a
Python minor, so that a version missing on a scarce platform is not chosen for the others."""

Questions = dict[tuple[str, ...], object]


@dataclass(frozen=True, slots=True)
class UniversalResolution:
    environments: tuple[Environment, ...]
    """The covered environments, in the lock's order."""
    resolutions: Mapping[str, Resolution]
    """Environment id → its resolution (one object shared by every environment it serves)."""
    resolved: int
    """How many resolutions were actually run (the rest were reused)."""
    left_out: Mapping[str, str] = field(default_factory=dict)
    """Environment id → why it could not be served (no solution there); not covered."""

    def versions(self, name: NormalizedName) -> dict[Version, list[str]]:
        """Each version of ``name`` chosen anywhere → the environments that chose it."""
        found: dict[Version, list[str]] = {}
        for environment in self.environments:
            package = self.resolutions[environment.id].packages.get(name)
            if package is not None:
                found.setdefault(package.version, []).append(environment.id)
        return found


def _order(environment: Environment) -> tuple[tuple[int, int], int]:
    return (environment.minor, SCARCITY.index(environment.platform.id))


def resolve_universal(
    requirements: Mapping[str | None, Sequence[Requirement]],
    *,
    environments: Sequence[Environment],
    source: PackageSource,
    options: ResolutionOptions = ResolutionOptions(),
    preferred: Callable[[Environment], Mapping[NormalizedName, Version]] = lambda e: {},
    upgrade: bool | Collection[NormalizedName] = False,
    direct: Mapping[NormalizedName, DirectPackage] = MappingProxyType({}),
    required: Sequence[Marker] = (),
) -> UniversalResolution:
    """Resolve ``requirements`` for every environment; see the module's docstring.

    ``preferred`` gives, per environment, the versions an existing lock chose there (minimal
    churn); ``upgrade`` frees all of them (True) or the named ones. A failure in any environment
    that a ``required`` marker names (where, also, only wheels make a version installable), or in
    the only environment, is a :class:`ResolutionImpossible` that names the environment; any other
    environment without a solution is left out (``left_out`` says why) and the lock covers the
    rest, unless none is left."""
    shared = SharedCaches()
    done: list[tuple[Resolution, Questions, dict[str, Marker]]] = []
    failures: list[tuple[Environment, ResolutionImpossible]] = []
    failed_alike: list[tuple[ResolutionImpossible, Questions, dict[str, Marker]]] = []
    chosen: dict[NormalizedName, Version] = {}
    by_environment: dict[str, Resolution] = {}
    for environment in sorted(environments, key=_order):
        target = environment.target()
        prefer = _preferences(preferred(environment), chosen, upgrade)
        wheels_only = any(marker.evaluate(environment.markers) for marker in required)
        here = replace(options, wheels_required=True) if wheels_only else options
        reused = next(
            (
                resolution
                for resolution, questions, markers in done
                if _same_answers(questions, markers, target, prefer, shared, here)
            ),
            None,
        )
        failed = next(
            (
                error
                for error, questions, markers in failed_alike
                if not wheels_only and _same_answers(questions, markers, target, prefer, shared, here)
            ),
            None,
        )
        if failed is not None:  # the same questions, the same answers: the same failure
            failures.append((environment, failed))
            continue
        if reused is None:
            questions: Questions = {}
            markers: dict[str, Marker] = {}
            try:
                attempt = resolve(
                    requirements,
                    target=target,
                    source=source,
                    options=here,
                    locked=prefer,
                    direct=direct,
                    questions=questions,
                    shared=shared,
                    markers_asked=markers,
                )
            except ResolutionImpossible as error:
                if wheels_only or len(environments) == 1:
                    raise _for_environment(error, environment, len(environments))
                # Not required: the lock covers what it can, and says what it left out (a
                # platform without wheels of some package is common: Windows on ARM, say).
                failures.append((environment, error))
                failed_alike.append((error, questions, markers))
                continue
            reused = attempt
            done.append((reused, _as_if_preferred(questions, reused), markers))
            for name, package in reused.packages.items():
                chosen.setdefault(name, package.version)
        by_environment[environment.id] = reused
    if not by_environment:
        first, why = failures[0]
        raise _for_environment(why, first, len(environments))
    ordered = tuple(sorted(e for e in environments if e.id in by_environment))
    left_out = {e.id: _first_sentence(error.message) for e, error in failures}
    return UniversalResolution(
        environments=ordered,
        resolutions=MappingProxyType(by_environment),
        resolved=len(done),
        left_out=MappingProxyType(dict(sorted(left_out.items()))),
    )


def _for_environment(
    error: ResolutionImpossible, environment: Environment, count: int
) -> ResolutionImpossible:
    if count > 1:  # say which environment, and how to leave it out
        error.message = f"For {_describe(environment)} ({environment.id}): {error.message}"
        error.hint = f"{error.hint} {_narrow_hint(environment)}"
    return error


def _as_if_preferred(questions: Questions, resolution: Resolution) -> Questions:
    """The questions a resolution would have asked had every version it chose been tried first.

    Then each pin is the first candidate tried and fits (the chosen set is consistent), so the
    resolution never backtracks: it asks for the chosen versions only. Environments that prefer
    exactly those versions (the later ones, which try what was chosen so far first) reuse it
    although the first resolution, which had no preferences yet, searched differently. Marker
    questions are all kept (asking more only makes a reuse rarer, never wrong)."""
    kept: Questions = {}
    for question, answer in questions.items():
        kind = question[0]
        if kind in ("preferred", "installable"):
            package = resolution.packages.get(NormalizedName(question[1]))
            if package is None:
                continue  # a project the final set does not hold: never reached when preferred
            if kind == "preferred":
                kept[question] = package.version
            elif question[2] == str(package.version):
                kept[question] = answer
            continue
        kept[question] = answer
    for name, package in resolution.packages.items():
        kept.setdefault(("preferred", name), package.version)
    return kept


def _first_sentence(message: str) -> str:
    """The start of a conflict's explanation, enough to say why an environment was left out:
    what requires what, and the versions there with why each was refused (long lists cut)."""
    text = message.removeprefix("Cannot resolve: ").replace("\n", " ")
    return text if len(text) <= 200 else text[:197] + "..."


def _preferences(
    from_lock: Mapping[NormalizedName, Version],
    chosen: Mapping[NormalizedName, Version],
    upgrade: bool | Collection[NormalizedName],
) -> dict[NormalizedName, Version]:
    """The lock's versions (unless upgraded), then what earlier environments chose."""
    kept = {} if upgrade is True else {
        name: version
        for name, version in from_lock.items()
        if isinstance(upgrade, bool) or name not in upgrade
    }
    return {**chosen, **kept}


def _same_answers(
    questions: Questions,
    markers: Mapping[str, Marker],
    target: Target,
    prefer: Mapping[NormalizedName, Version],
    shared: SharedCaches,
    options: ResolutionOptions,
) -> bool:
    """Whether every question an earlier resolution asked gets the same answer for ``target``:
    then resolving again would retrace that resolution step by step."""
    selector = FileSelector(target=target, options=options)
    for question, answer in questions.items():
        kind = question[0]
        if kind == "marker":
            now: object = target.evaluate(markers[question[1]], question[2:])
        elif kind == "python":
            now = target.allows_python(question[1])
        elif kind == "preferred":
            now = prefer.get(NormalizedName(question[1]))
        elif kind == "installable":
            name, version = NormalizedName(question[1]), Version(question[2])
            files = shared.files_by_version[name][version]
            verdict = selector.select_version(name, version, files, pinned=question[3] == "True")
            now = verdict.rejection is None
        else:
            return False
        if now != answer:
            return False
    return True


def _describe(environment: Environment) -> str:
    names = {"linux": "Linux", "macos": "macOS", "windows": "Windows"}
    platform = environment.platform
    return f"Python {environment.minor[0]}.{environment.minor[1]} on {names[platform.kind]} {platform.arch}"


def _narrow_hint(environment: Environment) -> str:
    return (
        "If the project does not need to support that environment, narrow the lock with "
        f"`environments = [...]` in the spec (e.g. \"sys_platform != '{environment.platform.sys_platform}'\")."
    )
