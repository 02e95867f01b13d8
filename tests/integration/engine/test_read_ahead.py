"""A streamed run reads its thread's latest checkpoint beside the transaction recording it.

Two properties: the read really overlaps the transaction (the first token waits for one
round trip, not two), and a read that a finishing run overtakes cannot fork the thread (the
saver's fence refuses the late run's first checkpoint; the run ends in error).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import boto3
import pytest
from langchain_core.runnables import RunnableConfig

from lambdagraph.engine import RunExecutor, RunService
from lambdagraph.engine.requests import RunRequest
from lambdagraph.engine.sinks import MemorySink
from lambdagraph.pricing.aws_meter import instrument
from lambdagraph.settings import Settings
from lambdagraph.store.checkpoint import AsyncDynamoDBSaver
from lambdagraph.wiring import Core
from tests.conftest import Tables

HELLO = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def world(tables: Tables) -> AsyncIterator[tuple[RunService, RunExecutor, Any]]:
    settings = Settings(app_table=tables.app, checkpoint_table=tables.checkpoints,
                        scripted_delay_ms=0)
    core = Core.from_settings(settings)
    instrument(core.store.client)  # as the deployed clients are: a run's aws use is metered
    saver = AsyncDynamoDBSaver(tables.checkpoints, client=instrument(boto3.client("dynamodb")))
    executor = core.executor(saver)
    runs = core.service(core.durable(executor, None))
    yield runs, executor, saver
    await runs.aclose()


async def _record(runs: RunService, thread_id: str) -> Any:
    """A run of the demo agent recorded on ``thread_id`` (``running`` when the thread is idle)."""
    return await runs.store.create_run(
        "alice", thread_id=thread_id, assistant_id="agent", graph_id="agent",
        kwargs={"input": HELLO, "stream_mode": ["values"]},
    )


async def _run_to_end(executor: RunExecutor, runs: RunService, thread_id: str) -> str:
    return await executor.execute(await _record(runs, thread_id), [MemorySink()])


async def _final_status(runs: RunService, run: Any) -> str:
    """Wait for the run tasks ``runs.stream`` spawned; the run's recorded status then."""
    await asyncio.wait_for(asyncio.gather(*list(runs.tasks)), 30)
    return str((await runs.store.read_run(run))["status"])


async def test_the_checkpoint_read_does_not_wait_for_the_run_transaction(
    world: tuple[RunService, RunExecutor, Any],
) -> None:
    runs, executor, saver = world
    thread_id = (await runs.store.create_thread("alice"))["thread_id"]
    assert await _run_to_end(executor, runs, thread_id) == "success"
    # Hold the transaction that records the next run until the checkpoint has been queried:
    # if the read waited for the transaction, neither would ever happen (the hold times out).
    queried = threading.Event()
    held: list[bool] = []

    def on_checkpoint_call(model: Any, **_: Any) -> None:
        if model.name == "Query":
            queried.set()

    def on_app_call(model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems" and not held:
            held.append(queried.wait(timeout=10))

    saver.client.meta.events.register("before-call.dynamodb.*", on_checkpoint_call)
    runs.store.client.meta.events.register("before-call.dynamodb.*", on_app_call)
    sink = MemorySink()
    request = RunRequest.model_validate(
        {"assistant_id": "agent", "input": HELLO, "stream_mode": ["messages-tuple"]}
    )
    run = await runs.stream("alice", request, thread_id=thread_id, sink=sink)
    assert held == [True]
    assert await _final_status(runs, run) == "success"
    assert any(event.event == "messages" for event in sink.events)
    # The read made ahead of the run is the run's own, and billed to it.
    recorded = await runs.store.read_run(run)
    assert recorded["aws"]["dynamodb_read_units"] >= 1, recorded["aws"]


async def test_a_read_overtaken_by_a_finishing_run_cannot_fork_the_thread(
    world: tuple[RunService, RunExecutor, Any],
) -> None:
    runs, executor, saver = world
    thread_id = (await runs.store.create_thread("alice"))["thread_id"]
    assert await _run_to_end(executor, runs, thread_id) == "success"
    latest: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    stale = executor.read_ahead(thread_id)
    assert stale is not None
    read = await stale.bind(saver).aget_tuple(latest)  # the read is done: now it goes stale
    assert read is not None
    assert await _run_to_end(executor, runs, thread_id) == "success"  # another run moves on
    before = await saver.aget_tuple(latest)
    assert before is not None

    late = await _record(runs, thread_id)
    sink = MemorySink()
    assert await executor.execute(late, [sink], read_ahead=stale) == "error"

    after = await saver.aget_tuple(latest)
    assert after is not None
    assert after.config == before.config  # the late run saved nothing: no second branch
    messages = after.checkpoint["channel_values"]["messages"]
    assert len(messages) == 4  # two turns of user + answer, not three
    assert any(event.event == "error" for event in sink.events)


async def test_a_run_waiting_its_turn_reads_afresh(
    world: tuple[RunService, RunExecutor, Any],
) -> None:
    runs, executor, _ = world
    thread_id = (await runs.store.create_thread("alice"))["thread_id"]
    assert await _run_to_end(executor, runs, thread_id) == "success"
    busy = await _record(runs, thread_id)
    request = RunRequest.model_validate(
        {"assistant_id": "agent", "input": HELLO, "multitask_strategy": "enqueue"}
    )
    queued = await runs.stream("alice", request, thread_id=thread_id, sink=MemorySink())
    assert queued["status"] == "pending"
    assert await executor.execute(busy, [MemorySink()]) == "success"
    assert await _final_status(runs, queued) == "success"
