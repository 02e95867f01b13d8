"""Both servers of the compatibility suite, each started once for it, serving the same graphs.

Every test in ``tests/e2e/compat`` runs twice: against lambdagraph's local stack
(``[lambdagraph]``) and against ``langgraph dev`` (``[langgraph-dev]``, LangGraph Server's
in-memory runtime, from the virtualenv ``tests/bench/venvs.py`` builds on first use). Both
serve the demo ``agent`` on the scripted model at delay 0 and the graphs of
:mod:`tests.e2e.compat.graphs`, without auth. A test asserts what a user of ``langgraph-sdk``
sees, so the same assertion must hold on both; the servers are shared, so each test makes
its own threads and assistants and finds them by a metadata tag of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from tests.e2e.peers import (
    URL_FIXTURES,
    allow_first_build,
    serve_lambdagraph,
    serve_langgraph_dev,
    server_url,
)

COMPAT_GRAPHS = {
    "nested": "tests.e2e.compat.graphs:nested",
    "slow": "tests.e2e.compat.graphs:slow",
}
_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give the compat tests room to build the virtualenv, only while it is not built yet."""
    allow_first_build(items, _HERE)


# Package scope: both stop when the compat tests end, not idle through the rest of the suite.
@pytest.fixture(scope="package")
def lambdagraph_url(aws_endpoint: str) -> Iterator[str]:
    """The local stack over fresh tables, until the compat tests are done."""
    with serve_lambdagraph(COMPAT_GRAPHS) as url:
        yield url


@pytest.fixture(scope="package")
def langgraph_dev_url() -> Iterator[str]:
    """``langgraph dev`` until the compat tests are done (skipped, saying why, if not installed)."""
    with serve_langgraph_dev(COMPAT_GRAPHS) as url:
        yield url


@pytest.fixture(scope="package", params=list(URL_FIXTURES))
def server(request: pytest.FixtureRequest) -> str:
    """The base URL of the server this test runs against."""
    return server_url(request)


@pytest.fixture
def sdk(server: str) -> SyncLangGraphClient:
    """A sync ``langgraph-sdk`` client of the server."""
    return get_sync_client(url=server)


@pytest.fixture
def asdk(server: str) -> LangGraphClient:
    """An async ``langgraph-sdk`` client of the server."""
    return get_client(url=server)


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    """Plain HTTP to the server, for statuses and routes the SDK hides."""
    with httpx.Client(base_url=server, timeout=30.0) as client:
        yield client


@pytest.fixture
def tag() -> dict[str, str]:
    """Metadata unique to this test, to find its own objects on a shared server."""
    return {"compat_test": uuid.uuid4().hex}
