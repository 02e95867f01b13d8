"""AG-UI translation: native run events in, ``ag-ui-protocol`` events out (no server)."""

from __future__ import annotations

from typing import Any

import pytest
from ag_ui.core import RunAgentInput
from langchain_core.messages import AIMessageChunk

from lambdagraph.errors import InvalidInput
from lambdagraph.protocol.agui import AguiStream, resume_value, run_input
from lambdagraph.protocol.events import Event


def _types(events: list[Any]) -> list[str]:
    return [str(event.type.value) for event in events]


def _wire(events: list[Any]) -> list[dict[str, Any]]:
    return [event.model_dump(by_alias=True) for event in events]


def _chunk(message_id: str, **fields: Any) -> Event:
    return Event("messages", [{"type": "AIMessageChunk", "id": message_id, **fields}, {}])


def test_text_chunks_of_one_message_share_its_id_and_close_on_its_last_chunk() -> None:
    stream = AguiStream("t", "r")
    events = [
        *stream.translate(_chunk("m1", content="Hel")),
        *stream.translate(_chunk("m1", content="lo")),
        *stream.translate(_chunk("m1", content="", chunk_position="last")),
    ]
    assert _types(events) == [
        "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
    ]
    assert {event["messageId"] for event in _wire(events)} == {"m1"}
    assert "".join(e.get("delta", "") for e in _wire(events)) == "Hello"


def test_live_message_objects_translate_like_their_serialised_form() -> None:
    stream = AguiStream("t", "r")
    live = Event("messages", (AIMessageChunk(content="hi", id="m1"), {}))
    assert _types(stream.translate(live)) == ["TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT"]


def test_a_tool_call_streams_its_arguments_then_its_result() -> None:
    stream = AguiStream("t", "r")
    start = {"id": "c1", "name": "get_weather", "args": "", "index": 0}
    events = [
        *stream.translate(_chunk("m1", content="Let me look", tool_call_chunks=[])),
        *stream.translate(_chunk("m1", tool_call_chunks=[start])),
        *stream.translate(_chunk("m1", tool_call_chunks=[{"args": '{"city": 1}', "index": 0}])),
        *stream.translate(_chunk("m1", chunk_position="last")),
        *stream.translate(
            Event("messages", [{"type": "tool", "id": "t1", "tool_call_id": "c1",
                                "content": "sunny"}, {}])
        ),
    ]
    assert _types(events) == [
        "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
        "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END", "TOOL_CALL_RESULT",
    ]
    wire = _wire(events)
    assert wire[3]["parentMessageId"] == "m1" and wire[3]["toolCallName"] == "get_weather"
    assert wire[4]["delta"] == '{"city": 1}'
    assert (wire[6]["toolCallId"], wire[6]["content"]) == ("c1", "sunny")


def test_state_snapshots_leave_out_messages_and_repeat_only_on_change() -> None:
    stream = AguiStream("t", "r")
    first = stream.translate(Event("values", {"messages": [], "todo": ["a"]}))
    same = stream.translate(Event("values", {"messages": [{"type": "human"}], "todo": ["a"]}))
    changed = stream.translate(Event("values", {"messages": [], "todo": ["a", "b"]}))
    snapshots = [e["snapshot"] for e in _wire(first + same + changed)]
    assert snapshots == [{"todo": ["a"]}, {"todo": ["a", "b"]}]


def test_an_interrupt_ends_the_run_with_the_interrupt_outcome_and_usage_per_model() -> None:
    stream = AguiStream("t", "r")
    stream.translate(_chunk("m1", tool_call_chunks=[{"id": "c1", "name": "send_email",
                                                      "args": "{}", "index": 0}]))
    call = {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12, "cache_read_tokens": 2}
    stream.translate(Event("usage", {"call": call, "model": "m"}))
    stream.translate(Event("usage", {"call": call, "model": "m"}))
    value = {"action": "send_email", "args": {"to": "a@b.c"}}
    stream.translate(Event("updates", {"__interrupt__": [{"value": value, "id": "i1"}]}))

    finished = stream.finish(cancelled=True)[-1].model_dump(by_alias=True)
    assert finished["outcome"] == {
        "type": "interrupt",
        "interrupts": [{"id": "i1", "reason": "tool_approval", "toolCallId": "c1",
                        "metadata": {"value": value}}],
    }
    assert finished["usage"] == [
        {"model": "m", "inputTokens": 10, "outputTokens": 14, "totalTokens": 24,
         "cachedInputTokens": 4}
    ]


def test_a_cancelled_run_finishes_cancelled_and_an_error_finishes_nothing_more() -> None:
    cancelled = _wire(AguiStream("t", "r").finish(cancelled=True))[-1]
    assert cancelled["outcome"] == {"type": "cancelled"}
    failing = AguiStream("t", "r")
    error = _wire(failing.translate(Event("error", {"error": "Boom", "message": "it broke"})))
    assert error == [{"type": "RUN_ERROR", "code": "Boom", "message": "it broke"}]
    assert failing.finish(cancelled=False) == []


def _body(**fields: Any) -> RunAgentInput:
    return RunAgentInput.model_validate({"threadId": "t", "runId": "r", **fields})


def test_the_input_is_what_follows_the_last_assistant_turn() -> None:
    body = _body(
        messages=[
            {"id": "1", "role": "user", "content": "old"},
            {"id": "2", "role": "assistant", "content": "reply"},
            {"id": "3", "role": "user", "content": [{"type": "text", "text": "new"}]},
        ],
        state={"messages": ["ignored"], "mood": "calm"},
    )
    assert run_input(body) == {
        "mood": "calm",
        "messages": [{"type": "human", "content": [{"type": "text", "text": "new"}], "id": "3"}],
    }
    assert run_input(_body(messages=[])) is None


def test_resume_entries_map_interrupt_ids_and_refuse_one_not_waiting() -> None:
    entries = _body(
        messages=[],
        resume=[{"interruptId": "i1", "status": "resolved", "payload": {"approved": True}},
                {"interruptId": "i2", "status": "cancelled"}],
    ).resume or []
    assert resume_value(entries, {"i1", "i2"}) == {"i1": {"approved": True}, "i2": None}
    with pytest.raises(InvalidInput, match="not waiting on interrupt i2"):
        resume_value(entries, {"i1"})
