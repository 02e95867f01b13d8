"""Cancel, client disconnects and multitask strategies on the running stack."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError

from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth, eventually, user_message

LONG = "count to 3000"


class LongRun:
    """A long run streaming in the background; ``started`` is set at its first token."""

    def __init__(self, client: LangGraphClient, thread_id: str, **kwargs: Any) -> None:
        self.client = client
        self.thread_id = thread_id
        self.run: dict[str, str] = {}
        self.started = asyncio.Event()
        self.tokens = 0
        self.events: list[str] = []
        self.task = asyncio.ensure_future(self._consume(kwargs))

    async def _consume(self, kwargs: dict[str, Any]) -> None:
        async for part in self.client.runs.stream(
            self.thread_id, "agent", input=user_message(LONG), stream_mode="messages-tuple",
            on_run_created=lambda meta: self.run.update(meta), **kwargs,
        ):
            self.events.append(part.event)
            if part.event == "messages":
                self.tokens += 1
                self.started.set()

    async def wait_started(self) -> None:
        await asyncio.wait_for(self.started.wait(), 30)

    async def status(self) -> str:
        run = await self.client.runs.get(self.thread_id, self.run["run_id"])
        return str(run["status"])


async def test_cancel_stops_a_long_run_far_short_of_its_end(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    long = LongRun(client, thread["thread_id"])
    await long.wait_started()

    values = await client.runs.cancel(thread["thread_id"], long.run["run_id"], wait=True)
    await asyncio.wait_for(long.task, 30)

    assert await long.status() == "interrupted"
    assert long.tokens < 1000
    assert "error" not in long.events
    assert isinstance(values, dict)
    # Stopped with tasks left to run: the thread is free and reads interrupted, as on
    # LangGraph Server (langgraph-api 0.16.7), not busy.
    assert (await client.threads.get(thread["thread_id"]))["status"] == "interrupted"


async def test_cancel_without_wait_answers_202_and_the_run_stops(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    long = LongRun(client, thread["thread_id"])
    await long.wait_started()

    answer = await client.runs.cancel(thread["thread_id"], long.run["run_id"])
    await asyncio.wait_for(long.task, 30)

    assert answer is None
    assert await long.status() == "interrupted"


async def _read_until_first_token(stack: LocalStack, body: dict[str, Any]) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice"), timeout=30) as http:
        tid = (await http.post("/threads", json={})).json()["thread_id"]
        async with http.stream("POST", f"/threads/{tid}/runs/stream", json=body) as response:
            run_id = response.headers["content-location"].rsplit("/", 1)[1]
            async for line in response.aiter_lines():
                if line == "event: messages":
                    break
        # Leaving the block closes the connection mid-stream.
    return tid, run_id


async def test_disconnect_with_on_disconnect_cancel_cancels_the_run(
    stack: LocalStack, client: LangGraphClient
) -> None:
    tid, run_id = await _read_until_first_token(
        stack,
        {"assistant_id": "agent", "input": user_message(LONG),
         "stream_mode": "messages-tuple", "on_disconnect": "cancel"},
    )

    async def interrupted() -> bool:
        return (await client.runs.get(tid, run_id))["status"] == "interrupted"

    await eventually(interrupted, "the run to be cancelled after the client left")


async def test_disconnect_by_default_lets_the_run_finish(
    stack: LocalStack, client: LangGraphClient
) -> None:
    tid, run_id = await _read_until_first_token(
        stack,
        {"assistant_id": "agent", "input": user_message("count to 200"),
         "stream_mode": "messages-tuple"},
    )

    async def succeeded() -> bool:
        return (await client.runs.get(tid, run_id))["status"] == "success"

    await eventually(succeeded, "the run to finish without its client")
    state = await client.threads.get_state(tid)
    assert state["values"]["messages"][-1]["content"].split()[-1] == "200"


async def test_reject_strategy_refuses_a_second_run_with_409(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    long = LongRun(client, thread["thread_id"])
    await long.wait_started()

    with pytest.raises(ConflictError):
        async for _ in client.runs.stream(
            thread["thread_id"], "agent", input=user_message("count to 2"),
            multitask_strategy="reject",
        ):
            pass
    runs = await client.runs.list(thread["thread_id"])
    await client.runs.cancel(thread["thread_id"], long.run["run_id"], wait=True)
    await asyncio.wait_for(long.task, 30)

    assert [run["run_id"] for run in runs] == [long.run["run_id"]]


async def test_interrupt_strategy_stops_the_active_run_and_runs_the_new_one(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    long = LongRun(client, thread["thread_id"])
    await long.wait_started()

    result = await client.runs.wait(
        thread["thread_id"], "agent", input=user_message("count to 2"),
        multitask_strategy="interrupt",
    )
    await asyncio.wait_for(long.task, 30)

    assert await long.status() == "interrupted"
    assert result["messages"][-1]["content"].split() == ["1", "2"]
    statuses = [run["status"] for run in await client.runs.list(thread["thread_id"])]
    assert sorted(statuses) == ["interrupted", "success"]


async def test_enqueue_strategy_runs_the_second_after_the_first(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    first: list[str] = []

    async def consume_first() -> None:
        async for part in client.runs.stream(
            thread["thread_id"], "agent", input=user_message("count to 300"),
            stream_mode="messages-tuple",
        ):
            if part.event == "messages":
                first.append(part.data[0]["content"])
                started.set()

    started = asyncio.Event()
    task = asyncio.ensure_future(consume_first())
    await asyncio.wait_for(started.wait(), 30)

    result = await client.runs.wait(
        thread["thread_id"], "agent", input=user_message("count to 2"),
        multitask_strategy="enqueue",
    )
    await asyncio.wait_for(task, 30)

    answers = [m["content"] for m in result["messages"] if m["type"] == "ai"]
    assert answers[0].split()[-1] == "300"
    assert answers[1].split() == ["1", "2"]
    assert "".join(first).split()[-1] == "300"
