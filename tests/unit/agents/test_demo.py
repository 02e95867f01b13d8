"""The demo graph ``agent`` run end to end on the scripted model with an in-memory saver."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.pregel import Pregel
from langgraph.types import Command

from lambdagraph.agents import ScriptedChatModel, build_agent_graph, with_checkpointer
from lambdagraph.agents.tools import fake_weather
from lambdagraph.errors import ScriptedModelError

EMAIL = "send an email to bob@example.com about the launch"


@pytest.fixture
def graph() -> Pregel[Any, Any, Any, Any]:
    return with_checkpointer(build_agent_graph(ScriptedChatModel(delay_ms=0)), InMemorySaver())


def thread() -> dict[str, Any]:
    return {"configurable": {"thread_id": str(uuid.uuid4())}}


async def ask(graph: Pregel[Any, Any, Any, Any], text: str, config: dict[str, Any]) -> Any:
    return await graph.ainvoke({"messages": [("user", text)]}, config)


async def test_weather_calls_the_tool_then_answers(graph: Pregel[Any, Any, Any, Any]) -> None:
    result = await ask(graph, "What's the weather in Paris?", thread())

    messages = result["messages"]
    assert isinstance(messages[1], AIMessage)
    assert messages[1].tool_calls[0]["name"] == "get_weather"
    assert isinstance(messages[2], ToolMessage)
    assert messages[-1].content == f"The weather in Paris is {fake_weather('Paris')}."


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        ("calculate (2 + 3) * 4", "(2 + 3) * 4 = 20"),
        ("calculate 7 / 2", "7 / 2 = 3.5"),
        ("calculate 1/0", "The calculator tool failed: division by zero"),
        ("calculate __import__('os')", "The calculator tool failed: unsupported"),
        ("count to 5", "1 2 3 4 5"),
        ("hello there", "You said: hello there"),
    ],
)
async def test_rules_answer_through_the_graph(
    graph: Pregel[Any, Any, Any, Any], prompt: str, answer: str
) -> None:
    result = await ask(graph, prompt, thread())

    assert result["messages"][-1].content.startswith(answer)


async def test_email_interrupts_with_the_documented_payload(
    graph: Pregel[Any, Any, Any, Any],
) -> None:
    config = thread()
    interrupts = []
    async for update in graph.astream(
        {"messages": [("user", EMAIL)]}, config, stream_mode="updates"
    ):
        interrupts.extend(update.get("__interrupt__", ()))

    assert [i.value for i in interrupts] == [
        {
            "action": "send_email",
            "args": {"to": "bob@example.com", "subject": "The launch", "body": EMAIL},
        }
    ]
    state = await graph.aget_state(config)
    assert state.next == ("tools",)


@pytest.mark.parametrize(
    ("decision", "answer"),
    [
        ({"approved": True}, "Email sent to bob@example.com."),
        ({"approved": False}, "Email to bob@example.com was not sent."),
        ({"approved": "yes"}, "Email to bob@example.com was not sent."),
        ("approve", "Email to bob@example.com was not sent."),
    ],
)
async def test_email_resumes_on_the_decision(
    graph: Pregel[Any, Any, Any, Any], decision: Any, answer: str
) -> None:
    config = thread()
    await ask(graph, EMAIL, config)

    result = await graph.ainvoke(Command(resume=decision), config)

    assert result["messages"][-1].content == answer
    assert (await graph.aget_state(config)).next == ()


async def test_error_rule_fails_the_run(graph: Pregel[Any, Any, Any, Any]) -> None:
    with pytest.raises(ScriptedModelError):
        await ask(graph, "trigger an error", thread())


async def test_streamed_chunks_share_the_id_of_the_stored_message(
    graph: Pregel[Any, Any, Any, Any],
) -> None:
    config = thread()
    chunk_ids: dict[str, list[str]] = {}
    async for message, _ in graph.astream(
        {"messages": [("user", "weather in Oslo")]}, config, stream_mode="messages"
    ):
        if isinstance(message, AIMessageChunk):
            chunk_ids.setdefault(str(message.id), []).append(message.text)

    stored = [m for m in (await graph.aget_state(config)).values["messages"] if m.type == "ai"]
    assert list(chunk_ids) == [m.id for m in stored]
    assert "".join(chunk_ids[str(stored[-1].id)]) == stored[-1].content


def test_the_graph_runs_synchronously_too(graph: Pregel[Any, Any, Any, Any]) -> None:
    result = graph.invoke({"messages": [("user", "calculate 2**10")]}, thread())

    assert result["messages"][-1].content == "2**10 = 1024"


def test_the_graph_has_no_checkpointer_of_its_own() -> None:
    graph = build_agent_graph(ScriptedChatModel(delay_ms=0))
    saver = InMemorySaver()

    attached = with_checkpointer(graph, saver)

    assert graph.checkpointer is None
    assert attached.checkpointer is saver
    assert attached.get_name() == "agent"


def test_default_model_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDAGRAPH_MODEL", "scripted")
    monkeypatch.setenv("LAMBDAGRAPH_SCRIPTED_DELAY_MS", "0")

    result = build_agent_graph().invoke({"messages": [("user", "count to 2")]})

    assert result["messages"][-1].content == "1 2"


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
async def test_tool_calls_survive_langgraphs_v3_stream(graph: Pregel[Any, Any, Any, Any]) -> None:
    # The Agent Streaming Protocol drives graphs with astream_events(version="v3"), whose
    # message handler drops the content of a chunk_position="last" chunk.
    config = thread()
    stream = await graph.astream_events(
        {"messages": [("user", "weather in Lima")]}, config, version="v3"
    )
    async with stream:
        methods = [event["method"] async for event in stream]

    state = await graph.aget_state(config)
    assert "messages" in methods
    tool_message = next(m for m in state.values["messages"] if isinstance(m, ToolMessage))
    assert tool_message.content == fake_weather("Lima")
