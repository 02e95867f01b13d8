"""The v2 chat's frame printer: tokens, tool flow, approvals, run end, no replay."""

from __future__ import annotations

import io
from typing import Any

from lambdagraph_client.v2_chat import FramePrinter


def _frame(
    seq: int, method: str, data: dict[str, Any], namespace: list[str] | None = None
) -> dict[str, Any]:
    return {
        "type": "event", "seq": seq, "method": method,
        "params": {"namespace": namespace or [], "timestamp": 0, "data": data},
    }


def _delta(seq: int, text: str, namespace: list[str] | None = None) -> dict[str, Any]:
    delta = {"type": "text-delta", "text": text}
    data = {"event": "content-block-delta", "index": 0, "delta": delta}
    return _frame(seq, "messages", data, namespace)


CALL = {
    "type": "ai", "content": "", "tool_calls": [{"name": "send_email", "args": {"to": "a@b.c"}}]
}
ASKED = {"interrupt_id": "i-1", "payload": {"action": "send_email", "args": {"to": "a@b.c"}}}


def test_it_prints_the_root_tokens_and_the_tool_call_and_stops_at_the_interrupt() -> None:
    out = io.StringIO()
    printer = FramePrinter(out, known_messages=1)
    frames = [
        _delta(1, "Sure"),
        _delta(2, "ignored", namespace=["sub:1"]),
        _frame(3, "values", {"messages": [{"type": "human", "content": "hi"}, CALL]}),
        _frame(4, "input.requested", ASKED),
        _frame(5, "lifecycle", {"event": "interrupted"}),
        _delta(6, "after the end"),
    ]

    printer.consume_frames(frames)

    assert out.getvalue() == 'Sure\n-> send_email({"to": "a@b.c"})\n'
    assert printer.interrupts == [{"id": "i-1", "value": ASKED["payload"]}]
    assert (printer.last_seq, printer.known_messages) == (5, 2)


def test_frames_up_to_since_are_not_printed_again() -> None:
    out = io.StringIO()
    printer = FramePrinter(out, since=2)

    printer.consume_frames([_delta(1, "old "), _delta(2, "old "), _delta(3, "new"),
                            _frame(4, "lifecycle", {"event": "completed"})])

    assert out.getvalue() == "new"
    assert printer.finish(lambda value: True) == 0


def test_a_failed_lifecycle_is_the_runs_error() -> None:
    out = io.StringIO()
    printer = FramePrinter(out)

    printer.consume_frames([_frame(1, "lifecycle", {"event": "failed", "error": "boom"})])

    assert printer.finish(lambda value: True) == 1
    assert out.getvalue().endswith("error: boom\n")
