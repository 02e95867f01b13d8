"""Chunk → event mapping, as LangGraph Server names and shapes events."""

from __future__ import annotations

from langchain_core.messages import AIMessage, AIMessageChunk
from langgraph.types import Interrupt

from lambdagraph.engine.chunks import ChunkMapper, debug_checkpoint, interrupt_dict
from lambdagraph.protocol.events import Event

META = {"langgraph_node": "model"}
INTERRUPT = Interrupt(value={"action": "send_email"}, id="i-1")


def test_default_mode_is_values_and_internal_modes_are_added() -> None:
    mapper = ChunkMapper([])
    assert mapper.requested == ["values"]
    assert mapper.graph_modes == ["values", "checkpoints"]


def test_messages_tuple_asks_for_messages_and_updates_for_interrupts() -> None:
    mapper = ChunkMapper(["messages-tuple", "usage", "events"])
    assert mapper.graph_modes == ["messages", "checkpoints", "updates"]


def test_messages_tuple_chunks_become_messages_events() -> None:
    mapper = ChunkMapper(["messages-tuple"])
    chunk = AIMessageChunk(content="Hel", id="m-1")
    [event] = mapper.map((), "messages", (chunk, META))
    assert event.event == "messages"
    message, metadata = event.data
    assert message["content"] == "Hel" and message["id"] == "m-1"
    assert message["type"] == "AIMessageChunk"
    assert metadata == META


def test_legacy_messages_mode_accumulates_partials() -> None:
    mapper = ChunkMapper(["messages"])
    first = mapper.map((), "messages", (AIMessageChunk(content="Hel", id="m-1"), META))
    second = mapper.map((), "messages", (AIMessageChunk(content="lo", id="m-1"), META))
    assert [e.event for e in first] == ["messages/metadata", "messages/partial"]
    assert first[0].data == {"m-1": {"metadata": META}}
    assert [e.event for e in second] == ["messages/partial"]
    assert second[0].data[0]["content"] == "Hello"
    [complete] = mapper.map((), "messages", (AIMessage(content="done", id="m-2"), META))[1:]
    assert complete.event == "messages/complete" and complete.data[0]["type"] == "ai"


def test_unrequested_modes_are_dropped() -> None:
    mapper = ChunkMapper(["updates"])
    assert mapper.map((), "values", {"x": 1}) == []
    assert mapper.map((), "checkpoints", {"values": {}, "next": [], "tasks": []}) == []
    assert mapper.map((), "updates", {"node": {"x": 1}}) == [Event("updates", {"node": {"x": 1}})]


def test_subgraph_events_are_named_by_namespace_only_when_asked() -> None:
    ns = ("inner:abc", "deeper:def")
    with_ns = ChunkMapper(["updates"], subgraphs=True)
    assert with_ns.map(ns, "updates", {"a": 1})[0].event == "updates|inner:abc|deeper:def"
    assert with_ns.map((), "updates", {"a": 1})[0].event == "updates"
    without = ChunkMapper(["updates"])
    assert without.map(ns, "updates", {"a": 1})[0].event == "updates"


def test_interrupt_in_updates() -> None:
    mapper = ChunkMapper(["updates"])
    [event] = mapper.map((), "updates", {"__interrupt__": (INTERRUPT,)})
    assert event == Event(
        "updates", {"__interrupt__": [{"value": {"action": "send_email"}, "id": "i-1"}]}
    )
    assert mapper.saw_interrupt


def test_interrupt_as_values_when_neither_values_nor_updates_requested() -> None:
    mapper = ChunkMapper(["messages-tuple"])
    assert mapper.map((), "updates", {"model": {"x": 1}}) == []
    [event] = mapper.map((), "updates", {"__interrupt__": (INTERRUPT,)})
    assert event.event == "values"
    assert event.data == {"__interrupt__": [{"value": {"action": "send_email"}, "id": "i-1"}]}


def test_values_with_interrupt_carry_plain_interrupts() -> None:
    mapper = ChunkMapper(["values"])
    [event] = mapper.map((), "values", {"messages": [], "__interrupt__": (INTERRUPT,)})
    assert event.data["__interrupt__"] == [{"value": {"action": "send_email"}, "id": "i-1"}]


def test_interrupt_dict_keeps_a_response_schema() -> None:
    schema = {"type": "object"}
    assert interrupt_dict(Interrupt(value=1, id="x", response_schema=schema)) == {
        "value": 1,
        "id": "x",
        "response_schema": schema,
    }


def test_debug_checkpoints_get_server_fields() -> None:
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c2"}}
    parent = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c1"}}
    task_state = {"configurable": {"thread_id": "t", "checkpoint_ns": "inner:1"}}
    payload = {
        "config": config,
        "parent_config": parent,
        "values": {},
        "next": ["inner"],
        "tasks": [{"id": "1", "name": "inner", "interrupts": (), "state": task_state}],
    }
    mapper = ChunkMapper(["debug"])
    [event] = mapper.map((), "debug", {"type": "checkpoint", "step": 1, "payload": payload})
    out = event.data["payload"]
    assert out["checkpoint"] == {"checkpoint_id": "c2", "thread_id": "t", "checkpoint_ns": ""}
    assert out["parent_checkpoint"]["checkpoint_id"] == "c1"
    assert out["tasks"][0]["checkpoint"] == task_state["configurable"]
    assert "state" not in out["tasks"][0]
    assert debug_checkpoint(None) is None


def test_thread_summary_from_the_last_root_checkpoint() -> None:
    mapper = ChunkMapper(["values"])
    mapper.map(("inner:1",), "checkpoints", {"values": {"inner": True}, "next": [], "tasks": []})
    assert mapper.thread_summary() == (None, {}, False)
    mapper.map(
        (),
        "checkpoints",
        {"values": {"n": 1}, "next": ["ask"], "tasks": [{"id": "t1", "interrupts": (INTERRUPT,)}]},
    )
    values, interrupts, has_next = mapper.thread_summary()
    assert values == {"n": 1} and has_next
    assert interrupts == {"t1": [{"value": {"action": "send_email"}, "id": "i-1"}]}
