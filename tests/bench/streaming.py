"""Items 1 and 2: tokens per second, and time to first event / first token.

The same three targets answer the same questions: our local stack (as deployed: see
``targets.AS_DEPLOYED``) and ``langgraph dev`` through one ``langgraph-sdk`` client each, and
the graph's own ``astream`` in-process (the limit: no server, no network, no DynamoDB).
Latency is measured on a new thread (``POST /threads`` just before) and on an existing one (a
thread that has had a run), throughput also over our WebSocket API (the local gateway
emulator, batching on). Run alone: ``python -m tests.bench.streaming``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from langgraph_sdk import get_client

from lambdagraph_client.websocket import WebSocketClient
from tests.bench.rows import Row, ms, render
from tests.bench.targets import Served, inprocess_graph, langgraph_dev, local_stack
from tests.bench.timing import (
    RunTiming,
    median,
    percentile,
    time_inprocess_run,
    time_sdk_run,
    time_ws_run,
)
from tests.bench.venvs import PeerUnavailable

LONG_ANSWER = "count to 3000"
SHORT_ANSWER = "hello there"
WARMUP_RUNS = 5
LATENCY_RUNS = 200
THROUGHPUT_RUNS = 5
# Bounds per series, whatever the counts above: langgraph dev takes ~1 s per run.
LATENCY_BUDGET_SECONDS = 120.0
THROUGHPUT_BUDGET_SECONDS = 60.0
# Issue 18's goals: first token p50 on a new / an existing thread, p99 within 2x p50, and
# throughput against the in-process limit (and issue 7's against langgraph dev).
FIRST_TOKEN_GOAL = {"new": 0.020, "existing": 0.010}
P99_OVER_P50_GOAL = 2.0
THROUGHPUT_GOALS = {"langgraph dev": 5.0, "in-process": 0.5}

Runner = Callable[[str, bool], Awaitable[RunTiming]]
Thread = Literal["new", "existing"]


@dataclass
class StreamFigures:
    """What one target measured: throughput, and per kind of thread the latency series."""

    name: str
    tokens_per_second: float
    answer_tokens: int
    first_event: dict[Thread, list[float]]
    first_token: dict[Thread, list[float]]
    ws_tokens_per_second: float | None = None


async def _repeat(
    run: Runner, text: str, count: int, budget: float, *, existing: bool = False
) -> list[RunTiming]:
    deadline = time.monotonic() + budget
    timings = []
    for _ in range(count):
        timings.append(await run(text, existing))
        if time.monotonic() > deadline:
            break
    return timings


async def measure_target(
    name: str, run: Runner, *, latency_runs: int = LATENCY_RUNS
) -> StreamFigures:
    """Warm up, then ``latency_runs`` short answers per kind of thread and a few
    3,000-token answers."""
    await _repeat(run, SHORT_ANSWER, WARMUP_RUNS, LATENCY_BUDGET_SECONDS)
    series = {
        kind: await _repeat(run, SHORT_ANSWER, latency_runs, LATENCY_BUDGET_SECONDS,
                            existing=kind == "existing")
        for kind in ("new", "existing")
    }
    long = await _repeat(run, LONG_ANSWER, THROUGHPUT_RUNS, THROUGHPUT_BUDGET_SECONDS)
    return StreamFigures(
        name=name,
        tokens_per_second=median([t.tokens_per_second for t in long]),
        answer_tokens=long[0].tokens,
        first_event={kind: [t.first_event for t in runs] for kind, runs in series.items()},
        first_token={kind: [t.first_token for t in runs] for kind, runs in series.items()},
    )


async def measure_server(
    name: str,
    url: str,
    *,
    latency_runs: int = LATENCY_RUNS,
    headers: Mapping[str, str] | None = None,
) -> StreamFigures:
    """A server through the SDK (``headers``: e.g. the bearer token of our stack)."""
    client = get_client(url=url, headers=dict(headers or {}))

    async def run(text: str, existing: bool) -> RunTiming:
        return await time_sdk_run(client, text, existing=existing)

    return await measure_target(name, run, latency_runs=latency_runs)


async def measure_inprocess(*, latency_runs: int = LATENCY_RUNS) -> StreamFigures:
    """The graph's own ``astream``."""
    graph = inprocess_graph()

    async def run(text: str, existing: bool) -> RunTiming:
        return await time_inprocess_run(graph, text, existing=existing)

    return await measure_target("in-process", run, latency_runs=latency_runs)


async def measure_ws_throughput(served: Served) -> float:
    """Our WebSocket API through the local gateway emulator (batching on): median tokens/s."""
    url = served.url.replace("http://", "ws://", 1) + "/ws"
    bearer = served.headers.get("Authorization", "")
    token = bearer.removeprefix("Bearer ") or None
    async with WebSocketClient(url, token=token) as client:
        await time_ws_run(client, SHORT_ANSWER)
        long = [await time_ws_run(client, LONG_ANSWER) for _ in range(THROUGHPUT_RUNS)]
    return median([t.tokens_per_second for t in long])


def _latency_text(series: list[float]) -> str:
    return f"{ms(percentile(series, 0.5))} / {ms(percentile(series, 0.99))}"


def _throughput_rows(ours: StreamFigures, peers: list[StreamFigures]) -> list[Row]:
    out = []
    limit = next((peer for peer in peers if peer.name == "in-process"), None)
    if ours.ws_tokens_per_second is not None and limit is not None:
        ratio = ours.ws_tokens_per_second / limit.tokens_per_second
        need = THROUGHPUT_GOALS["in-process"]
        out.append(Row(
            1, f"tokens/s over the WebSocket API (gateway emulator, batching on), "
               f"{ours.answer_tokens:,}-token answer",
            f"{ours.ws_tokens_per_second:,.0f}", f"in-process: {limit.tokens_per_second:,.0f}",
            ratio, f"≥ {need:g}", ratio >= need,
        ))
    for peer in peers:
        ratio = ours.tokens_per_second / peer.tokens_per_second
        need = THROUGHPUT_GOALS[peer.name]
        out.append(Row(
            1, f"tokens/s, {ours.answer_tokens:,}-token answer", f"{ours.tokens_per_second:,.0f}",
            f"{peer.name}: {peer.tokens_per_second:,.0f}", ratio,
            f"≥ {need:g}x" if need >= 1 else f"≥ {need:g}", ratio >= need,
        ))
    return out


def _latency_rows(ours: StreamFigures, peers: list[StreamFigures]) -> list[Row]:
    out = []
    for kind in ("new", "existing"):
        thread = "new thread (POST /threads just before)" if kind == "new" else "existing thread"
        for label, pick in (("first event", "first_event"), ("first token", "first_token")):
            series: list[float] = getattr(ours, pick)[kind]
            p50, p99 = percentile(series, 0.5), percentile(series, 0.99)
            for peer in peers:
                theirs = getattr(peer, pick)[kind]
                out.append(Row(
                    2, f"time to {label}, {thread}, p50 / p99 ({len(series)} runs)",
                    _latency_text(series),
                    f"{peer.name}: {_latency_text(theirs)} ({len(theirs)} runs)",
                    p50 / percentile(theirs, 0.5),
                ))
            if pick == "first_token":
                goal = FIRST_TOKEN_GOAL[kind]
                out.append(Row(
                    2, f"time to first token, {thread}: p50 / p99 against the goals",
                    _latency_text(series), "–", p99 / p50,
                    f"p50 ≤ {goal * 1000:.0f} ms, p99 ≤ {P99_OVER_P50_GOAL:g}x p50",
                    p50 <= goal and p99 <= P99_OVER_P50_GOAL * p50,
                ))
    return out


def rows(ours: StreamFigures, peers: list[StreamFigures], missing: dict[str, str]) -> list[Row]:
    """Table rows: throughput and latency, ours against each peer that ran."""
    out = _throughput_rows(ours, peers)
    for name, why in missing.items():
        out.append(Row(1, "tokens/s, 3,000-token answer", f"{ours.tokens_per_second:,.0f}",
                       f"{name}: not measured ({why})"))
    return out + _latency_rows(ours, peers)


async def measure() -> list[Row]:
    """Items 1 and 2, every target."""
    peers: list[StreamFigures] = []
    missing: dict[str, str] = {}
    with local_stack() as served:
        ours = await measure_server("lambdagraph", served.url, headers=served.headers)
        ours.ws_tokens_per_second = await measure_ws_throughput(served)
    try:
        with langgraph_dev() as served:
            peers.append(await measure_server("langgraph dev", served.url, latency_runs=30))
    except PeerUnavailable as exc:
        missing["langgraph dev"] = str(exc).splitlines()[0]
    peers.append(await measure_inprocess())
    return rows(ours, peers, missing)


if __name__ == "__main__":
    print(render(asyncio.run(measure())))
