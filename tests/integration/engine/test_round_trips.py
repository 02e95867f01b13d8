"""DynamoDB round trips before the first token of a run on an existing thread.

Budget: at most 3 that the first token waits for. Measured: 2 (``create_run``'s
transaction, then the checkpoint read).

The app table is counted with botocore ``before-call`` hooks. The DynamoDB checkpoint saver
is not merged yet, so the checkpointer is an in-memory saver that logs each call a DynamoDB
saver makes one request for (``aget_tuple``, ``aput``, ``aput_writes``). With LangGraph's
default ``async`` durability the input checkpoint and the ``__start__`` writes are *issued*
before the first token too, but in the background: the test holds every checkpoint write
until the first token has arrived, which would deadlock (and fail on the deadline) if the
first token waited for any of them.
"""

from __future__ import annotations

import asyncio
from typing import Any, Sequence

import boto3
from langgraph.checkpoint.memory import InMemorySaver

from lambdagraph.engine.executor import RunExecutor
from lambdagraph.engine.sinks import MemorySink
from lambdagraph.protocol.events import Event
from lambdagraph.store.app import AppStore
from tests.conftest import Tables
from tests.integration.engine.graphs import Registry, StreamingModel, chat_graph

BUDGET = 3


class CountingSaver(InMemorySaver):
    """An in-memory saver that logs each call a DynamoDB saver would make a request for."""

    def __init__(self, calls: list[str]) -> None:
        super().__init__()
        self.calls = calls
        self.hold_writes: asyncio.Event | None = None

    async def _held(self) -> None:
        if self.hold_writes is not None:
            await self.hold_writes.wait()

    async def aget_tuple(self, config: Any) -> Any:
        self.calls.append("checkpoint:get_tuple")
        return await super().aget_tuple(config)

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        self.calls.append("checkpoint:put")
        await self._held()
        return await super().aput(config, checkpoint, metadata, new_versions)

    async def aput_writes(self, config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
        self.calls.append("checkpoint:put_writes")
        await self._held()
        await super().aput_writes(config, writes, task_id, task_path)


class FirstTokenSink(MemorySink):
    """Notes which calls had been made when the first ``messages`` event arrived."""

    def __init__(self, calls: list[str], first_token: asyncio.Event) -> None:
        super().__init__()
        self.calls = calls
        self.first_token = first_token
        self.before_first_token: list[str] | None = None

    async def send(self, events: Sequence[Event]) -> None:
        if self.before_first_token is None and any(e.event == "messages" for e in events):
            self.before_first_token = list(self.calls)
            self.first_token.set()
        await super().send(events)


async def test_at_most_three_round_trips_before_the_first_token(tables: Tables) -> None:
    calls: list[str] = []
    client = boto3.client("dynamodb")
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(f"app:{model.name}")
    )
    store = AppStore(tables.app, client=client)
    saver = CountingSaver(calls)
    executor = RunExecutor(store, Registry(chat=chat_graph(StreamingModel())), saver)
    body: Any = {"input": {"messages": [{"role": "user", "content": "hi"}]}}
    thread = await store.create_thread("alice")
    # A first run so the thread has checkpoints, as an ongoing conversation does.
    first = await store.create_run(
        "alice", thread_id=thread["thread_id"], assistant_id="chat",
        kwargs={**body, "stream_mode": ["values"]},
    )
    await executor.execute(first, [MemorySink()])

    calls.clear()
    run = await store.create_run(
        "alice", thread_id=thread["thread_id"], assistant_id="chat",
        kwargs={**body, "stream_mode": ["messages-tuple"]},
    )
    first_token = asyncio.Event()
    saver.hold_writes = first_token
    sink = FirstTokenSink(calls, first_token)
    assert await asyncio.wait_for(executor.execute(run, [sink]), 20) == "success"

    assert sink.before_first_token is not None
    waited_for = [c for c in sink.before_first_token if not c.startswith("checkpoint:put")]
    assert waited_for == ["app:TransactWriteItems", "checkpoint:get_tuple"]
    assert len(waited_for) <= BUDGET
