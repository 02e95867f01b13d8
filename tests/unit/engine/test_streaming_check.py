"""The check that reports a model answer which reached the messages stream whole."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManager
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, MessagesState, StateGraph

from lambdagraph.agents import ScriptedChatModel
from lambdagraph.engine.streaming_check import WARNING, StreamingCheck
from lambdagraph.engine.usage import UsageTracker

RUN: Any = {"run_id": "run-1", "thread_id": "thread-1"}
LOGGER = "lambdagraph.engine.streaming_check"


def answer(id_: str, **fields: Any) -> AIMessage:
    return AIMessage(content="1 2 3", id=id_, **fields)


def whole(message: Any, node: str = "answer") -> tuple[Any, dict[str, Any]]:
    return (message, {"langgraph_node": node})


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_warns_once_per_run_naming_the_first_node(caplog: pytest.LogCaptureFixture) -> None:
    check = StreamingCheck(RUN, ["messages-tuple"])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        check.see((), "messages", whole(answer("lc_run--a"), "draft"))
        check.see((), "messages", whole(answer("lc_run--b"), "revise"))

    assert warnings(caplog) == [WARNING % "draft"]
    assert caplog.records[0].run_id == "run-1"  # type: ignore[attr-defined]


def test_the_answer_of_a_call_that_got_the_callbacks_is_not_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    check = StreamingCheck(RUN, ["messages"])
    message = answer("lc_run--a", response_metadata={"model_name": "m"})
    check.on_llm_end(LLMResult(generations=[[ChatGeneration(message=message)]]))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        check.see(("sub:1",), "messages", whole(message))

    assert warnings(caplog) == []


@pytest.mark.parametrize(
    "message",
    [
        AIMessageChunk(content="1", id="lc_run--a", response_metadata={"model_name": "m"}),
        AIMessage(content="Thanks!", id="2f1c4b8e-0c7e-4f4e-9a57-3d2b1e6f7a90"),
        HumanMessage(content="count to 3", id="lc_run--h"),
    ],
    ids=["a token chunk", "a message the node wrote", "not an AI message"],
)
def test_only_a_whole_model_answer_is_reported(
    caplog: pytest.LogCaptureFixture, message: Any
) -> None:
    check = StreamingCheck(RUN, ["messages-tuple"])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        check.see((), "messages", whole(message))
        check.see((), "updates", {"answer": {"messages": [answer("lc_run--x")]}})

    assert warnings(caplog) == []


def test_a_provider_id_with_response_metadata_counts_as_a_model_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    check = StreamingCheck(RUN, ["messages-tuple"])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        check.see((), "messages", whole(answer("msg_01XY", response_metadata={"stop": "end"})))

    assert warnings(caplog) == [WARNING % "answer"]


def test_attaches_only_when_a_token_mode_was_asked_for() -> None:
    usage = UsageTracker()
    config: RunnableConfig = {"callbacks": [usage]}

    unchanged = StreamingCheck(RUN, ["values", "updates"]).attach(config)
    check = StreamingCheck(RUN, ["values", "messages-tuple"])
    attached = check.attach(config)

    assert unchanged["callbacks"] == [usage]
    assert attached["callbacks"] == [usage, check]
    assert config["callbacks"] == [usage]


def test_attaches_to_a_callback_manager_without_changing_it() -> None:
    manager = CallbackManager(handlers=[])
    check = StreamingCheck(RUN, ["messages"])

    attached = check.attach({"callbacks": manager})

    callbacks = attached["callbacks"]
    assert isinstance(callbacks, CallbackManager)
    assert check in callbacks.handlers
    assert manager.handlers == []


def _graph(node: Any) -> Any:
    builder = StateGraph(MessagesState)
    builder.add_node("answer", node)
    builder.add_edge(START, "answer")
    return builder.compile()


MODEL = ScriptedChatModel(delay_ms=0)


async def _tagged_nostream(state: MessagesState) -> dict[str, Any]:
    return {"messages": [await MODEL.with_config(tags=["nostream"]).ainvoke(state["messages"])]}


async def _streaming_disabled(state: MessagesState) -> dict[str, Any]:
    model = ScriptedChatModel(delay_ms=0, disable_streaming=True)
    return {"messages": [await model.ainvoke(state["messages"])]}


def _own_pool(state: MessagesState) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return {"messages": [pool.submit(MODEL.invoke, state["messages"]).result()]}


@pytest.mark.parametrize(
    ("node", "reported"),
    [(_tagged_nostream, False), (_streaming_disabled, False), (_own_pool, True)],
    ids=["a model tagged nostream", "a model that does not stream", "a call in the node's pool"],
)
async def test_on_a_real_graph_only_a_call_that_lost_the_config_is_reported(
    caplog: pytest.LogCaptureFixture, node: Any, reported: bool
) -> None:
    check = StreamingCheck(RUN, ["messages-tuple"])
    config = check.attach({"callbacks": []})
    whole_answers = 0
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        async for mode, chunk in _graph(node).astream(
            {"messages": [("user", "count to 3")]}, config, stream_mode=["messages", "updates"]
        ):
            check.see((), mode, chunk)
            whole_answers += mode == "messages" and chunk[0].type == "ai"

    assert whole_answers == 1  # in every case the answer arrived whole, once
    assert warnings(caplog) == ([WARNING % "answer"] if reported else [])
