"""pytest fixtures for the loopback index: a session-wide artifact cache and index-server factories.

Building a universe's files is cheap but not free, and many tests serve the same universe, so the
files are built once per session (per release content) and every server shares them. Servers are
started per test, because a test's switches, faults and request log must never leak into another.

Register in ``tests/conftest.py`` with::

    from tests.support.fixtures import built_artifacts, index_app, index_server  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.index_server import IndexApp, IndexServer
from tests.support.universe import Universe
from tests.support.wheels import ArtifactCache

__all__ = ["IndexAppFactory", "IndexServerFactory", "built_artifacts", "index_app", "index_server"]

IndexServerFactory = Callable[..., IndexServer]
"""``index_server(universe="basic", **switches) -> IndexServer`` (running)."""
IndexAppFactory = Callable[..., IndexApp]
"""``index_app(universe="basic", **switches) -> IndexApp`` (for ``httpx.WSGITransport``)."""


@pytest.fixture(scope="session")
def built_artifacts(tmp_path_factory: pytest.TempPathFactory) -> ArtifactCache:
    """Built wheels and sdists, shared by the whole session; ``.directory(universe)`` writes a
    universe's files into a flat folder (for ``pip --find-links`` style tests)."""
    return ArtifactCache(tmp_path_factory.mktemp("universe-artifacts"))


@pytest.fixture
def index_app(built_artifacts: ArtifactCache) -> Iterator[IndexAppFactory]:
    """A factory of in-process index apps; fails the test if a ``serve_once`` app served a file
    twice."""
    apps: list[IndexApp] = []

    def make(universe: Universe | str = "basic", **switches: Any) -> IndexApp:
        app = IndexApp(universe, cache=built_artifacts, **switches)
        apps.append(app)
        return app

    yield make
    _fail_on_violations(apps)


@pytest.fixture
def index_server(built_artifacts: ArtifactCache) -> Iterator[IndexServerFactory]:
    """A factory of running loopback index servers, all stopped at teardown; fails the test if a
    ``serve_once`` server served a file twice."""
    servers: list[IndexServer] = []

    def start(universe: Universe | str = "basic", **switches: Any) -> IndexServer:
        server = IndexServer(IndexApp(universe, cache=built_artifacts, **switches))
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
    _fail_on_violations([server.app for server in servers])


def _fail_on_violations(apps: list[IndexApp]) -> None:
    violations = [violation for app in apps for violation in app.violations]
    if violations:
        pytest.fail("serve_once index: " + "; ".join(violations))
