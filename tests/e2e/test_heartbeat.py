"""Heartbeats reach the client while a run is quiet (queued behind another) and, on
``/wait``, while it streams tokens the response does not forward."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from langgraph_sdk.client import LangGraphClient

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack
from tests.conftest import Tables
from tests.e2e.conftest import auth, stack_settings, user_message
from tests.e2e.test_runs import LongRun


@pytest.fixture
def settings(tables: Tables) -> Settings:
    return stack_settings(tables, heartbeat_seconds=0.05)


async def test_a_queued_run_streams_heartbeats_until_its_turn(
    stack: LocalStack, client: LangGraphClient
) -> None:
    thread = await client.threads.create()
    long = LongRun(client, thread["thread_id"])
    await long.wait_started()
    lines: list[str] = []

    body = {"assistant_id": "agent", "input": user_message("count to 2"),
            "multitask_strategy": "enqueue"}
    path = f"/threads/{thread['thread_id']}/runs/stream"
    async with (
        httpx.AsyncClient(base_url=stack.url, headers=auth("alice"), timeout=30) as http,
        http.stream("POST", path, json=body) as response,
    ):
        cancelled = False
        async for line in response.aiter_lines():
            lines.append(line)
            if line == ": heartbeat" and not cancelled:
                # Heard while queued; now let the long run go so this one gets its turn.
                await client.runs.cancel(thread["thread_id"], long.run["run_id"])
                cancelled = True
    await asyncio.wait_for(long.task, 30)

    assert lines[0] == "event: metadata"
    assert ": heartbeat" in lines
    assert "event: values" in lines[lines.index(": heartbeat"):]


async def test_a_wait_over_a_run_streaming_tokens_sends_newlines_before_its_json(
    stack: LocalStack, client: LangGraphClient
) -> None:
    thread = await client.threads.create()
    count = 300  # a token every millisecond or so: never a 50 ms silence of run events

    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice"), timeout=30) as http:
        response = await http.post(
            f"/threads/{thread['thread_id']}/runs/wait",
            json={"assistant_id": "agent", "input": user_message(f"count to {count}"),
                  "stream_mode": ["messages-tuple", "values"]},
        )

    assert response.status_code == 200
    body = response.content
    assert body.startswith(b"\n")  # heartbeats, although the run never went quiet
    values = orjson.loads(body)
    assert values["messages"][-1]["content"].split() == [str(n) for n in range(1, count + 1)]
