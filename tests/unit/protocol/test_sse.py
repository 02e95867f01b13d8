from __future__ import annotations

from dataclasses import dataclass

import orjson
from langchain_core.messages import AIMessageChunk

from lambdagraph.protocol import Event, encode_comment, encode_event


def test_frame_without_id_has_event_and_one_data_line() -> None:
    frame = encode_event(Event("values", {"text": "line one\nline two"}))
    assert frame == b'event: values\ndata: {"text":"line one\\nline two"}\n\n'


def test_frame_with_id_puts_id_between_event_and_data() -> None:
    frame = encode_event(Event("metadata", {"run_id": "r1", "attempt": 1}, id="7"))
    lines = frame.split(b"\n")
    assert lines[:2] == [b"event: metadata", b"id: 7"]
    assert orjson.loads(lines[2].removeprefix(b"data: ")) == {"run_id": "r1", "attempt": 1}
    assert frame.endswith(b"\n\n")


def test_langchain_messages_and_dataclasses_serialise() -> None:
    @dataclass
    class Point:
        x: int

    chunk = AIMessageChunk(content="hi", id="m1")
    frame = encode_event(Event("messages", [chunk, {"p": Point(1), "tags": ("a",)}]))
    data = orjson.loads(frame.split(b"data: ", 1)[1])
    assert data[0]["content"] == "hi" and data[0]["id"] == "m1"
    assert data[0]["type"] == "AIMessageChunk"
    assert data[1] == {"p": {"x": 1}, "tags": ["a"]}


def test_comment() -> None:
    assert encode_comment("heartbeat") == b": heartbeat\n\n"
