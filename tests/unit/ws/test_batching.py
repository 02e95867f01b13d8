"""Batching: merged chunks reassemble, batches respect the frame size, nothing exceeds 128 KB."""

from __future__ import annotations

from typing import Any

import orjson
from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event
from lambdagraph.ws.batching import Batcher, merge_events
from langchain_core.messages import AIMessageChunk

META = {"langgraph_node": "agent", "langgraph_step": 1}


def token(text: str, seq: int, *, message_id: str = "m1", **fields: Any) -> Event:
    chunk = AIMessageChunk(content=text, id=message_id, **fields).model_dump()
    return Event("messages", [chunk, META], f"{seq:010d}")


def decode(messages: list[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(m) for m in messages]


def test_tokens_of_one_message_merge_into_one_event_with_the_last_id() -> None:
    batcher = Batcher("r1", "t1")
    assert batcher.add([token(t, i) for i, t in enumerate(["Hel", "lo", ", wor", "ld"])]) == []
    [message] = decode(batcher.drain())
    assert (
        message["type"] == "events" and message["run_id"] == "r1" and message["thread_id"] == "t1"
    )
    [event] = message["events"]
    assert event["event"] == "messages" and event["id"] == "0000000003"
    chunk, metadata = event["data"]
    assert chunk["content"] == "Hello, world" and chunk["id"] == "m1" and metadata == META


def test_tool_call_argument_fragments_concatenate() -> None:
    first = token(
        "", 0, tool_call_chunks=[{"name": "calc", "args": '{"x": ', "id": "c1", "index": 0}]
    )
    second = token("", 1, tool_call_chunks=[{"name": None, "args": "42}", "id": None, "index": 0}])
    merged = merge_events(first, second)
    assert merged is not None
    chunk = merged.data[0]
    assert chunk["tool_call_chunks"][0]["args"] == '{"x": 42}'
    assert chunk["tool_calls"][0]["args"] == {"x": 42}


def test_different_messages_and_other_events_stay_apart() -> None:
    batcher = Batcher("r1", "t1")
    batcher.add(
        [
            token("a", 0),
            token("b", 1, message_id="m2"),
            Event("values", {"x": 1}, "2"),
            token("c", 3, message_id="m2"),
        ]
    )
    [message] = decode(batcher.drain())
    assert [e["event"] for e in message["events"]] == ["messages", "messages", "values", "messages"]
    assert [e["data"][0]["content"] for e in message["events"] if e["event"] == "messages"] == [
        "a",
        "b",
        "c",
    ]


def test_partial_snapshots_keep_only_the_latest() -> None:
    older = Event("messages/partial", [{"id": "m1", "content": "He"}], "5")
    newer = Event("messages/partial", [{"id": "m1", "content": "Hello"}], "6")
    assert merge_events(older, newer) == newer
    other = Event("messages/partial", [{"id": "m2", "content": "x"}], "7")
    assert merge_events(newer, other) is None


def test_batches_are_cut_before_the_frame_size() -> None:
    batcher = Batcher("r1", "t1", batch_bytes=2_000)
    events = [Event("custom", {"n": i, "pad": "x" * 300}, str(i)) for i in range(40)]
    messages = batcher.add(events) + batcher.drain()
    assert len(messages) > 1
    assert all(len(m) <= 2_000 for m in messages)
    received = [e["data"]["n"] for m in decode(messages) for e in m["events"]]
    assert received == list(range(40))


def test_merging_stops_when_the_merged_chunk_would_not_fit() -> None:
    batcher = Batcher("r1", "t1", batch_bytes=1_500)
    messages = batcher.add([token("y" * 400, i) for i in range(10)]) + batcher.drain()
    assert all(len(m) <= 1_500 for m in messages)
    text = "".join(e["data"][0]["content"] for m in decode(messages) for e in m["events"])
    assert text == "y" * 4_000


def test_a_large_event_goes_alone_and_an_oversized_one_becomes_an_error() -> None:
    batcher = Batcher("r1", "t1")
    big = Event("values", {"blob": "b" * 60_000}, "1")
    huge = Event("values", {"blob": "h" * (ws.MESSAGE_BYTES + 10)}, "2")
    messages = batcher.add([Event("custom", 1, "0"), big, huge, Event("custom", 3, "3")])
    messages += batcher.drain()
    assert all(len(m) <= ws.MESSAGE_BYTES for m in messages)
    decoded = decode(messages)
    assert [m["type"] for m in decoded] == ["events", "events", "error", "events"]
    assert decoded[1]["events"][0]["data"]["blob"] == "b" * 60_000
    assert decoded[2]["code"] == "event_too_large" and decoded[2]["event_id"] == "2"
    assert decoded[3]["events"][0]["id"] == "3"
