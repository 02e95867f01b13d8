"""The executor with the real demo graph (scripted model): tokens, tool calls, approval."""

from __future__ import annotations

import boto3
from langgraph.checkpoint.memory import InMemorySaver

from lambdagraph.agents import GraphRegistry
from lambdagraph.engine.executor import RunExecutor
from lambdagraph.engine.sinks import MemorySink
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore
from tests.conftest import Tables


def said(text: str) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": text}]}


async def test_email_needs_approval_then_resumes(tables: Tables) -> None:
    store = AppStore(tables.app, client=boto3.client("dynamodb"))
    registry = GraphRegistry.from_settings(Settings(scripted_delay_ms=0))
    executor = RunExecutor(store, registry, InMemorySaver(), cancel_poll_interval=0.05)
    thread = await store.create_thread("alice")
    run = await store.create_run(
        "alice",
        thread_id=thread["thread_id"],
        assistant_id="agent",
        kwargs={
            "input": said("send an email to a@b.c"),
            "stream_mode": ["messages-tuple", "updates", "usage"],
        },
    )
    sink = MemorySink()
    assert await executor.execute(run, [sink]) == "success"
    [interrupt] = [e for e in sink.events if e.event == "updates" and "__interrupt__" in e.data]
    assert interrupt.data["__interrupt__"][0]["value"]["action"] == "send_email"
    assert (await store.get_thread("alice", thread["thread_id"]))["status"] == "interrupted"
    assert any(e.event == "usage" for e in sink.events)

    resume = await store.create_run(
        "alice",
        thread_id=thread["thread_id"],
        assistant_id="agent",
        kwargs={"command": {"resume": {"approved": True}}, "stream_mode": ["messages-tuple"]},
    )
    sink = MemorySink()
    assert await executor.execute(resume, [sink]) == "success"
    text = "".join(
        e.data[0]["content"] for e in sink.events
        if e.event == "messages" and e.data[0]["type"] == "AIMessageChunk"
    )
    assert text  # the model answered after the approved tool call
    thread_after = await store.get_thread("alice", thread["thread_id"])
    assert thread_after["status"] == "idle" and thread_after["interrupts"] == {}
    recorded = await store.get_run("alice", thread["thread_id"], resume["run_id"])
    assert recorded["usage"] is not None and recorded["usage"]["total_tokens"] > 0


async def test_trigger_an_error_shows_the_scripted_error(tables: Tables) -> None:
    store = AppStore(tables.app, client=boto3.client("dynamodb"))
    registry = GraphRegistry.from_settings(Settings(scripted_delay_ms=0))
    executor = RunExecutor(store, registry, InMemorySaver())
    thread = await store.create_thread("alice")
    run = await store.create_run(
        "alice", thread_id=thread["thread_id"], assistant_id="agent",
        kwargs={"input": said("trigger an error"), "stream_mode": ["values"]},
    )
    sink = MemorySink()
    assert await executor.execute(run, [sink]) == "error"
    assert sink.events[-1].event == "error"
    assert sink.events[-1].data["error"] == "ScriptedModelError"
