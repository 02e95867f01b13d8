"""Both servers of the Agent Streaming Protocol client tests, each started once for them.

Every test here runs twice: against lambdagraph's local stack (``[lambdagraph]``) and against
``langgraph dev`` (``[langgraph-dev]``), as the compatibility suite does
(``tests/e2e/compat/conftest.py``). Both serve the graphs of langgraph-sdk's own integration
scripts under the ids the scripts use, and the demo agent as ``demo``, without auth. The
expectations are the reference server's: a test green on ``langgraph dev`` and red on
lambdagraph is a gap in lambdagraph.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.peers import (
    URL_FIXTURES,
    allow_first_build,
    serve_lambdagraph,
    serve_langgraph_dev,
    server_url,
)

_INTEGRATION = "tests.e2e.agent.sdk_integration.graph"
AGENT_GRAPHS = {
    "agent": f"{_INTEGRATION}.streaming_graph:graph",
    "tools_agent": f"{_INTEGRATION}.tools_agent:graph",
    "deep_agent": f"{_INTEGRATION}.deep_agent:graph",
    "demo": "tests.e2e.agent.graphs:demo",
}
_HERE = Path(__file__).parent

# The vendored scripts are run by test_sdk_integration.py, not collected as test modules.
collect_ignore = ["sdk_integration"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give these tests room to build the virtualenv, only while it is not built yet."""
    allow_first_build(items, _HERE)


@pytest.fixture(scope="package")
def lambdagraph_url(aws_endpoint: str) -> Iterator[str]:
    """The local stack over fresh tables, until this package's tests are done."""
    with serve_lambdagraph(AGENT_GRAPHS) as url:
        yield url


@pytest.fixture(scope="package")
def langgraph_dev_url() -> Iterator[str]:
    """``langgraph dev`` until this package's tests are done (skipped, saying why, if not
    installed)."""
    with serve_langgraph_dev(AGENT_GRAPHS) as url:
        yield url


@pytest.fixture(scope="package", params=list(URL_FIXTURES))
def server(request: pytest.FixtureRequest) -> str:
    """The base URL of the server this test runs against."""
    return server_url(request)
