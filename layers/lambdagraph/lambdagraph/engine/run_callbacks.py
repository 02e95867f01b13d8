"""The run's one LangChain callback handler: usage and cost, and the first token's time.

LangChain hands every callback of a model call to every handler in the run's config (a
lookup, an ``inspect`` check and a call each, per streamed token), so what the run itself
observes of its model calls shares one handler: the :class:`UsageTracker` (tokens and cost
per call) and the :class:`RunMeter`'s first-token mark. It ignores chain, agent and
retriever events, the most frequent ones, which neither needs.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

from lambdagraph.engine.usage import UsageTracker
from lambdagraph.observability import RunMeter


class RunCallbacks(BaseCallbackHandler):
    """Feeds a run's model calls to its usage tracker and marks its first token.

    Inline (no thread hop); after the first token a streamed token costs one attribute
    check. A model that does not stream reports its whole answer at ``on_llm_end``, which
    then counts as its first token.
    """

    run_inline = True

    def __init__(self, usage: UsageTracker, meter: RunMeter) -> None:
        self.usage = usage
        self.meter = meter

    @property
    def ignore_chain(self) -> bool:
        """Node and chain events are not needed."""
        return True

    @property
    def ignore_agent(self) -> bool:
        """Agent actions are not needed."""
        return True

    @property
    def ignore_retriever(self) -> bool:
        """Retriever events are not needed."""
        return True

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[Any]], *, run_id: UUID,
        **kwargs: Any,
    ) -> None:
        """A model call starts: the tracker notes its model id."""
        self.usage.on_chat_model_start(serialized, messages, run_id=run_id, **kwargs)

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        """A streamed token."""
        self.meter.token()

    def on_llm_end(self, response: LLMResult, *, run_id: UUID | None = None, **kwargs: Any) -> None:
        """A finished model call: its usage, and its answer if nothing streamed."""
        self.usage.on_llm_end(response, run_id=run_id, **kwargs)
        self.meter.token()

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A failed model call."""
        self.usage.on_llm_error(error, run_id=run_id, **kwargs)
