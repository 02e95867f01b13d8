"""Noticing a model whose tokens could not stream because its call lost the run's config.

Tokens reach the ``messages`` stream only through the run's callbacks, which a model call
gets from the node's config: passed explicitly, or found in the context LangGraph sets up
for the node (async nodes, sync nodes, ``asyncio.to_thread``). A call made where that context
is gone (``ThreadPoolExecutor.submit``, ``loop.run_in_executor``) still answers, and LangGraph
then sends the whole message once, when the node returns.

:class:`StreamingCheck` reads what the run streams anyway. It reports a whole (not chunked)
``AIMessage`` on the ``messages`` stream when a chat model made it (it carries
``response_metadata`` or LangChain's ``lc_run-`` id; a message the node writes itself has
neither) and no call that had the run's callbacks answered it. As one more callback, the check
learns the ids of those answers, which arrive whole for reasons of their own: a subgraph's
model without ``stream_subgraphs``, a model tagged ``nostream``, one that cannot stream. Only
the first such answer of a run is logged, as one warning naming its node.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.messages import LC_ID_PREFIX, AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from lambdagraph.store.records import Run

logger = logging.getLogger(__name__)

# Both the SDK's ``messages-tuple`` and the legacy ``messages`` mode stream model tokens.
_TOKEN_MODES: Final = frozenset({"messages", "messages-tuple"})

WARNING: Final = (
    "A model answered without streaming in node %r: the call did not get the run's config, "
    "so no tokens reached the messages stream; pass the node's config to the model call "
    "(README: 'Your own graph')"
)


class StreamingCheck(BaseCallbackHandler):
    """Warns once per run when a model's answer reaches the ``messages`` stream whole.

    Args:
        run: the run (its ids go into the log record).
        requested: the stream modes the client asked for; without a token mode the check
            does nothing.

    Example:
        >>> check = StreamingCheck(run, ["messages-tuple"])
        >>> config = check.attach(config)
        >>> async for ns, mode, chunk in graph.astream(..., config, ...):
        ...     check.see(ns, mode, chunk)
    """

    run_inline = True

    def __init__(self, run: Run, requested: Sequence[str]) -> None:
        self.active = not _TOKEN_MODES.isdisjoint(requested)
        self.warned = False
        self._configured: set[str] = set()
        self._log = logging.LoggerAdapter(
            logger, {"run_id": run["run_id"], "thread_id": run["thread_id"]}
        )

    @property
    def ignore_chain(self) -> bool:
        """Node and chain events are not needed (they are the most frequent)."""
        return True

    def attach(self, config: RunnableConfig) -> RunnableConfig:
        """``config`` with this check among its callbacks, when a token mode was asked for."""
        if not self.active:
            return config
        callbacks = config.get("callbacks")
        if isinstance(callbacks, BaseCallbackManager):
            callbacks = callbacks.copy()
            callbacks.add_handler(self)
        else:
            callbacks = [*(callbacks or ()), self]
        return {**config, "callbacks": callbacks}

    def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        """Nothing: defined so LangChain does not fall back to ``on_llm_start``."""

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        """Remember the answer of a model call that got the run's callbacks."""
        for generations in response.generations:
            for generation in generations:
                if isinstance(generation, ChatGeneration) and generation.message.id:
                    self._configured.add(generation.message.id)

    def see(self, namespace: Sequence[str], mode: str, chunk: Any) -> None:
        """Look at one ``(namespace, mode, chunk)`` of the run's stream."""
        if mode != "messages" or self.warned:
            return
        message, metadata = chunk
        if not _is_whole_model_answer(message) or message.id in self._configured:
            return
        self.warned = True
        node = metadata.get("langgraph_node", "?") if isinstance(metadata, dict) else "?"
        self._log.warning(WARNING, node)


def _is_whole_model_answer(message: Any) -> bool:
    if not isinstance(message, AIMessage) or isinstance(message, AIMessageChunk):
        return False
    return bool(message.response_metadata) or _has_langchain_run_id(message)


def _has_langchain_run_id(message: BaseMessage) -> bool:
    return isinstance(message.id, str) and message.id.startswith(LC_ID_PREFIX)
