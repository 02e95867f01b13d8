"""A deterministic chat model that streams like a real provider.

The rules are documented in the README (``## The scripted model``) and decided by
:func:`lambdagraph.agents.script.plan_reply`; this module only turns a reply plan into
``AIMessageChunk``s paced by ``delay_ms``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from lambdagraph.agents.script import ReplyPlan, estimate_tokens, plan_reply
from lambdagraph.errors import ScriptedModelError

# With no delay the async stream never suspends on its own; handing the loop back every so
# many chunks keeps other tasks (heartbeats, cancel polls) alive at negligible cost.
_YIELD_EVERY = 64

# How many characters of tool-call arguments travel per chunk, like real providers' deltas.
_ARGS_PIECE = 8

_Piece = tuple[str, list[Any] | None]


class ScriptedChatModel(BaseChatModel):
    """A chat model that follows fixed rules on the last human message, for demos and tests.

    It streams real ``AIMessageChunk``s: text one word (or number) per chunk, tool calls as
    ``tool_call_chunks`` (name and id first, then the JSON arguments in pieces), and
    ``usage_metadata`` plus ``chunk_position="last"`` on a final empty chunk. Chunks carry no id
    of their own, so langchain-core gives every chunk of one call, and the final message,
    the same ``lc_run--<run id>`` id.

    Tool rules only fire for tools bound with :meth:`bind_tools`.

    Args:
        delay_ms: pause between chunks in milliseconds; ``0`` never pauses (the async stream
            still hands the event loop back every 64 chunks).

    Example:
        >>> model = ScriptedChatModel(delay_ms=0)
        >>> model.invoke("hello there").content
        'You said: hello there'
    """

    delay_ms: float = Field(default=20.0, ge=0)
    model_name: str = "scripted"

    @property
    def _llm_type(self) -> str:
        return "scripted-chat-model"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "delay_ms": self.delay_ms}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools the rules may call; ``tool_choice`` is accepted and ignored.

        Args:
            tools: tools in any form ``convert_to_openai_tool`` accepts.
            tool_choice: ignored; the rules decide.
            **kwargs: further bound call arguments.

        Returns:
            The model with ``tools`` bound.
        """
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        plan = self._plan(messages, kwargs)
        return generate_from_stream(
            ChatGenerationChunk(message=chunk) for chunk in _chunks(plan, messages, self.model_name)
        )

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # No I/O and no pacing without streaming, so no thread hop either.
        return self._generate(messages, stop, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        plan = self._plan(messages, kwargs)
        delay = self.delay_ms / 1000
        first = True
        for chunk in _chunks(plan, messages, self.model_name):
            if delay and not first and chunk.chunk_position != "last":
                time.sleep(delay)
            first = False
            yield ChatGenerationChunk(message=chunk)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        plan = self._plan(messages, kwargs)
        delay = self.delay_ms / 1000
        for index, chunk in enumerate(_chunks(plan, messages, self.model_name)):
            if delay:
                if index and chunk.chunk_position != "last":
                    await asyncio.sleep(delay)
            elif index and index % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            yield ChatGenerationChunk(message=chunk)

    def _plan(self, messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> ReplyPlan:
        tools = kwargs.get("tools") or ()
        names = frozenset(
            tool.get("function", {}).get("name", "") for tool in tools if isinstance(tool, dict)
        )
        return plan_reply(messages, names)


def _pieces(plan: ReplyPlan) -> list[_Piece]:
    pieces: list[_Piece] = [(text, None) for text in plan.texts]
    if plan.tool_call is not None:
        call = plan.tool_call
        pieces.append(("", [tool_call_chunk(name=call.name, args="", id=call.id, index=0)]))
        args = call.arguments_json
        for start in range(0, len(args), _ARGS_PIECE):
            piece = args[start : start + _ARGS_PIECE]
            pieces.append(("", [tool_call_chunk(name=None, args=piece, id=None, index=0)]))
    return pieces


def _chunks(
    plan: ReplyPlan, messages: Sequence[BaseMessage], model_name: str
) -> Iterator[AIMessageChunk]:
    pieces = _pieces(plan)
    for text, call_chunks in pieces:
        yield AIMessageChunk(content=text, tool_call_chunks=call_chunks or [])
    if plan.error is not None:
        raise ScriptedModelError(plan.error)
    # Usage travels on a final empty chunk, as providers that report stream usage send it.
    # LangGraph's v3 stream ignores the content of a chunk_position="last" chunk, so
    # that chunk must carry none.
    input_tokens = estimate_tokens(messages)
    yield AIMessageChunk(
        content="",
        usage_metadata=UsageMetadata(
            input_tokens=input_tokens,
            output_tokens=len(pieces),
            total_tokens=input_tokens + len(pieces),
        ),
        chunk_position="last",
        response_metadata={
            "model_name": model_name,
            "finish_reason": "tool_calls" if plan.tool_call else "stop",
        },
    )
