"""Token accounting from model responses."""

from __future__ import annotations

from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from lambdagraph.engine.usage import UsageTracker


def result(input_tokens: int, output_tokens: int) -> LLMResult:
    usage = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }
    message = AIMessage(
        content="x", usage_metadata=usage, response_metadata={"model_name": "m1"}
    )
    return LLMResult(generations=[[ChatGeneration(message=message)]])


def test_sums_calls_and_queues_one_event_per_call() -> None:
    tracker = UsageTracker()
    tracker.on_llm_end(result(5, 2))
    tracker.on_llm_end(result(1, 1))
    tracker.on_llm_end(LLMResult(generations=[[ChatGeneration(message=AIMessage(content="y"))]]))
    assert tracker.total == {"input_tokens": 6, "output_tokens": 3, "total_tokens": 9}
    events = tracker.drain()
    assert [e.event for e in events] == ["usage", "usage"]
    assert events[1].data == {
        "call": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
        "total": {"input_tokens": 6, "output_tokens": 3, "total_tokens": 9},
        "model": "m1",
    }
    assert tracker.drain() == []


def test_counts_without_events_when_not_asked() -> None:
    tracker = UsageTracker(emit=False)
    tracker.on_llm_end(result(5, 2))
    assert tracker.total["total_tokens"] == 7 and tracker.drain() == []
