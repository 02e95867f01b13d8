"""Small real graphs and a streaming stand-in chat model for the executor tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.pregel import Pregel
from langgraph.types import interrupt

from lambdagraph.errors import AssistantNotFound


class StreamingModel(BaseChatModel):
    """Streams ``reply`` word by word, then a last chunk carrying token usage.

    With ``stall`` set, it stops after the first word until that event is set (never, in
    the cancel test), like a model that hangs mid-stream.
    """

    reply: str = "Hello there friend"
    input_tokens: int = 7
    output_tokens: int = 3
    stall: Any = None

    @property
    def _llm_type(self) -> str:
        return "streaming-stand-in"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = AIMessage(content=self.reply, usage_metadata=self._usage())
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _usage(self) -> Any:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
        }

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        raise NotImplementedError("async only")

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        words = self.reply.split(" ")
        for i, word in enumerate(words):
            text = word if i == 0 else " " + word
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
            if run_manager:
                await run_manager.on_llm_new_token(text, chunk=chunk)
            yield chunk
            if self.stall is not None:
                await self.stall.wait()
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=self._usage(), chunk_position="last")
        )


class Registry:
    """Stand-in for ``lambdagraph.agents.GraphRegistry``."""

    def __init__(self, **graphs: Pregel[Any, Any, Any, Any]) -> None:
        self.graphs = graphs

    def get(self, assistant_id: str) -> Pregel[Any, Any, Any, Any]:
        try:
            return self.graphs[assistant_id]
        except KeyError:
            raise AssistantNotFound(assistant_id) from None

    def names(self) -> list[str]:
        return list(self.graphs)


def chat_graph(model: BaseChatModel, *, reached: list[str] | None = None) -> Any:
    """START → model → after → END; ``after`` records that it ran."""

    async def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    def after(state: MessagesState) -> dict[str, Any]:
        if reached is not None:
            reached.append("after")
        return {}

    builder = StateGraph(MessagesState)
    builder.add_node("model", call_model)
    builder.add_node("after", after)
    builder.add_edge(START, "model")
    builder.add_edge("model", "after")
    builder.add_edge("after", END)
    return builder.compile()


def approval_graph(*, reached: list[str]) -> Any:
    """START → ask (interrupts for approval) → send → END."""

    def ask(state: MessagesState) -> dict[str, Any]:
        decision = interrupt({"action": "send_email", "args": {"to": "a@b.c"}})
        reached.append(f"approved={decision['approved']}")
        return {"messages": [AIMessage(content=f"approved: {decision['approved']}")]}

    def send(state: MessagesState) -> dict[str, Any]:
        reached.append("send")
        return {}

    builder = StateGraph(MessagesState)
    builder.add_node("ask", ask)
    builder.add_node("send", send)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "send")
    builder.add_edge("send", END)
    return builder.compile()


def failing_graph(exc: Exception) -> Any:
    """START → boom (raises ``exc``) → END."""

    def boom(state: MessagesState) -> dict[str, Any]:
        raise exc

    builder = StateGraph(MessagesState)
    builder.add_node("boom", boom)
    builder.add_edge(START, "boom")
    builder.add_edge("boom", END)
    return builder.compile()


def subgraph_graph(model: BaseChatModel) -> Any:
    """START → inner (a compiled chat subgraph) → END."""
    builder = StateGraph(MessagesState)
    builder.add_node("inner", chat_graph(model))
    builder.add_edge(START, "inner")
    builder.add_edge("inner", END)
    return builder.compile()


def never() -> asyncio.Event:
    """An event nobody sets: a model waiting on it stalls until cancelled."""
    return asyncio.Event()
