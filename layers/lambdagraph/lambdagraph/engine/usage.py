"""Token and cost accounting: a callback handler that sums ``usage_metadata`` of model
responses, prices each call by :class:`~lambdagraph.pricing.PriceTable`, and holds the run's
AWS counters (:class:`~lambdagraph.pricing.aws_meter.AwsUse`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult

from lambdagraph.pricing import PriceTable, add_totals, empty_totals
from lambdagraph.pricing.aws_meter import AwsUse
from lambdagraph.protocol.events import Event
from lambdagraph.store.records import Usage

_SHIPPED: PriceTable | None = None
_MODEL_KEYS = ("model_name", "model_id", "model")


def shipped_prices() -> PriceTable:
    """The shipped price table (loaded once)."""
    global _SHIPPED
    if _SHIPPED is None:
        _SHIPPED = PriceTable.load()
    return _SHIPPED


def usage_tracker(run: Any, prices: PriceTable | None = None) -> UsageTracker:
    """A tracker for ``run``: events when it streams ``usage`` or is a v2 run."""
    kwargs = run["kwargs"]
    emit = kwargs.get("protocol") == "v2" or "usage" in (kwargs.get("stream_mode") or ())
    return UsageTracker(emit=emit, run_id=run["run_id"], prices=prices)


def empty_usage() -> Usage:
    """Zero counts and zero cost."""
    return empty_totals()  # type: ignore[return-value]


class UsageTracker(BaseCallbackHandler):
    """Sums token counts and cost over a run's model calls; queues one ``usage`` event per call.

    Runs inline (no thread hop) because it only adds numbers. ``usage`` events carry
    ``{"call": totals of this call, "total": the run's running totals, "model": id or null,
    "cost_usd": this call's cost or null, "run": run id}``; totals are
    ``{input_tokens, output_tokens, total_tokens, cache_read_tokens, cache_write_tokens,
    cost_usd}``. A model with no price counts its tokens and makes the cost ``None``.

    Args:
        emit: queue ``usage`` events (the client asked for the ``usage`` mode).
        run_id: the run, named in each event.
        prices: the price table (default: the shipped one).
    """

    run_inline = True

    def __init__(
        self, *, emit: bool = True, run_id: str | None = None, prices: PriceTable | None = None
    ) -> None:
        self.total: Usage = empty_usage()
        self.pending: list[Event] = []
        self.emit = emit
        self.run_id = run_id
        self.prices = prices or shipped_prices()
        self.aws = AwsUse()
        self._models: dict[UUID, str] = {}

    @property
    def usage_total(self) -> dict[str, Any]:
        """The run's totals so far (tokens and ``cost_usd``)."""
        return dict(self.total)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Remember the model id LangChain names for the call (``ls_model_name``)."""
        model = (metadata or {}).get("ls_model_name")
        if isinstance(model, str) and model:
            self._models[run_id] = model

    def on_llm_end(self, response: LLMResult, *, run_id: UUID | None = None, **kwargs: Any) -> None:
        """Add the usage of one finished model call."""
        fallback = self._models.pop(run_id, None) if run_id is not None else None
        for generations in response.generations:
            for generation in generations:
                if isinstance(generation, ChatGeneration):
                    self._add(generation.message, fallback)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Forget a failed call's model."""
        self._models.pop(run_id, None)

    def drain(self) -> list[Event]:
        """The ``usage`` events queued since the last drain."""
        events, self.pending = self.pending, []
        return events

    def snapshot(self) -> dict[str, Any]:
        """The totals plus ``aws`` counters, as a continuation carries them over."""
        return {**self.total, "aws": self.aws.snapshot()}

    def restore(self, saved: dict[str, Any]) -> None:
        """Carry on from an earlier invocation's :meth:`snapshot` (older leases hold counts
        only)."""
        totals = empty_totals()
        add_totals(totals, saved)
        if "cost_usd" not in saved:
            totals["cost_usd"] = None
        self.total = totals  # type: ignore[assignment]
        self.aws.restore(saved.get("aws"))

    def _add(self, message: Any, fallback: str | None) -> None:
        metadata = getattr(message, "usage_metadata", None)
        if not metadata:
            return
        details = metadata.get("input_token_details") or {}
        response = getattr(message, "response_metadata", None) or {}
        model = next((response[k] for k in _MODEL_KEYS if response.get(k)), fallback)
        call: dict[str, Any] = {
            "input_tokens": int(metadata.get("input_tokens", 0)),
            "output_tokens": int(metadata.get("output_tokens", 0)),
            "total_tokens": int(metadata.get("total_tokens", 0)),
            "cache_read_tokens": int(details.get("cache_read") or 0),
            "cache_write_tokens": int(details.get("cache_creation") or 0),
        }
        call["cost_usd"] = self.prices.cost(model, call)
        add_totals(self.total, call)  # type: ignore[arg-type]
        if not self.emit:
            return
        data = {
            "call": call,
            "total": dict(self.total),
            "model": model,
            "cost_usd": call["cost_usd"],
            "run": self.run_id,
        }
        self.pending.append(Event("usage", data))
