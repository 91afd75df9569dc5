"""Test-run hygiene shared by every test: hermetic environment, no stray network.

pytest-socket (configured in pyproject.toml) blocks every socket but loopback inside this process;
subprocesses (the real CLI in e2e tests) are kept off the internet by pointing the proxy variables at
a closed loopback port, so a forgotten index override fails loudly instead of reaching pypi.org.
Tests marked ``network`` (the live smoke) get real sockets and a clean proxy environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.support.fixtures"]

# A closed port on loopback: any proxied connection is refused at once.
BLACKHOLE_PROXY = "http://127.0.0.1:9"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("network"):
            item.add_marker(pytest.mark.enable_socket)


@pytest.fixture(autouse=True)
def hermetic_environment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """Cache and config into the test's tmp dir; no PIP_*/UV_*/proxy settings leak in."""
    home = tmp_path_factory.mktemp("env")
    saved = dict(os.environ)
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(("PIP_", "UV_", "ENVSPEC_")) or upper in PROXY_VARS:
            del os.environ[name]
        elif upper.endswith("_PROXY") or upper == "NETRC":
            del os.environ[name]
    os.environ["ENVSPEC_CACHE_DIR"] = str(home / "cache")
    os.environ["XDG_CACHE_HOME"] = str(home / "xdg-cache")
    os.environ["XDG_CONFIG_HOME"] = str(home / "xdg-config")
    os.environ["NETRC"] = str(home / "netrc")  # absent unless a test writes it
    os.environ["PIP_CONFIG_FILE"] = os.devnull  # the machine's pip.conf adds local indexes
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    if not request.node.get_closest_marker("network"):
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            os.environ[name] = BLACKHOLE_PROXY
        os.environ["NO_PROXY"] = "127.0.0.1,localhost,::1"
    try:
        yield home
    finally:
        os.environ.clear()
        os.environ.update(saved)
