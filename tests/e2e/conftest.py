"""The running local stack for end-to-end tests, and SDK clients with test identities.

Each test gets its own stack on a free port over fresh tables (the session moto server from
``tests/conftest.py``). Identities come from ``Authorization: Bearer <user>`` through
:class:`TokenIsUser`, injected via ``create_app``'s ``authenticator``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.auth import TokenIsUser
from tests.conftest import Tables

DEADLINE = 30.0




def auth(user: str) -> dict[str, str]:
    """Headers that make a request come from ``user``."""
    return {"Authorization": f"Bearer {user}"}


def stack_settings(tables: Tables, **overrides: Any) -> Settings:
    """Settings on the test's tables: a fast scripted model and a quick cancel poll."""
    base = Settings(
        app_table=tables.app,
        checkpoint_table=tables.checkpoints,
        checkpoint_bucket=tables.bucket,
        scripted_delay_ms=1,
        cancel_poll_interval=0.05,
        heartbeat_seconds=10.0,
    )
    return base.replace(**overrides)


STEPS_GRAPH = "steps=tests.e2e.durable_graphs:steps_graph"


def short_lived_settings(tables: Tables) -> Settings:
    """Settings whose worker times out after 1 s and drains 0.6 s before that, serving the
    ``steps`` graph (0.12 s a step), so a 20-step run spans several worker invocations."""
    return stack_settings(
        tables, graphs=STEPS_GRAPH, local_worker_timeout_seconds=1.0, deadline_margin_ms=600
    )


@pytest.fixture
def settings(tables: Tables) -> Settings:
    return stack_settings(tables)


@pytest.fixture
def stack(settings: Settings) -> Iterator[LocalStack]:
    """The local stack, serving on a free port until the test ends."""
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


@pytest.fixture(scope="module")
def shared_stack(aws_endpoint: str) -> Iterator[LocalStack]:
    """One stack for a whole module, for tests that only need fresh threads (faster)."""
    suffix = uuid.uuid4().hex[:10]
    tables = Tables(checkpoints=f"checkpoints-{suffix}", app=f"app-{suffix}", bucket=f"cp-{suffix}")
    with running_stack(settings=stack_settings(tables), authenticator=TokenIsUser()) as running:
        yield running


@pytest.fixture
def client(stack: LocalStack) -> LangGraphClient:
    """An async SDK client acting as ``alice``."""
    return get_client(url=stack.url, headers=auth("alice"))


@pytest.fixture
def sync_client(stack: LocalStack) -> SyncLangGraphClient:
    """A sync SDK client acting as ``alice``."""
    return get_sync_client(url=stack.url, headers=auth("alice"))


def user_message(text: str) -> dict[str, Any]:
    """Run input with one user message."""
    return {"messages": [{"role": "user", "content": text}]}


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until ``check()`` holds, polling, or fail after a deadline."""
    deadline = time.monotonic() + DEADLINE
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
