"""Items 1 and 2: tokens per second, and time to first event / first token.

The same three targets answer the same questions: our local stack and ``langgraph dev``
through one ``langgraph-sdk`` client each, and the graph's own ``astream`` in-process (the
limit: no server, no network, no DynamoDB). Run alone: ``python -m tests.bench.streaming``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from langgraph_sdk import get_client

from tests.bench.rows import Row, ms, render
from tests.bench.targets import inprocess_graph, langgraph_dev, local_stack
from tests.bench.timing import (
    RunTiming,
    median,
    percentile,
    time_inprocess_run,
    time_sdk_run,
)
from tests.bench.venvs import PeerUnavailable

LONG_ANSWER = "count to 3000"
SHORT_ANSWER = "hello there"
WARMUP_RUNS = 5
LATENCY_RUNS = 200
THROUGHPUT_RUNS = 5
# Bounds per target, whatever the counts above: langgraph dev takes ~1 s per run.
LATENCY_BUDGET_SECONDS = 300.0
THROUGHPUT_BUDGET_SECONDS = 60.0

Runner = Callable[[str], Awaitable[RunTiming]]


@dataclass
class StreamFigures:
    """What one target measured."""

    name: str
    tokens_per_second: float
    answer_tokens: int
    first_event: list[float]
    first_token: list[float]


async def _repeat(run: Runner, text: str, count: int, budget: float) -> list[RunTiming]:
    deadline = time.monotonic() + budget
    timings = []
    for _ in range(count):
        timings.append(await run(text))
        if time.monotonic() > deadline:
            break
    return timings


async def measure_target(
    name: str, run: Runner, *, latency_runs: int = LATENCY_RUNS
) -> StreamFigures:
    """Warm up, then ``latency_runs`` short answers and a few 3,000-token answers."""
    await _repeat(run, SHORT_ANSWER, WARMUP_RUNS, LATENCY_BUDGET_SECONDS)
    short = await _repeat(run, SHORT_ANSWER, latency_runs, LATENCY_BUDGET_SECONDS)
    long = await _repeat(run, LONG_ANSWER, THROUGHPUT_RUNS, THROUGHPUT_BUDGET_SECONDS)
    return StreamFigures(
        name=name,
        tokens_per_second=median([t.tokens_per_second for t in long]),
        answer_tokens=long[0].tokens,
        first_event=[t.first_event for t in short],
        first_token=[t.first_token for t in short],
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

    async def run(text: str) -> RunTiming:
        return await time_sdk_run(client, text)

    return await measure_target(name, run, latency_runs=latency_runs)


async def measure_inprocess(*, latency_runs: int = LATENCY_RUNS) -> StreamFigures:
    """The graph's own ``astream``."""
    graph = inprocess_graph()

    async def run(text: str) -> RunTiming:
        return await time_inprocess_run(graph, text)

    return await measure_target("in-process", run, latency_runs=latency_runs)


def _latency_text(series: list[float]) -> str:
    return f"{ms(percentile(series, 0.5))} / {ms(percentile(series, 0.99))}"


def rows(ours: StreamFigures, peers: list[StreamFigures], missing: dict[str, str]) -> list[Row]:
    """Table rows: throughput and latency, ours against each peer that ran."""
    out: list[Row] = []
    goals = {"langgraph dev": (5.0, "≥ 5x"), "in-process": (0.3, "≥ 0.3")}
    for peer in peers:
        ratio = ours.tokens_per_second / peer.tokens_per_second
        need, goal = goals[peer.name]
        out.append(
            Row(
                1,
                f"tokens/s, {ours.answer_tokens:,}-token answer",
                f"{ours.tokens_per_second:,.0f}",
                f"{peer.name}: {peer.tokens_per_second:,.0f}",
                ratio,
                goal,
                ratio >= need,
            )
        )
    for name, why in missing.items():
        out.append(Row(1, "tokens/s, 3,000-token answer", f"{ours.tokens_per_second:,.0f}",
                       f"{name}: not measured ({why})"))
    for label, pick in (("first event", "first_event"), ("first token", "first_token")):
        series = getattr(ours, pick)
        p50 = percentile(series, 0.5)
        for index, peer in enumerate(peers):
            theirs = getattr(peer, pick)
            out.append(
                Row(
                    2,
                    f"time to {label}, p50 / p99 ({len(series)} runs)",
                    _latency_text(series),
                    f"{peer.name}: {_latency_text(theirs)} ({len(theirs)} runs)",
                    p50 / percentile(theirs, 0.5),
                    "p50 < 20 ms" if index == 0 else "",
                    p50 < 0.020 if index == 0 else None,
                )
            )
    return out


async def measure() -> list[Row]:
    """Items 1 and 2, every target."""
    peers: list[StreamFigures] = []
    missing: dict[str, str] = {}
    with local_stack() as served:
        ours = await measure_server("lambdagraph", served.url, headers=served.headers)
    try:
        with langgraph_dev() as served:
            peers.append(await measure_server("langgraph dev", served.url))
    except PeerUnavailable as exc:
        missing["langgraph dev"] = str(exc).splitlines()[0]
    peers.append(await measure_inprocess())
    return rows(ours, peers, missing)


if __name__ == "__main__":
    print(render(asyncio.run(measure())))
