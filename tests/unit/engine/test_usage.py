"""Token and cost accounting from model responses, against the shipped price table."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from lambdagraph.engine.usage import UsageTracker
from lambdagraph.pricing import PriceTable

HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def result(
    input_tokens: int, output_tokens: int, model: str | None = "scripted", **details: int
) -> LLMResult:
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }
    if details:
        usage["input_token_details"] = details
    metadata = {"model_name": model} if model else {}
    message = AIMessage(content="x", usage_metadata=usage, response_metadata=metadata)
    return LLMResult(generations=[[ChatGeneration(message=message)]])


def test_sums_calls_prices_them_and_queues_one_event_per_call() -> None:
    tracker = UsageTracker(run_id="r1")
    tracker.on_llm_end(result(5000, 2000))
    tracker.on_llm_end(result(1000, 1000))
    tracker.on_llm_end(LLMResult(generations=[[ChatGeneration(message=AIMessage(content="y"))]]))
    # scripted: $1 per million input tokens, $5 per million output tokens.
    assert tracker.usage_total == {
        "input_tokens": 6000,
        "output_tokens": 3000,
        "total_tokens": 9000,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cost_usd": 0.021,
    }
    events = tracker.drain()
    assert [e.event for e in events] == ["usage", "usage"]
    assert events[1].data == {
        "call": {
            "input_tokens": 1000,
            "output_tokens": 1000,
            "total_tokens": 2000,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cost_usd": 0.006,
        },
        "total": tracker.usage_total,
        "model": "scripted",
        "cost_usd": 0.006,
        "run": "r1",
    }
    assert tracker.drain() == []


def test_cache_tokens_are_priced_apart_from_fresh_input() -> None:
    tracker = UsageTracker()
    # langchain-aws counts cache reads and writes inside input_tokens.
    tracker.on_llm_end(result(10_000, 1_000, HAIKU, cache_read=6_000, cache_creation=2_000))
    call = tracker.drain()[0].data["call"]
    assert call["cache_read_tokens"] == 6_000 and call["cache_write_tokens"] == 2_000
    # us. profile: input 1.10, output 5.50, cache read 0.11, cache write 1.375 per million.
    expected = (2_000 * 1.10 + 1_000 * 5.50 + 6_000 * 0.11 + 2_000 * 1.375) / 1e6
    assert call["cost_usd"] == round(expected, 10)


def test_an_unknown_model_counts_tokens_and_has_no_cost() -> None:
    tracker = UsageTracker()
    tracker.on_llm_end(result(10, 5, "my-own-model"))
    event = tracker.drain()[0].data
    assert event["model"] == "my-own-model" and event["cost_usd"] is None
    assert tracker.total["total_tokens"] == 15 and tracker.total["cost_usd"] is None


def test_the_model_id_falls_back_to_langchains_ls_model_name() -> None:
    tracker = UsageTracker()
    call = uuid4()
    tracker.on_chat_model_start({}, [[]], run_id=call, metadata={"ls_model_name": HAIKU})
    tracker.on_llm_end(result(100, 10, model=None), run_id=call)
    assert tracker.drain()[0].data["model"] == HAIKU


def test_a_custom_price_file_adds_models(tmp_path: Any) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"models": {"my-own-model": {"input": 2, "output": 4}}}')
    tracker = UsageTracker(prices=PriceTable.load(path))
    tracker.on_llm_end(result(1_000_000, 500_000, "my-own-model"))
    assert tracker.total["cost_usd"] == 4.0


def test_counts_without_events_when_not_asked() -> None:
    tracker = UsageTracker(emit=False)
    tracker.on_llm_end(result(5, 2))
    assert tracker.total["total_tokens"] == 7 and tracker.drain() == []


def test_a_continuation_carries_totals_and_aws_use_over() -> None:
    first = UsageTracker()
    first.on_llm_end(result(1000, 100))
    first.aws.add_dynamodb("PutItem", 2.0)
    second = UsageTracker()
    second.restore(first.snapshot())
    second.on_llm_end(result(1000, 100))
    assert second.total["input_tokens"] == 2000
    assert second.total["cost_usd"] == round(2 * (1000 * 1 + 100 * 5) / 1e6, 10)
    assert second.aws.snapshot()["dynamodb_write_units"] == 2.0
