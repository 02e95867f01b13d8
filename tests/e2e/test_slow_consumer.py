"""A client that reads a fast run's stream one event a second is detached, not waited for:
the run finishes, the client gets a ``SlowConsumer`` error frame, and a rejoin with
``Last-Event-ID`` gets the rest of a resumable run without a gap."""

from __future__ import annotations

import asyncio

import pytest
from langgraph_sdk import get_client

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack
from tests.conftest import Tables
from tests.e2e.conftest import DEADLINE, auth, stack_settings, user_message
from tests.e2e.slow_client import Frame, SlowStream

TOKENS = 2000
# LangGraph's accumulated ``messages`` mode: each event carries the message so far, so the
# stream outgrows the loopback socket buffers (over a megabyte) within the run.
MODES = ["messages", "values"]


@pytest.fixture
def settings(tables: Tables) -> Settings:
    # A model with no pause between chunks; a short queue and a short patience for the test.
    return stack_settings(
        tables, scripted_delay_ms=0, stream_queue_events=16, slow_consumer_seconds=0.5
    )


async def _run_status(stack: LocalStack, thread_id: str, run_id: str) -> str:
    client = get_client(url=stack.url, headers=auth("alice"))
    return str((await client.runs.get(thread_id, run_id))["status"])


async def test_a_slow_reader_is_detached_while_the_run_finishes_and_it_rejoins_without_gaps(
    stack: LocalStack,
) -> None:
    client = get_client(url=stack.url, headers=auth("alice"))
    thread = await client.threads.create()
    body = {
        "assistant_id": "agent",
        "input": user_message(f"count to {TOKENS}"),
        "stream_mode": MODES,
        "stream_resumable": True,
    }
    stream = await SlowStream.post(
        stack.url, f"/threads/{thread['thread_id']}/runs/stream", body, auth("alice")
    )
    try:
        assert stream.status == 200
        first = await stream.next_frame()
        assert first is not None and first.event == "metadata"
        run_id = first.data["run_id"]
        slowly: list[Frame] = [first]
        # One event a second until the run is over: it must not wait for this reader.
        deadline = asyncio.get_running_loop().time() + DEADLINE
        while await _run_status(stack, thread["thread_id"], run_id) != "success":
            assert asyncio.get_running_loop().time() < deadline, "the run waited for the reader"
            frame = await stream.next_frame()
            assert frame is not None, "the stream ended before the run did"
            slowly.append(frame)
            await asyncio.sleep(1)
        rest: list[Frame] = []
        while (frame := await stream.next_frame()) is not None:
            rest.append(frame)
    finally:
        stream.close()

    frames = [f for f in slowly + rest if f.event is not None]
    assert frames[-1].event == "error"
    assert frames[-1].data["error"] == "SlowConsumer"
    assert "Last-Event-ID" in frames[-1].data["message"]
    assert frames[-1].id is None  # not a logged event: rejoining starts after the last one
    received = frames[:-1]
    ids = [int(f.id or -1) for f in received]
    assert ids == list(range(len(ids)))
    assert len(ids) < TOKENS  # it was cut off well before the run's end

    rejoined = [
        part
        async for part in client.runs.join_stream(
            thread["thread_id"], run_id, last_event_id=received[-1].id
        )
    ]
    assert [int(p.id or -1) for p in rejoined] == list(range(len(ids), len(ids) + len(rejoined)))
    partials = [p.data[0]["content"] for p in rejoined if p.event == "messages/partial"]
    assert partials[-1].split() == [str(n) for n in range(1, TOKENS + 1)]
    assert rejoined[-1].event == "values"
