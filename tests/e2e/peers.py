"""lambdagraph and ``langgraph dev`` side by side, for suites that run every test on both.

The compatibility suite (``tests/e2e/compat``) and the Agent Streaming Protocol client
suite (``tests/e2e/agent``) each serve their graphs on both servers once per package and
parametrise a ``server`` fixture over them; this module is what they share.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from lambdagraph_client.local.server import running_stack
from tests.bench.targets import LGDEV_VENV, langgraph_dev, lgdev_requirements
from tests.bench.venvs import PeerUnavailable, venv_ready
from tests.conftest import Tables
from tests.e2e.conftest import stack_settings

URL_FIXTURES = {"lambdagraph": "lambdagraph_url", "langgraph-dev": "langgraph_dev_url"}
"""The ``server`` fixture's params and the fixture giving each one's base URL."""

# The first run builds langgraph dev's virtualenv inside the setup of whichever test needs it
# first: pip may take up to its own 600 s limit (tests/bench/venvs.py), plus the start.
_FIRST_RUN_TIMEOUT = 900


def allow_first_build(items: list[pytest.Item], here: Path) -> None:
    """Give the first test of each file under ``here`` that uses ``langgraph dev`` room to
    build its virtualenv, only while it is not built (a file's tests run in order on one
    worker, so the build happens in that test's setup; the others keep their own limits)."""
    if venv_ready(LGDEV_VENV, lgdev_requirements()):
        return
    seen: set[Path] = set()
    for item in items:
        callspec = getattr(item, "callspec", None)
        uses_peer = callspec is not None and callspec.params.get("server") == "langgraph-dev"
        if item.path.is_relative_to(here) and uses_peer and item.path not in seen:
            seen.add(item.path)
            item.add_marker(pytest.mark.timeout(_FIRST_RUN_TIMEOUT))


@contextmanager
def serve_lambdagraph(graphs: Mapping[str, str]) -> Iterator[str]:
    """The local stack over fresh tables, serving ``graphs`` (name → import path)."""
    suffix = uuid.uuid4().hex[:10]
    tables = Tables(checkpoints=f"checkpoints-{suffix}", app=f"app-{suffix}", bucket=f"cp-{suffix}")
    served = ",".join(f"{name}={target}" for name, target in graphs.items())
    settings = stack_settings(tables, scripted_delay_ms=0, graphs=served)
    with running_stack(settings=settings) as running:
        yield running.url


@contextmanager
def serve_langgraph_dev(graphs: Mapping[str, str]) -> Iterator[str]:
    """``langgraph dev`` serving ``graphs`` (skips the test, saying why, if not installed)."""
    with ExitStack() as stack:
        try:
            served = stack.enter_context(langgraph_dev(dict(graphs)))
        except PeerUnavailable as exc:
            pytest.skip(f"langgraph dev is unavailable: {exc}")
        yield served.url


def server_url(request: pytest.FixtureRequest) -> str:
    """The base URL of the server a ``server`` fixture's param names."""
    return str(request.getfixturevalue(URL_FIXTURES[request.param]))
