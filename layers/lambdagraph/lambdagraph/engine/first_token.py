"""Tells a run's meter when its first model token (or whole answer) arrived."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from lambdagraph.observability import RunMeter


class FirstTokenWatch(BaseCallbackHandler):
    """A callback handler marking the run's first token on its :class:`RunMeter`.

    Inline (no thread hop), and after the first token each call is one attribute check:
    counting, never emitting, per token. A model that does not stream reports its whole
    answer at ``on_llm_end``, which then counts as its first token.
    """

    run_inline = True

    def __init__(self, meter: RunMeter) -> None:
        self.meter = meter

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        """A streamed token."""
        self.meter.token()

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        """A finished model call."""
        self.meter.token()
