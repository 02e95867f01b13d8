"""DynamoDB round trips before the first token of a run on an existing thread.

Budget: at most 3 that the first token waits for. Measured: 2 — ``create_run``'s
transaction, then the checkpointer's read of the latest checkpoint.

App-table and (for the DynamoDB saver) checkpoint-table requests are counted with botocore
``before-call`` hooks. Until the DynamoDB saver is merged, the ``memory`` variant stands in:
an in-memory saver that logs each call a DynamoDB saver makes a request for. With LangGraph's
default ``async`` durability the input checkpoint and the ``__start__`` writes are *issued*
before the first token too (the DynamoDB saver measured 2 transactions), but in the
background: the test holds every checkpoint write until the first token has arrived, which
would deadlock (and fail on the deadline) if the first token waited for any of them.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from lambdagraph.engine.executor import RunExecutor
from lambdagraph.engine.sinks import MemorySink
from lambdagraph.protocol.events import Event
from lambdagraph.store.app import AppStore
from tests.conftest import Tables
from tests.integration.engine.graphs import Registry, StreamingModel, chat_graph

BUDGET = 3


def held_writes(
    base: type[BaseCheckpointSaver[Any]], calls: list[str] | None = None
) -> type[Any]:
    """``base`` with checkpoint writes held back until ``hold_writes`` is set.

    With ``calls``, each saver call is logged there (for savers that make no AWS requests).
    """

    class Held(base):  # type: ignore[valid-type,misc]
        hold_writes: asyncio.Event | None = None

        async def _held(self, name: str) -> None:
            if calls is not None:
                calls.append(f"checkpoint:{name}")
            if self.hold_writes is not None:
                await self.hold_writes.wait()

        async def aget_tuple(self, config: Any) -> Any:
            if calls is not None:
                calls.append("checkpoint:get_tuple")
            return await super().aget_tuple(config)

        async def aput(self, config: Any, checkpoint: Any, metadata: Any, versions: Any) -> Any:
            await self._held("put")
            return await super().aput(config, checkpoint, metadata, versions)

        async def aput_writes(
            self, config: Any, writes: Any, task_id: str, task_path: str = ""
        ) -> None:
            await self._held("put_writes")
            await super().aput_writes(config, writes, task_id, task_path)

    return Held


def make_saver(kind: str, tables: Tables, calls: list[str]) -> Any:
    if kind == "memory":
        return held_writes(InMemorySaver, calls)()
    pytest.importorskip("lambdagraph.store.checkpoint", reason="DynamoDB saver not merged yet")
    aio = importlib.import_module("lambdagraph.store.checkpoint.aio")
    client = boto3.client("dynamodb")
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(f"checkpoint:{model.name}")
    )
    return held_writes(aio.AsyncDynamoDBSaver)(tables.checkpoints, client=client)


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


@pytest.mark.parametrize("saver_kind", ["memory", "dynamodb"])
async def test_at_most_three_round_trips_before_the_first_token(
    tables: Tables, saver_kind: str
) -> None:
    calls: list[str] = []
    client = boto3.client("dynamodb")
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(f"app:{model.name}")
    )
    store = AppStore(tables.app, client=client)
    saver = make_saver(saver_kind, tables, calls)
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
    app_calls = [c for c in sink.before_first_token if c.startswith("app:")]
    assert app_calls == ["app:TransactWriteItems"]  # create_run; the executor reads nothing
    # Checkpoint writes were held until the first token, so any still listed are reads.
    reads = [
        c for c in sink.before_first_token
        if c.startswith("checkpoint:") and c not in HELD_WRITES[saver_kind]
    ]
    assert len(reads) == 1, sink.before_first_token
    assert len(app_calls) + len(reads) <= BUDGET


# Calls that ``held_writes`` holds back: they are issued, but nothing waits for them.
HELD_WRITES = {
    "memory": {"checkpoint:put", "checkpoint:put_writes"},
    "dynamodb": {
        "checkpoint:TransactWriteItems",
        "checkpoint:PutItem",
        "checkpoint:BatchWriteItem",
    },
}
