"""The chat printer: tokens inline, tool calls and results on their own lines."""

from __future__ import annotations

import io
from typing import Any, NamedTuple

from lambdagraph_client.chat import RunPrinter


class Part(NamedTuple):
    event: str
    data: Any


def test_printer_writes_tokens_tool_lines_and_collects_interrupts() -> None:
    out = io.StringIO()
    printer = RunPrinter(out)

    printer.consume(
        [
            Part("messages", [{"type": "AIMessageChunk", "content": "Let me"}, {}]),
            Part("messages", [{"type": "AIMessageChunk",
                               "content": [{"type": "text", "text": " check."}]}, {}]),
            Part("updates", {"model": {"messages": [
                {"type": "ai", "tool_calls": [{"name": "get_weather", "args": {"city": "Oslo"}}]}
            ]}}),
            Part("messages", [{"type": "tool", "content": "sunny"}, {}]),
            Part("updates", {"tools": {"messages": [
                {"type": "tool", "name": "get_weather", "content": "sunny"}
            ]}}),
            Part("updates", {"__interrupt__": [{"value": {"action": "x"}, "id": "1"}]}),
        ]
    )

    assert out.getvalue() == (
        'Let me check.\n-> get_weather({"city": "Oslo"})\n<- get_weather: sunny\n'
    )
    assert printer.interrupts == [{"value": {"action": "x"}, "id": "1"}]
    assert printer.error is None


def test_printer_records_the_error_event() -> None:
    printer = RunPrinter(io.StringIO())

    printer.consume([Part("error", {"error": "ValueError", "message": "bad input"})])

    assert printer.error == "ValueError: bad input"
