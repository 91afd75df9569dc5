"""Side-by-side benchmark: envspec next to uv on the shared workloads (live PyPI).

Not a test: figures on a shared, noisy machine only mean something as ratios of medians measured in
one run with the tools alternating (A B A B ...), which is what this does. See
``../shared/bench/README.md`` for the method.

    python tests/bench/bench.py --workloads small web --runs 5 [--uv PATH] [--only lock-cold,...]

Scenarios (each next to uv's closest equivalent):
  ulock-cold    envspec lock (universal: every platform the spec's Python runs on), empty cache
                                                      | uv lock (universal), empty UV_CACHE_DIR
  ulock-warm    the same with filled caches, no lock  | uv lock, filled cache, no uv.lock
  lock-cold     envspec lock for one environment (--python-version, --python-platform), empty
                cache, no lock                        | uv pip compile, empty UV_CACHE_DIR
  lock-warm     the same, filled cache, no lock       | uv pip compile, filled cache
  lock-fresh    envspec lock, fresh lock present      | uv lock on a project whose uv.lock is fresh
  install-cold  envspec sync --frozen, empty cache    | uv pip sync pylock.toml, empty cache
  install-warm  envspec sync --frozen, filled cache   | uv pip sync pylock.toml, filled cache
                (both into a fresh empty venv made by the same interpreter outside the timing)
  noop-sync     envspec sync on a synced venv         | uv sync --frozen on a synced project
  check-fast    envspec check --no-verify-files       | uv sync --locked --check
  check-full    envspec check (hashes every file)     | uv sync --locked --check (no file check)
It also compares the pins both tools chose and prints any difference.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORKLOADS = REPO.parent / "shared" / "bench" / "workloads"


@dataclass
class Sample:
    seconds: float
    max_rss_kib: int


@dataclass
class Row:
    scenario: str
    envspec: list[Sample] = field(default_factory=list)
    uv: list[Sample] = field(default_factory=list)


def run_measured(argv: list[str], *, cwd: Path, env: dict[str, str]) -> Sample:
    """Run one command; wall time and the peak RSS of exactly that child (os.wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        err = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}):\n{err}")
    if process.stderr:
        process.stderr.close()
    return Sample(elapsed, usage.ru_maxrss)


def requirements_of(workload: str) -> list[str]:
    lines = (WORKLOADS / f"{workload}.in").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def write_envspec_project(directory: Path, requirements: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    body = ",\n".join(f'  "{r}"' for r in requirements)
    (directory / "envspec.toml").write_text(f'python = "3.11"\nrequirements = [\n{body},\n]\n')


def write_uv_project(directory: Path, requirements: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    body = ", ".join(f'"{r}"' for r in requirements)
    (directory / "pyproject.toml").write_text(
        "[project]\nname = \"bench\"\nversion = \"0\"\n"
        f"requires-python = \"==3.11.*\"\ndependencies = [{body}]\n"
    )
    (directory / "requirements.in").write_text("\n".join(requirements) + "\n")


def median(samples: list[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


def spread(samples: list[Sample]) -> str:
    """``0.412s [0.398-0.455]``: the median with the fastest and slowest run beside it."""
    times = [s.seconds for s in samples]
    return f"{statistics.median(times):.3f}s [{min(times):.3f}-{max(times):.3f}]"


def envspec_pins(project: Path) -> dict[str, str]:
    data = tomllib.loads((project / "pylock.toml").read_text())
    return {p["name"]: p["version"] for p in data["packages"]}


def uv_pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "==" in line:
            name, version = line.split(";")[0].split("==")
            pins[name.strip().lower().replace("_", "-").replace(".", "-")] = version.strip()
    return pins


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="+", default=["small", "web"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--uv", default=shutil.which("uv") or "/tmp/uv/bin/uv")
    parser.add_argument(
        "--python-version", default="3.11.7",
        help="the full version envspec resolves for (the newest 3.11 here), given to uv too",
    )
    parser.add_argument(
        "--interpreter", default="/root/.pyenv/versions/3.11.7/bin/python3",
        help="the interpreter both tools install into",
    )
    parser.add_argument("--only", default="", help="comma-separated scenarios to run")
    parser.add_argument(
        "--envspec-python", default=sys.executable,
        help="the interpreter envspec itself runs on (PYTHONPATH may point it at another tree)",
    )
    args = parser.parse_args()
    only = {s for s in args.only.split(",") if s}
    envspec = [args.envspec_python, "-m", "envspec"]
    one_environment = [
        "--python-version", args.python_version, "--python-platform", "linux-x86_64",
    ]
    # PYTHONDONTWRITEBYTECODE (set on these machines) would make every envspec run compile its
    # modules afresh, which no installed tool does
    base_env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("UV_", "PIP_")) and k != "PYTHONDONTWRITEBYTECODE"
    }

    for workload in args.workloads:
        requirements = requirements_of(workload)
        with tempfile.TemporaryDirectory(prefix=f"bench-{workload}-") as tmp:
            root = Path(tmp)
            ours, theirs = root / "envspec", root / "uv"
            write_envspec_project(ours, requirements)
            write_uv_project(theirs, requirements)
            rows: list[Row] = []

            def scenario(
                name: str, prepare: Callable[[], None], mine: list[str], uv: list[str],
                mine_env: Callable[[], dict[str, str]], uv_env: Callable[[], dict[str, str]],
                prepare_uv: Callable[[], None] | None = None,
            ) -> None:
                if only and name not in only:
                    return
                row = Row(name)
                for _ in range(args.runs):
                    prepare()
                    row.envspec.append(run_measured(mine, cwd=ours, env=mine_env()))
                    (prepare_uv or prepare)()
                    row.uv.append(run_measured(uv, cwd=theirs, env=uv_env()))
                rows.append(row)

            counter = iter(range(10**6))

            def fresh_cache(tool: str) -> Path:
                path = root / f"cache-{tool}-{next(counter)}"
                return path

            def drop_locks() -> None:
                (ours / "pylock.toml").unlink(missing_ok=True)

            def drop_both_locks() -> None:
                drop_locks()
                (theirs / "uv.lock").unlink(missing_ok=True)

            # uv is given its interpreter by path: through the pyenv shim it pays 0.1 s a call
            uv_lock = [args.uv, "lock", "-q", "--python", args.interpreter]
            scenario(
                "ulock-cold", drop_both_locks, [*envspec, "lock", "-q"], uv_lock,
                lambda: {**base_env, "ENVSPEC_CACHE_DIR": str(fresh_cache("envspec"))},
                lambda: {**base_env, "UV_CACHE_DIR": str(fresh_cache("uv"))},
            )
            uwarm_envspec, uwarm_uv = root / "uwarm-envspec", root / "uwarm-uv"
            if not only or {"ulock-warm"} & only:
                drop_both_locks()
                subprocess.run([*envspec, "lock", "-q"], cwd=ours, check=True,
                               env={**base_env, "ENVSPEC_CACHE_DIR": str(uwarm_envspec)})
                subprocess.run(uv_lock, cwd=theirs, check=True,
                               env={**base_env, "UV_CACHE_DIR": str(uwarm_uv)})
            scenario(
                "ulock-warm", drop_both_locks, [*envspec, "lock", "-q"], uv_lock,
                lambda: {**base_env, "ENVSPEC_CACHE_DIR": str(uwarm_envspec)},
                lambda: {**base_env, "UV_CACHE_DIR": str(uwarm_uv)},
            )
            (theirs / "uv.lock").unlink(missing_ok=True)

            compile_argv = [
                args.uv, "pip", "compile", "requirements.in", "--python-version", args.python_version,
                "-q", "-o", "requirements.txt",
            ]
            scenario(
                "lock-cold", drop_locks, [*envspec, "lock", "-q", *one_environment], compile_argv,
                lambda: {**base_env, "ENVSPEC_CACHE_DIR": str(fresh_cache("envspec"))},
                lambda: {**base_env, "UV_CACHE_DIR": str(fresh_cache("uv"))},
            )
            warm_envspec, warm_uv = root / "warm-envspec", root / "warm-uv"
            drop_locks()
            subprocess.run([*envspec, "lock", "-q"], cwd=ours, check=True,
                           env={**base_env, "ENVSPEC_CACHE_DIR": str(warm_envspec)})
            subprocess.run(compile_argv, cwd=theirs, check=True,
                           env={**base_env, "UV_CACHE_DIR": str(warm_uv)})
            scenario(
                "lock-warm", drop_locks, [*envspec, "lock", "-q", *one_environment], compile_argv,
                lambda: {**base_env, "ENVSPEC_CACHE_DIR": str(warm_envspec)},
                lambda: {**base_env, "UV_CACHE_DIR": str(warm_uv)},
            )
            drop_locks()
            subprocess.run([*envspec, "lock", "-q"], cwd=ours, check=True,
                           env={**base_env, "ENVSPEC_CACHE_DIR": str(warm_envspec)})
            subprocess.run(uv_lock, cwd=theirs, check=True,
                           env={**base_env, "UV_CACHE_DIR": str(warm_uv)})
            scenario(
                "lock-fresh", lambda: None, [*envspec, "lock", "-q"], uv_lock,
                lambda: {**base_env, "ENVSPEC_CACHE_DIR": str(warm_envspec)},
                lambda: {**base_env, "UV_CACHE_DIR": str(warm_uv)},
            )

            # ── installing the lock into a fresh venv ────────────────────────────────────
            shutil.copy(ours / "pylock.toml", theirs / "pylock.toml")

            def fresh_venv(directory: Path) -> Callable[[], None]:
                def make() -> None:
                    shutil.rmtree(directory, ignore_errors=True)
                    subprocess.run(
                        [args.interpreter, "-m", "venv", "--without-pip", str(directory)],
                        check=True,
                    )
                    subprocess.run(["sync"], check=False)  # let the file system settle
                return make

            uv_sync_pylock = [
                args.uv, "pip", "sync", "-q", "--preview-features", "pylock",
                "--python", str(theirs / ".venv" / "bin" / "python"), "pylock.toml",
            ]
            mine_sync = [*envspec, "sync", "-q", "--frozen"]
            scenario(
                "install-cold", fresh_venv(ours / ".venv"), mine_sync, uv_sync_pylock,
                lambda: {**base_env, "ENVSPEC_CACHE_DIR": str(fresh_cache("envspec"))},
                lambda: {**base_env, "UV_CACHE_DIR": str(fresh_cache("uv"))},
                prepare_uv=fresh_venv(theirs / ".venv"),
            )
            fresh_venv(ours / ".venv")()
            fresh_venv(theirs / ".venv")()
            subprocess.run(mine_sync, cwd=ours, check=True,
                           env={**base_env, "ENVSPEC_CACHE_DIR": str(warm_envspec)})
            subprocess.run(uv_sync_pylock, cwd=theirs, check=True,
                           env={**base_env, "UV_CACHE_DIR": str(warm_uv)})
            scenario(
                "install-warm", fresh_venv(ours / ".venv"), mine_sync, uv_sync_pylock,
                lambda: {**base_env, "ENVSPEC_CACHE_DIR": str(warm_envspec)},
                lambda: {**base_env, "UV_CACHE_DIR": str(warm_uv)},
                prepare_uv=fresh_venv(theirs / ".venv"),
            )
            # no-op: both venvs synced; uv's project venv made by `uv sync` itself
            fresh_venv(ours / ".venv")()
            subprocess.run([*envspec, "sync", "-q"], cwd=ours, check=True,
                           env={**base_env, "ENVSPEC_CACHE_DIR": str(warm_envspec)})
            shutil.rmtree(theirs / ".venv", ignore_errors=True)
            subprocess.run([args.uv, "sync", "-q", "--frozen", "--python", args.interpreter],
                           cwd=theirs, check=True, env={**base_env, "UV_CACHE_DIR": str(warm_uv)})
            scenario(
                "noop-sync", lambda: None, [*envspec, "sync", "-q"],
                [args.uv, "sync", "-q", "--frozen"],
                lambda: {**base_env, "ENVSPEC_CACHE_DIR": str(warm_envspec)},
                lambda: {**base_env, "UV_CACHE_DIR": str(warm_uv)},
            )

            uv_check = [args.uv, "sync", "-q", "--locked", "--check"]
            scenario(
                "check-fast", lambda: None, [*envspec, "check", "--no-verify-files"], uv_check,
                lambda: {**base_env, "ENVSPEC_CACHE_DIR": str(warm_envspec)},
                lambda: {**base_env, "UV_CACHE_DIR": str(warm_uv)},
            )
            scenario(
                "check-full", lambda: None, [*envspec, "check"], uv_check,
                lambda: {**base_env, "ENVSPEC_CACHE_DIR": str(warm_envspec)},
                lambda: {**base_env, "UV_CACHE_DIR": str(warm_uv)},
            )

            print(f"\n== {workload} ({len(requirements)} requirements, {args.runs} runs each)")
            print(f"{'scenario':<12} {'envspec median [min-max]':>28} {'uv median [min-max]':>28} "
                  f"{'ratio':>7} {'rss MiB':>11}")
            for row in rows:
                mine_m, uv_m = median(row.envspec), median(row.uv)
                rss = f"{max(s.max_rss_kib for s in row.envspec) // 1024}/" \
                      f"{max(s.max_rss_kib for s in row.uv) // 1024}"
                print(f"{row.scenario:<12} {spread(row.envspec):>28} {spread(row.uv):>28} "
                      f"{mine_m / uv_m:>6.2f}x {rss:>11}")

            if (ours / "pylock.toml").exists() and (theirs / "requirements.txt").exists():
                mine_pins = envspec_pins(ours)
                their_pins = uv_pins((theirs / "requirements.txt").read_text())
                differ = sorted(
                    name for name in set(mine_pins) | set(their_pins)
                    if mine_pins.get(name) != their_pins.get(name)
                )
                print(f"pins: envspec {len(mine_pins)}, uv {len(their_pins)}, "
                      f"{'identical' if not differ else 'different:'}")
                for name in differ:
                    print(f"  {name}: envspec {mine_pins.get(name)} uv {their_pins.get(name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
