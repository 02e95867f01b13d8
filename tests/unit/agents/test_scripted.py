"""The scripted chat model: its rules, its chunks, ids, usage and pacing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)

from lambdagraph.agents import ScriptedChatModel, calculator, get_weather, send_email
from lambdagraph.agents import scripted as scripted_module
from lambdagraph.errors import ScriptedModelError

TOOLS = [get_weather, calculator, send_email]


@pytest.fixture
def model() -> ScriptedChatModel:
    return ScriptedChatModel(delay_ms=0)


def merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    return merged


def stream_with_tools(model: ScriptedChatModel, prompt: Any) -> list[AIMessageChunk]:
    return list(model.bind_tools(TOOLS).stream(prompt))  # type: ignore[arg-type]


def test_echo_streams_word_by_word(model: ScriptedChatModel) -> None:
    chunks = list(model.stream("Hello   there, world"))

    assert [c.content for c in chunks] == ["You", " said:", " Hello", "   there,", " world", ""]
    assert merge(chunks).content == "You said: Hello   there, world"


def test_count_streams_one_number_per_chunk(model: ScriptedChatModel) -> None:
    chunks = list(model.stream("Please COUNT TO 5"))

    assert [c.content for c in chunks] == ["1", " 2", " 3", " 4", " 5", ""]


def test_rules_read_only_the_last_human_message(model: ScriptedChatModel) -> None:
    messages: list[BaseMessage] = [
        HumanMessage("count to 3"),
        AIMessage("1 2 3"),
        HumanMessage("thanks"),
    ]

    assert model.invoke(messages).content == "You said: thanks"


def test_content_blocks_are_read_as_text(model: ScriptedChatModel) -> None:
    message = HumanMessage(content=[{"type": "text", "text": "count to 2"}])

    assert model.invoke([message]).content == "1 2"


def test_weather_streams_a_tool_call_in_pieces(model: ScriptedChatModel) -> None:
    chunks = stream_with_tools(model, "What's the Weather in Buenos Aires?")

    first, *rest, last = chunks
    assert first.tool_call_chunks[0]["name"] == "get_weather"
    assert first.tool_call_chunks[0]["id"]
    assert first.tool_call_chunks[0]["args"] == ""
    assert len(rest) >= 2
    assert all(c.tool_call_chunks[0]["name"] is None for c in rest)
    assert last.tool_call_chunks == [] and last.chunk_position == "last"
    merged = merge(chunks)
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        ("get_weather", {"city": "Buenos Aires"})
    ]
    assert merged.tool_calls[0]["id"] == first.tool_call_chunks[0]["id"]
    assert merged.content == ""


def test_calculate_calls_the_calculator(model: ScriptedChatModel) -> None:
    merged = merge(stream_with_tools(model, "calculate (2 + 3) * 4?"))

    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        ("calculator", {"expression": "(2 + 3) * 4"})
    ]


def test_email_anywhere_calls_send_email(model: ScriptedChatModel) -> None:
    text = "Could you send an email to bob@example.com about the quarterly report?"

    merged = merge(stream_with_tools(model, text))

    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        (
            "send_email",
            {"to": "bob@example.com", "subject": "The quarterly report", "body": text},
        )
    ]


def test_tool_rules_need_the_tool_bound(model: ScriptedChatModel) -> None:
    reply = model.invoke("weather in Paris")

    assert reply.tool_calls == []
    assert reply.content == "You said: weather in Paris"


def _after_tool(name: str, args: dict[str, Any], output: str, **extra: Any) -> list[BaseMessage]:
    call = {"name": name, "args": args, "id": "call_1", "type": "tool_call"}
    return [
        HumanMessage("..."),
        AIMessage("", tool_calls=[call]),
        ToolMessage(output, tool_call_id="call_1", name=name, **extra),
    ]


@pytest.mark.parametrize(
    ("messages", "answer"),
    [
        (
            _after_tool("get_weather", {"city": "Lima"}, "foggy and 14 °C"),
            "The weather in Lima is foggy and 14 °C.",
        ),
        (_after_tool("calculator", {"expression": "6 * 7"}, "42"), "6 * 7 = 42"),
        (
            _after_tool("send_email", {"to": "a@b.io", "subject": "s", "body": "b"}, "sent"),
            "Email sent to a@b.io.",
        ),
        (
            _after_tool("send_email", {"to": "a@b.io", "subject": "s", "body": "b"}, "not sent"),
            "Email to a@b.io was not sent.",
        ),
        (
            _after_tool("calculator", {"expression": "1/0"}, "division by zero", status="error"),
            "The calculator tool failed: division by zero",
        ),
    ],
)
def test_answers_from_trailing_tool_results(
    model: ScriptedChatModel, messages: list[BaseMessage], answer: str
) -> None:
    chunks = stream_with_tools(model, messages)

    assert merge(chunks).content == answer
    assert len(chunks) == len(answer.split()) + 1  # the words, then the usage chunk


def test_error_rule_streams_then_raises(model: ScriptedChatModel) -> None:
    received: list[AIMessageChunk] = []

    with pytest.raises(ScriptedModelError, match="trigger an error"):
        for chunk in model.stream("please Trigger An Error now"):
            received.append(chunk)

    assert len(received) >= 2
    assert all(c.usage_metadata is None for c in received)


async def test_error_rule_raises_on_the_async_path(model: ScriptedChatModel) -> None:
    with pytest.raises(ScriptedModelError):
        async for _ in model.astream("trigger an error"):
            pass


def test_all_chunks_share_one_run_id(model: ScriptedChatModel) -> None:
    first = list(model.stream("count to 4"))
    second = list(model.stream("count to 4"))

    assert len({c.id for c in first}) == 1
    assert first[0].id is not None and first[0].id.startswith("lc_run--")
    assert first[0].id != second[0].id


async def test_async_chunks_share_one_run_id(model: ScriptedChatModel) -> None:
    chunks = [c async for c in model.bind_tools(TOOLS).astream("weather in Rome")]

    assert len({c.id for c in chunks}) == 1
    assert merge(chunks).tool_calls[0]["args"] == {"city": "Rome"}


def test_usage_and_last_position_ride_on_a_final_empty_chunk(model: ScriptedChatModel) -> None:
    chunks = list(model.stream("count to 3"))

    assert [c.usage_metadata is not None for c in chunks] == [False, False, False, True]
    assert chunks[-1].chunk_position == "last"
    # LangGraph's v3 stream ignores a last chunk's content: it must have none.
    assert chunks[-1].content == "" and chunks[-1].tool_call_chunks == []
    usage = chunks[-1].usage_metadata
    assert usage == {"input_tokens": 3, "output_tokens": 3, "total_tokens": 6}


def test_invoke_returns_the_whole_message(model: ScriptedChatModel) -> None:
    reply = model.bind_tools(TOOLS).invoke("calculate 1+1")

    assert isinstance(reply, AIMessage)
    assert reply.tool_calls[0]["name"] == "calculator"
    assert reply.usage_metadata is not None


def test_delay_sleeps_between_chunks_only(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(scripted_module.time, "sleep", sleeps.append)

    list(ScriptedChatModel(delay_ms=20).stream("count to 3"))
    assert sleeps == [0.02, 0.02]

    sleeps.clear()
    list(ScriptedChatModel(delay_ms=0).stream("count to 300"))
    assert sleeps == []


async def test_async_stream_lets_other_tasks_run_at_zero_delay(model: ScriptedChatModel) -> None:
    ran = asyncio.Event()

    async def other_task() -> None:
        ran.set()

    task = asyncio.create_task(other_task())
    seen_before_end = False
    async for chunk in model.astream("count to 1000"):
        if chunk.chunk_position == "last":
            seen_before_end = ran.is_set()
    await task

    assert seen_before_end


def test_negative_delay_is_rejected() -> None:
    with pytest.raises(ValueError, match="delay_ms"):
        ScriptedChatModel(delay_ms=-1)
