"""Graphs in the shapes users write, for the token-streaming tests (via ``LAMBDAGRAPH_GRAPHS``).

Every model is the scripted one (``count to N`` streams ``1``, `` 2`` … `` N``); the
non-LangChain client is a fake of boto3's ``bedrock-runtime`` ``converse_stream`` answering
by the same rules, so nothing calls AWS.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from lambdagraph.agents import ScriptedChatModel
from lambdagraph.agents.script import estimate_tokens, plan_reply

MODEL = ScriptedChatModel(delay_ms=1)

Graph = CompiledStateGraph[Any, Any, Any, Any]


def _one_node(node: Callable[..., Any] | Graph, name: str = "answer") -> Graph:
    builder = StateGraph(MessagesState)
    builder.add_node(name, node)
    builder.add_edge(START, name)
    return builder.compile()


def _sync_invoke(state: MessagesState) -> dict[str, Any]:
    return {"messages": [MODEL.invoke(state["messages"])]}


def _pool_without_config(state: MessagesState) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(MODEL.invoke, state["messages"]).result()
    return {"messages": [answer]}


def _pool_with_config(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(MODEL.invoke, state["messages"], config).result()
    return {"messages": [answer]}


async def _run_in_executor_without_config(state: MessagesState) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = await loop.run_in_executor(pool, MODEL.invoke, state["messages"])
    return {"messages": [answer]}


async def _async_without_config(state: MessagesState) -> dict[str, Any]:
    return {"messages": [await MODEL.ainvoke(state["messages"])]}


async def _to_thread_without_config(state: MessagesState) -> dict[str, Any]:
    return {"messages": [await asyncio.to_thread(MODEL.invoke, state["messages"])]}


sync_invoke = _one_node(_sync_invoke)
pool_without_config = _one_node(_pool_without_config)
pool_with_config = _one_node(_pool_with_config)
run_in_executor_without_config = _one_node(_run_in_executor_without_config)
async_without_config = _one_node(_async_without_config)
to_thread_without_config = _one_node(_to_thread_without_config)


def _canned(state: MessagesState) -> dict[str, Any]:
    return {"messages": [AIMessage("Thanks, a person will answer soon.")]}


#: A node that writes its answer itself: no model, nothing to stream, nothing to warn about.
canned_reply = _one_node(_canned)


class FakeBedrockRuntime:
    """The ``converse_stream`` of a boto3 ``bedrock-runtime`` client, answering like the
    scripted model: the response's ``stream`` yields the event dicts boto3 yields."""

    def converse_stream(self, *, modelId: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """A streamed Converse response to ``messages`` (Bedrock's message shape)."""
        history: list[BaseMessage] = [
            HumanMessage("".join(block.get("text", "") for block in m["content"]))
            for m in messages
            if m["role"] == "user"
        ]
        return {"stream": self._events(plan_reply(history, frozenset()).texts, history)}

    def _events(self, texts: list[str], history: list[BaseMessage]) -> Iterator[dict[str, Any]]:
        yield {"messageStart": {"role": "assistant"}}
        for text in texts:
            yield {"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}}
        yield {"contentBlockStop": {"contentBlockIndex": 0}}
        yield {"messageStop": {"stopReason": "end_turn"}}
        used = estimate_tokens(history)
        usage = {"inputTokens": used, "outputTokens": len(texts), "totalTokens": used + len(texts)}
        yield {"metadata": {"usage": usage, "metrics": {"latencyMs": 1}}}


bedrock = FakeBedrockRuntime()


def _converse(state: MessagesState) -> dict[str, Any]:
    writer = get_stream_writer()
    request = [
        {"role": "user" if m.type == "human" else "assistant", "content": [{"text": m.text}]}
        for m in state["messages"]
    ]
    response = bedrock.converse_stream(modelId="fake.model-v1:0", messages=request)
    pieces = []
    for event in response["stream"]:
        if "contentBlockDelta" in event:
            piece = event["contentBlockDelta"]["delta"].get("text", "")
            pieces.append(piece)
            writer({"delta": piece})
    return {"messages": [AIMessage("".join(pieces))]}


converse_stream = _one_node(_converse)


async def _write(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
    return {"messages": [await MODEL.ainvoke(state["messages"], config)]}


#: A parent graph whose node ``research`` is a subgraph; its node ``writer`` calls the model.
with_subgraph = _one_node(_one_node(_write, "writer"), "research")
