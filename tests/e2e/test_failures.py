"""A graph failing with internal details: the client sees the type, never the text."""

from __future__ import annotations

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack
from tests.conftest import Tables
from tests.e2e.conftest import auth, stack_settings, user_message


@pytest.fixture
def settings(tables: Tables) -> Settings:
    return stack_settings(tables, graphs="leaky=tests.e2e.graphs:failing_graph")


async def test_an_unexpected_graph_error_streams_its_type_only(client: LangGraphClient) -> None:
    thread = await client.threads.create()

    parts = [
        part async for part in client.runs.stream(
            thread["thread_id"], "leaky", input=user_message("hi"), stream_mode="updates"
        )
    ]
    waited = await client.runs.wait(thread["thread_id"], "leaky", input=user_message("again"),
                                    raise_error=False)

    error = parts[-1]
    assert error.event == "error"
    assert error.data["error"] == "RuntimeError"
    assert "hunter2" not in str(error.data) and "10.0.0.5" not in str(error.data)
    assert waited["__error__"]["error"] == "RuntimeError"
    assert "hunter2" not in str(waited)


def test_assistant_search_lists_every_configured_graph(stack: LocalStack) -> None:
    found = httpx.post(f"{stack.url}/assistants/search", json={}, headers=auth("alice")).json()

    assert [a["graph_id"] for a in found] == ["agent", "leaky"]
