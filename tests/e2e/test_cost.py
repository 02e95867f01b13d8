"""Cost and usage through the real local stack: SSE ``usage`` events, the v2 protocol's
``lambdagraph.usage`` custom frames, the run record's ``usage``/``aws`` and the thread's
cumulative ``usage`` — each priced by the shipped table's pseudo price of the scripted model."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

from lambdagraph.pricing import PriceTable
from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth, user_message
from tests.e2e.test_agent_stream import command, frames_until_end

pytestmark = pytest.mark.timeout(60)

SCRIPTED = PriceTable.load().price("scripted")
TOKEN_KEYS = ("input_tokens", "output_tokens", "total_tokens")


def priced(counts: dict[str, Any]) -> float:
    """What the price table says ``counts`` of the scripted model cost."""
    assert SCRIPTED is not None
    fresh = counts["input_tokens"] - counts["cache_read_tokens"] - counts["cache_write_tokens"]
    return round((fresh * SCRIPTED.input + counts["output_tokens"] * SCRIPTED.output) / 1e6, 10)


async def _sse_usage(client: LangGraphClient, thread_id: str, text: str) -> list[Any]:
    parts = [
        part
        async for part in client.runs.stream(
            thread_id, "agent", input=user_message(text), stream_mode=["values", "usage"]
        )
    ]
    return [p for p in parts if p.event in ("usage", "metadata")]


async def test_sse_usage_events_carry_model_cost_and_running_totals(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    parts = await _sse_usage(client, thread["thread_id"], "hello there")
    run_id = parts[0].data["run_id"]
    usage = [p.data for p in parts if p.event == "usage"]
    assert usage, "no usage event"
    last = usage[-1]
    assert last["model"] == "scripted" and last["run"] == run_id
    assert last["call"]["output_tokens"] > 0 and last["call"]["cache_read_tokens"] == 0
    assert last["cost_usd"] == last["call"]["cost_usd"] == priced(last["call"])
    assert last["total"]["cost_usd"] == pytest.approx(sum(u["cost_usd"] for u in usage))
    assert set(last["total"]) == {*TOKEN_KEYS, "cache_read_tokens", "cache_write_tokens",
                                  "cost_usd"}

    run = await client.runs.get(thread["thread_id"], run_id)
    assert run["usage"] == last["total"]
    aws = run["aws"]
    # The run checkpointed, logged its events and recorded its end: all on DynamoDB.
    assert aws["dynamodb_write_units"] >= 3 and aws["dynamodb_read_units"] > 0
    assert aws["dynamodb_requests"] >= 3
    assert aws["lambda_seconds"] > 0
    assert aws["lambda_memory_mb"] is None and aws["lambda_gb_seconds"] is None  # not Lambda


async def test_the_thread_sums_its_runs(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    assert (await client.threads.get(thread["thread_id"]))["usage"]["total_tokens"] == 0
    totals = []
    for text in ("hello there", "and a longer second message, please"):
        run = await client.runs.wait(thread["thread_id"], "agent", input=user_message(text))
        assert run  # the thread's values
        runs = await client.runs.list(thread["thread_id"], limit=1)
        totals.append(runs[0]["usage"])
    cumulative = (await client.threads.get(thread["thread_id"]))["usage"]
    for key in TOKEN_KEYS:
        assert cumulative[key] == totals[0][key] + totals[1][key] > 0
    assert cumulative["cost_usd"] == pytest.approx(totals[0]["cost_usd"] + totals[1]["cost_usd"])


def test_v2_custom_frames_report_each_call_and_a_final_total(shared_stack: LocalStack) -> None:
    url = shared_stack.url
    thread_id = "00000000-0000-4000-8000-" + "c" * 12
    runs: list[str] = []
    since: int | None = None
    for text in ("hello there", "hello again"):
        started = command(
            url, thread_id, "run.start", {"assistant_id": "agent", "input": user_message(text)}
        )
        runs.append(started["result"]["run_id"])
        frames = frames_until_end(url, thread_id, since=since)
        since = frames[-1]["seq"]
    usage = [
        f["params"]["data"]["payload"]
        for f in frames
        if f["method"] == "custom" and f["params"]["data"]["name"] == "lambdagraph.usage"
    ]
    calls = [u for u in usage if not u.get("final")]
    assert calls and calls[-1]["model"] == "scripted" and calls[-1]["run"] == runs[1]
    assert calls[-1]["cost_usd"] == priced(calls[-1]["call"])
    final = usage[-1]
    assert final["final"] is True and final["total"] == calls[-1]["total"]
    # The final report comes just before the root's terminal lifecycle event.
    assert frames[-2]["method"] == "custom" and frames[-2]["params"]["data"]["payload"] == final
    assert final["aws"]["dynamodb_write_units"] > 0

    # The stream's end precedes the run's final record by a write: join waits for it.
    run_url = f"{url}/threads/{thread_id}/runs/{runs[1]}"
    httpx.get(f"{run_url}/join", headers=auth("alice"), timeout=30).raise_for_status()
    record = httpx.get(run_url, headers=auth("alice")).json()
    assert record["usage"] == final["total"]
    first = httpx.get(f"{url}/threads/{thread_id}/runs/{runs[0]}", headers=auth("alice")).json()
    for key in TOKEN_KEYS:
        assert final["thread"][key] == first["usage"][key] + final["total"][key]
    thread = httpx.get(f"{url}/threads/{thread_id}", headers=auth("alice")).json()
    assert thread["usage"]["total_tokens"] == final["thread"]["total_tokens"]
