"""Token accounting: a callback handler that sums ``usage_metadata`` of model responses."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult

from lambdagraph.protocol.events import Event
from lambdagraph.store.records import Usage


def empty_usage() -> Usage:
    """Zero counts."""
    return {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}


class UsageTracker(BaseCallbackHandler):
    """Sums token counts over a run's model calls; queues one ``usage`` event per call.

    Runs inline (no thread hop) because it only appends to lists. ``usage`` events carry
    ``{"call": counts, "total": counts so far, "model": name or null}``.
    """

    run_inline = True

    def __init__(self, *, emit: bool = True) -> None:
        """Args: emit: queue ``usage`` events (the client asked for the ``usage`` mode)."""
        self.total: Usage = empty_usage()
        self.pending: list[Event] = []
        self.emit = emit

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        """Add the usage of one finished model call."""
        for generations in response.generations:
            for generation in generations:
                if isinstance(generation, ChatGeneration):
                    self._add(generation.message)

    def drain(self) -> list[Event]:
        """The ``usage`` events queued since the last drain."""
        events, self.pending = self.pending, []
        return events

    def _add(self, message: Any) -> None:
        metadata = getattr(message, "usage_metadata", None)
        if not metadata:
            return
        call: Usage = {
            "input_tokens": int(metadata.get("input_tokens", 0)),
            "output_tokens": int(metadata.get("output_tokens", 0)),
            "total_tokens": int(metadata.get("total_tokens", 0)),
        }
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            self.total[key] += call[key]
        if not self.emit:
            return
        model = (getattr(message, "response_metadata", None) or {}).get("model_name")
        data = {"call": call, "total": dict(self.total), "model": model}
        self.pending.append(Event("usage", data))
