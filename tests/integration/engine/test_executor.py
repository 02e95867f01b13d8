"""RunExecutor with small real graphs, the moto app table and an in-memory checkpointer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
from langgraph.checkpoint.memory import InMemorySaver

from lambdagraph.engine.executor import RunExecutor
from lambdagraph.engine.resumable import SequencedSink
from lambdagraph.engine.sinks import MemorySink
from lambdagraph.protocol.events import Event
from lambdagraph.protocol.sse import dumps
from lambdagraph.store.app import AppStore
from lambdagraph.store.records import RunKwargs
from tests.conftest import Tables
from tests.integration.engine.graphs import (
    Registry,
    StreamingModel,
    approval_graph,
    chat_graph,
    failing_graph,
    never,
    subgraph_graph,
)

USER = "alice"
# The test model has no price: tokens counted, cost unknown.
CHAT_USAGE = {
    "input_tokens": 7,
    "output_tokens": 3,
    "total_tokens": 10,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
    "cost_usd": None,
}
HI = {"messages": [{"role": "user", "content": "hi"}]}
DEADLINE = 20.0


class SignalSink(MemorySink):
    """A memory sink that can be awaited until an event with a given name arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Condition()

    async def send(self, events: Sequence[Event]) -> None:
        await super().send(events)
        async with self.arrived:
            self.arrived.notify_all()

    async def wait_for(self, name: str) -> None:
        async with self.arrived:
            await asyncio.wait_for(
                self.arrived.wait_for(lambda: any(e.event == name for e in self.events)),
                DEADLINE,
            )


@pytest.fixture
def store(tables: Tables) -> AppStore:
    return AppStore(tables.app, client=boto3.client("dynamodb"))


@pytest.fixture
def reached() -> list[str]:
    return []


@pytest.fixture
def executor(store: AppStore, reached: list[str]) -> RunExecutor:
    registry = Registry(
        chat=chat_graph(StreamingModel(), reached=reached),
        stalled=chat_graph(StreamingModel(stall=never()), reached=reached),
        approve=approval_graph(reached=reached),
        fail=failing_graph(RuntimeError("db password is hunter2")),
        recursion=failing_graph(ValueError("internal path /srv/secret")),
        nested=subgraph_graph(StreamingModel()),
    )
    return RunExecutor(store, registry, InMemorySaver(), cancel_poll_interval=0.05)


async def new_run(
    store: AppStore, assistant: str, thread_id: str | None = "new", **kwargs: Any
) -> Any:
    if thread_id == "new":
        thread_id = (await store.create_thread(USER))["thread_id"]
    body: RunKwargs = {"input": HI, **kwargs}  # type: ignore[typeddict-item]
    strategy = body.pop("multitask_strategy", "enqueue")  # type: ignore[typeddict-item]
    return await store.create_run(
        USER, thread_id=thread_id, assistant_id=assistant, kwargs=body, multitask_strategy=strategy
    )


def names(sink: MemorySink) -> list[str]:
    return [e.event for e in sink.events]


async def test_messages_tuple_stream_shape_status_and_usage(
    store: AppStore, executor: RunExecutor
) -> None:
    run = await new_run(store, "chat", stream_mode=["messages-tuple", "values", "usage"])
    sink = MemorySink()
    assert await executor.execute(run, [sink]) == "success"
    assert sink.closed.is_set()
    assert sink.events[0] == Event("metadata", {"run_id": run["run_id"], "attempt": 1})
    messages = [e.data for e in sink.events if e.event == "messages"]
    assert "".join(m[0]["content"] for m in messages) == "Hello there friend"
    assert all(m[0]["type"] == "AIMessageChunk" for m in messages)
    ids = {m[0]["id"] for m in messages}
    assert len(ids) == 1
    assert all(m[1]["langgraph_node"] == "model" for m in messages)
    last_values = [e.data for e in sink.events if e.event == "values"][-1]
    assert last_values["messages"][-1].id in ids  # the same message, by id
    assert names(sink).index("values") < names(sink).index("messages")
    assert [e.data["total"] for e in sink.events if e.event == "usage"] == [
        CHAT_USAGE
    ]
    assert "error" not in names(sink) and "updates" not in names(sink)
    recorded = await store.get_run(USER, run["thread_id"], run["run_id"])
    assert recorded["status"] == "success"
    assert recorded["usage"] == CHAT_USAGE
    thread = await store.get_thread(USER, run["thread_id"])
    assert thread["status"] == "idle"
    assert thread["values"]["messages"][-1]["content"] == "Hello there friend"


async def test_usage_events_only_when_asked(store: AppStore, executor: RunExecutor) -> None:
    run = await new_run(store, "chat", stream_mode=["updates"])
    sink = MemorySink()
    await executor.execute(run, [sink])
    assert names(sink) == ["metadata", "updates", "updates"]
    recorded = await store.get_run(USER, run["thread_id"], run["run_id"])
    assert recorded["usage"] == CHAT_USAGE


async def test_interrupt_is_an_updates_event_then_resume(
    store: AppStore, executor: RunExecutor, reached: list[str]
) -> None:
    run = await new_run(store, "approve", stream_mode=["updates"])
    sink = MemorySink()
    assert await executor.execute(run, [sink]) == "success"
    interrupt = sink.events[-1]
    assert interrupt.event == "updates"
    [entry] = interrupt.data["__interrupt__"]
    assert entry["value"] == {"action": "send_email", "args": {"to": "a@b.c"}}
    assert set(entry) == {"value", "id"} and entry["id"]
    thread = await store.get_thread(USER, run["thread_id"])
    assert thread["status"] == "interrupted"
    ids = [i["id"] for pending in thread["interrupts"].values() for i in pending]
    assert ids == [entry["id"]]
    assert reached == []

    resume = await store.create_run(
        USER,
        thread_id=run["thread_id"],
        assistant_id="approve",
        kwargs={"command": {"resume": {"approved": True}}, "stream_mode": ["updates"]},
    )
    sink = MemorySink()
    assert await executor.execute(resume, [sink]) == "success"
    assert reached == ["approved=True", "send"]
    assert (await store.get_thread(USER, run["thread_id"]))["status"] == "idle"


async def test_interrupt_as_values_event_when_updates_not_requested(
    store: AppStore, executor: RunExecutor
) -> None:
    run = await new_run(store, "approve", stream_mode=["messages-tuple"])
    sink = MemorySink()
    await executor.execute(run, [sink])
    assert names(sink) == ["metadata", "values"]
    [entry] = sink.events[-1].data["__interrupt__"]
    assert entry["value"]["action"] == "send_email"
    assert set(sink.events[-1].data) == {"__interrupt__"}

    run = await new_run(store, "approve", stream_mode=["values"])
    sink = MemorySink()
    await executor.execute(run, [sink])
    last = sink.events[-1]
    assert last.event == "values"
    assert last.data["__interrupt__"][0]["value"]["action"] == "send_email"
    assert "updates" not in names(sink)


async def test_error_event_hides_internal_text(store: AppStore, executor: RunExecutor) -> None:
    for assistant in ("fail", "recursion"):
        run = await new_run(store, assistant, stream_mode=["values", "updates"])
        sink = MemorySink()
        assert await executor.execute(run, [sink]) == "error"
        assert sink.events[-1].event == "error"
        assert sink.events[-1].data == {
            "error": "RuntimeError" if assistant == "fail" else "ValueError",
            "message": "An internal error occurred",
        }
        wire = b"".join(dumps(e.data) for e in sink.events)
        assert b"hunter2" not in wire and b"/srv/secret" not in wire
        assert sink.closed.is_set()
        assert (await store.get_run(USER, run["thread_id"], run["run_id"]))["status"] == "error"
        assert (await store.get_thread(USER, run["thread_id"]))["status"] == "error"


async def test_unknown_assistant_is_an_error_event(store: AppStore, executor: RunExecutor) -> None:
    run = await new_run(store, "nope")
    sink = MemorySink()
    assert await executor.execute(run, [sink]) == "error"
    assert sink.events[-1].data == {
        "error": "AssistantNotFound",
        "message": "Assistant nope not found",
    }


async def test_cancel_stops_the_graph_and_records_interrupted(
    store: AppStore, executor: RunExecutor, reached: list[str]
) -> None:
    run = await new_run(store, "stalled", stream_mode=["messages-tuple", "updates"])
    sink = SignalSink()
    task = asyncio.create_task(executor.execute(run, [sink]))
    await sink.wait_for("messages")
    await store.cancel_run(USER, run["thread_id"], run["run_id"])
    assert await asyncio.wait_for(task, DEADLINE) == "interrupted"
    assert reached == []  # the node after the model never ran
    assert sink.closed.is_set() and "error" not in names(sink)
    recorded = await store.get_run(USER, run["thread_id"], run["run_id"])
    assert recorded["status"] == "interrupted"
    thread = await store.get_thread(USER, run["thread_id"])
    # Free again; it stopped with tasks left, so it reads interrupted (as LangGraph Server).
    assert thread["status"] == "interrupted" and thread["active_run_id"] is None


async def test_enqueued_run_waits_for_the_active_one(
    store: AppStore, executor: RunExecutor
) -> None:
    first = await new_run(store, "chat", stream_mode=["values"])
    second = await new_run(store, "chat", thread_id=first["thread_id"], stream_mode=["values"])
    assert second["status"] == "pending"
    sinks = MemorySink(), MemorySink()
    waiting = asyncio.create_task(executor.execute(second, [sinks[1]]))
    assert await executor.execute(first, [sinks[0]]) == "success"
    assert await asyncio.wait_for(waiting, DEADLINE) == "success"
    # The second run saw the first one's messages: it really ran after it, on the same thread.
    final = sinks[1].events[-1].data["messages"]
    assert [m.type for m in final] == ["human", "ai", "human", "ai"]
    assert (await store.get_thread(USER, first["thread_id"]))["status"] == "idle"


async def test_interrupt_strategy_cancels_the_active_run(
    store: AppStore, executor: RunExecutor, reached: list[str]
) -> None:
    first = await new_run(store, "stalled", stream_mode=["messages-tuple"])
    sink = SignalSink()
    active = asyncio.create_task(executor.execute(first, [sink]))
    await sink.wait_for("messages")
    second = await new_run(
        store, "chat", thread_id=first["thread_id"], multitask_strategy="interrupt"
    )
    assert await asyncio.wait_for(active, DEADLINE) == "interrupted"
    assert await asyncio.wait_for(executor.execute(second, [MemorySink()]), DEADLINE) == "success"
    assert reached == ["after"]  # only the second run got past the model


async def test_stream_subgraphs_names_events_by_namespace(
    store: AppStore, executor: RunExecutor
) -> None:
    run = await new_run(
        store, "nested", stream_mode=["messages-tuple", "updates"], stream_subgraphs=True
    )
    sink = MemorySink()
    await executor.execute(run, [sink])
    nested = [e.event for e in sink.events if "|" in e.event]
    assert nested and all(n.split("|")[1].startswith("inner:") for n in nested)
    assert {n.split("|")[0] for n in nested} == {"messages", "updates"}
    assert names(sink)[-1] == "updates"  # the root's own update comes last


async def test_stateless_run_leaves_no_thread(store: AppStore, executor: RunExecutor) -> None:
    run = await new_run(store, "chat", thread_id=None, stream_mode=["values"])
    sink = MemorySink()
    assert await executor.execute(run, [sink]) == "success"
    assert sink.events[-1].data["messages"][-1].content == "Hello there friend"
    assert await store.search_threads(USER) == []


async def test_resumable_runs_number_their_events(store: AppStore, executor: RunExecutor) -> None:
    # Events are numbered in one place: the SequencedSink durable runs put before their sinks.
    run = await new_run(store, "chat", stream_mode=["messages-tuple"], stream_resumable=True)
    sink = MemorySink()
    await executor.execute(run, [SequencedSink([sink])])
    ids = [int(e.id) for e in sink.events if e.id is not None]
    assert len(ids) == len(sink.events) and ids == sorted(set(ids))


async def test_a_failing_sink_does_not_stop_the_run(store: AppStore, executor: RunExecutor) -> None:
    class Broken(MemorySink):
        async def send(self, events: Sequence[Event]) -> None:
            raise ConnectionError("client gone")

    run = await new_run(store, "chat", stream_mode=["values"])
    good = MemorySink()
    assert await executor.execute(run, [Broken(), good]) == "success"
    assert names(good) == ["metadata", "values", "values"]


async def test_cancelling_the_executor_task_records_the_run_interrupted(
    store: AppStore, executor: RunExecutor, reached: list[str]
) -> None:
    run = await new_run(store, "stalled", stream_mode=["messages-tuple"])
    sink = SignalSink()
    task = asyncio.create_task(executor.execute(run, [sink]))
    await sink.wait_for("messages")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, DEADLINE)
    assert sink.closed.is_set() and reached == []
    assert (await store.get_run(USER, run["thread_id"], run["run_id"]))["status"] == "interrupted"
    assert (await store.get_thread(USER, run["thread_id"]))["status"] == "interrupted"


async def test_a_run_cancelled_while_pending_never_starts(
    store: AppStore, executor: RunExecutor, reached: list[str]
) -> None:
    first = await new_run(store, "stalled", stream_mode=["messages-tuple"])
    second = await new_run(store, "chat", thread_id=first["thread_id"])
    sinks = SignalSink(), MemorySink()
    active = asyncio.create_task(executor.execute(first, [sinks[0]]))
    waiting = asyncio.create_task(executor.execute(second, [sinks[1]]))
    await sinks[0].wait_for("messages")
    await store.cancel_run(USER, second["thread_id"], second["run_id"])
    assert await asyncio.wait_for(waiting, DEADLINE) == "interrupted"
    assert names(sinks[1]) == ["metadata"] and sinks[1].closed.is_set()
    await store.cancel_run(USER, first["thread_id"], first["run_id"])
    assert await asyncio.wait_for(active, DEADLINE) == "interrupted"
    assert reached == []
    assert (await store.get_thread(USER, first["thread_id"]))["status"] == "interrupted"


async def test_cancelling_a_waiting_executor_frees_the_queue(
    store: AppStore, executor: RunExecutor
) -> None:
    first = await new_run(store, "chat", stream_mode=["values"])
    second = await new_run(store, "chat", thread_id=first["thread_id"])
    third = await new_run(store, "chat", thread_id=first["thread_id"])
    sink = SignalSink()
    waiting = asyncio.create_task(executor.execute(second, [sink]))
    await sink.wait_for("metadata")  # it is waiting for its turn now
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, DEADLINE)
    recorded = await store.get_run(USER, second["thread_id"], second["run_id"])
    assert recorded["status"] == "interrupted"
    assert await executor.execute(first, [MemorySink()]) == "success"
    # The thread went to the third run, not to the abandoned second one.
    assert await asyncio.wait_for(executor.execute(third, [MemorySink()]), DEADLINE) == "success"
