"""Heartbeat comments reach the client while a run is quiet (here: queued behind another)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

from lambdagraph_client.local.server import LocalStack
from lambdagraph.settings import Settings
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

    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice"), timeout=30) as http:
        async with http.stream(
            "POST", f"/threads/{thread['thread_id']}/runs/stream",
            json={"assistant_id": "agent", "input": user_message("count to 2"),
                  "multitask_strategy": "enqueue"},
        ) as response:
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
