"""Batching: merged chunks reassemble, batches respect the frame size, nothing exceeds 128 KB."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from langchain_core.messages import AIMessageChunk

from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event
from lambdagraph.ws.batching import DEFAULT_BATCH_BYTES, Batcher, merge_events
from tests.unit.ws.quadratic import QuadraticBatcher

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


# --- long messages: linear merging gives exactly what LangChain's add gives ---------------

WORDS = ["Hel", "lo", " wörld", ' "quoted"', " back\\slash", "\n", " 🙂", " é", "", " tab\t"]
ARGS = ['{"x": ', "1e15", ", ", '"s": "a\\"b', "\\u00e9", '"', ', "n": [', "NaN", ", 2.5E3", "]}"]


def ai(seq: int, message_id: str = "m1", **fields: Any) -> Event:
    chunk = AIMessageChunk(id=message_id, **{"content": "", **fields}).model_dump()
    return Event("messages", [chunk, META], f"{seq:010d}")


def mixed_message(rng: random.Random, count: int, *, blocks: bool = False) -> list[Event]:
    """One message's chunks: text, tool-call arguments for two calls, a usage-bearing end,
    a foreign event or another message now and then."""
    metadata = {"model_provider": "scripted"}
    events = [ai(0, content=[] if blocks else "", response_metadata=metadata)]
    calls = 0
    for seq in range(1, count):
        roll = rng.random()
        if roll < 0.03 and calls < 2:
            start = {"name": f"tool{calls}", "args": "", "id": f"call{calls}", "index": calls}
            events.append(ai(seq, content="", tool_call_chunks=[start]))
            calls += 1
        elif roll < 0.45 and calls:
            fragment = {"name": None, "args": rng.choice(ARGS), "id": None,
                        "index": rng.randrange(calls)}
            events.append(ai(seq, content="", tool_call_chunks=[fragment],
                             response_metadata=metadata))
        elif roll < 0.47:
            events.append(Event("custom", {"n": seq}, f"{seq:010d}"))
        elif roll < 0.48:
            events.append(ai(seq, message_id="m2", content="other"))
        else:
            word = rng.choice(WORDS)
            content: Any = [{"type": "text", "text": word, "index": rng.randrange(2)}] if blocks \
                else word
            events.append(ai(seq, content=content, response_metadata=metadata))
    usage = {"input_tokens": 3, "output_tokens": count, "total_tokens": count + 3}
    events.append(ai(count, content=[] if blocks else "", usage_metadata=usage,
                     chunk_position="last", response_metadata={"finish_reason": "stop"}))
    return events


def batched(batcher: Any, events: list[Event], rng: random.Random) -> list[bytes]:
    """Feed ``events`` in windows of random length, draining after each, as the sender does."""
    out: list[bytes] = []
    position = 0
    while position < len(events):
        window = rng.randint(1, 400)
        out += batcher.add(events[position : position + window]) + batcher.drain()
        position += window
    return out


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("blocks", [False, True], ids=["text", "content-blocks"])
def test_mixed_content_and_tool_call_chunks_match_langchain_byte_for_byte(
    seed: int, blocks: bool
) -> None:
    rng = random.Random(seed)
    events = mixed_message(rng, 800, blocks=blocks)
    batch_bytes = rng.choice([900, 4_000, DEFAULT_BATCH_BYTES])
    ours = batched(Batcher("r1", "t1", batch_bytes=batch_bytes), events, random.Random(seed))
    reference = batched(
        QuadraticBatcher("r1", "t1", batch_bytes=batch_bytes), events, random.Random(seed)
    )
    assert ours == reference
    assert all(len(m) <= batch_bytes for m in ours)


def test_exponent_heavy_tool_arguments_stay_under_the_batch_size() -> None:
    # Parsed, "1e15" re-encodes as "1000000000000000.0": the arguments' length understates it.
    start = {"name": "calc", "args": '{"v": [', "id": "c1", "index": 0}
    events = [ai(0, tool_call_chunks=[start])]
    fragment = {"name": None, "args": "1e15,", "id": None, "index": 0}
    events += [ai(i, tool_call_chunks=[fragment]) for i in range(1, 1_000)]
    ours = Batcher("r1", "t1", batch_bytes=3_000).add(events)
    assert ours == QuadraticBatcher("r1", "t1", batch_bytes=3_000).add(events)
    assert len(ours) >= 3 and all(len(m) <= 3_000 for m in ours)
    [first_call] = decode(ours)[0]["events"][0]["data"][0]["tool_calls"]
    assert first_call["name"] == "calc" and set(first_call["args"]["v"]) == {1e15}


def test_a_10000_token_message_arrives_whole_in_frame_sized_events() -> None:
    tokens = [f" {i}" for i in range(10_000)]
    batcher = Batcher("r1", "t1")
    messages = batcher.add([token(text, i) for i, text in enumerate(tokens)]) + batcher.drain()
    assert all(len(m) <= DEFAULT_BATCH_BYTES for m in messages)
    events = [e for m in decode(messages) for e in m["events"]]
    assert len(events) == len(messages) > 1  # one merged event per frame
    assert "".join(e["data"][0]["content"] for e in events) == "".join(tokens)
    assert events[-1]["id"] == f"{9_999:010d}" and all(e["data"][1] == META for e in events)
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids)
