"""Item 7: tokens per second and time to first token through the SDK's thread stream (v2).

The Agent Streaming Protocol as today's official clients speak it:
``client.threads.stream(assistant_id="agent", transport=...)`` with ``"sse"`` and
``"websocket"``, against our local stack and ``langgraph dev`` serving the same demo graph
(scripted model at delay 0) in the same run; one ``langgraph-sdk`` client per target, in this
process, the servers in their own. Each run is a new thread (see
:func:`tests.bench.timing.time_thread_run`). Per target and transport: a short warm-up, up to
:data:`LATENCY_RUNS` 4-token answers within :data:`LATENCY_BUDGET_SECONDS` (``langgraph dev``
takes ~1 s a run), then :data:`THROUGHPUT_RUNS` 3,000-token answers. A run that has not
ended after :data:`RUN_TIMEOUT_SECONDS` is counted as timed out and shown in the row.
Run alone: ``python -m tests.bench.thread_stream``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.bench.rows import Row, ms, render
from tests.bench.targets import Served, langgraph_dev, local_stack
from tests.bench.timing import RunTiming, median, percentile, time_thread_run

Transport = Literal["sse", "websocket"]
TRANSPORTS: tuple[Transport, ...] = ("sse", "websocket")
LONG_ANSWER = "count to 3000"
SHORT_ANSWER = "hello there"
WARMUP_RUNS = 2
LATENCY_RUNS = 100
LATENCY_BUDGET_SECONDS = 15.0
THROUGHPUT_RUNS = 3
# A run that streams nothing for this long counts as failed (and is named in the row).
RUN_TIMEOUT_SECONDS = 30.0
PEER = "langgraph dev"
GOAL_RATIO = 5.0
GOAL_FIRST_TOKEN = 0.020


@dataclass(frozen=True)
class ThreadFigures:
    """What one target measured over one transport."""

    tokens_per_second: float
    answer_tokens: int
    first_token: list[float]
    timed_out: int = 0


@dataclass
class _Series:
    timings: list[RunTiming]
    timed_out: int = 0


async def _runs(client: LangGraphClient, transport: Transport, text: str, count: int,
                budget: float | None = None, headers: Mapping[str, str] | None = None) -> _Series:
    deadline = time.monotonic() + budget if budget is not None else None
    series = _Series([])
    for _ in range(count):
        try:
            run = time_thread_run(client, text, transport, headers)
            series.timings.append(await asyncio.wait_for(run, RUN_TIMEOUT_SECONDS))
        except TimeoutError:
            series.timed_out += 1
        if deadline is not None and time.monotonic() > deadline:
            break
    if not series.timings:
        raise TimeoutError(f"all {series.timed_out} runs timed out ({RUN_TIMEOUT_SECONDS:.0f} s)")
    return series


async def measure_transport(served: Served, transport: Transport) -> ThreadFigures:
    """Warm up, then short answers for first-token latency and long ones for throughput."""
    async with get_client(url=served.url, api_key=None, headers=dict(served.headers)) as client:
        auth = served.headers
        warm = await _runs(client, transport, SHORT_ANSWER, WARMUP_RUNS, headers=auth)
        short = await _runs(client, transport, SHORT_ANSWER, LATENCY_RUNS,
                            LATENCY_BUDGET_SECONDS, auth)
        long = await _runs(client, transport, LONG_ANSWER, THROUGHPUT_RUNS, headers=auth)
    return ThreadFigures(
        tokens_per_second=median([t.tokens_per_second for t in long.timings]),
        answer_tokens=long.timings[0].tokens,
        first_token=[t.first_token for t in short.timings],
        timed_out=warm.timed_out + short.timed_out + long.timed_out,
    )


Results = dict[Transport, ThreadFigures | str]  # a figure, or why it was not measured


def measure_server(start: Callable[[], AbstractContextManager[Served]]) -> Results:
    """Both transports against one server; a failure becomes its reason, per transport."""
    results: Results = {}
    try:
        with start() as served:
            for transport in TRANSPORTS:
                try:
                    results[transport] = asyncio.run(measure_transport(served, transport))
                except Exception as exc:  # noqa: BLE001 - reported in the row, the rest runs
                    results[transport] = _why(exc)
    except Exception as exc:  # noqa: BLE001 - e.g. the peer could not be installed
        results = dict.fromkeys(TRANSPORTS, _why(exc))
    return results


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"not measured: {type(exc).__name__}{': ' + text if text else ''}"[:200]


def _latency(figures: ThreadFigures) -> str:
    series = figures.first_token
    failed = f"; {figures.timed_out} timed out in all" if figures.timed_out else ""
    return (f"{ms(percentile(series, 0.5))} / {ms(percentile(series, 0.95))} "
            f"({len(series)} runs{failed})")


def rows(ours: Results, peer: Results) -> list[Row]:
    """Per transport: tokens/s and first token p50 / p95, ours against ``langgraph dev``."""
    out: list[Row] = []
    for transport in TRANSPORTS:
        mine, theirs = ours[transport], peer[transport]
        label = f"v2 thread stream ({'SSE' if transport == 'sse' else 'WebSocket'})"
        out.extend(_pair(label, mine, theirs))
    return out


def _pair(label: str, mine: ThreadFigures | str, theirs: ThreadFigures | str) -> Iterator[Row]:
    peer = f"{PEER}: "
    if isinstance(theirs, str):
        peer_rate, peer_latency = theirs, theirs
    else:
        peer_rate, peer_latency = f"{theirs.tokens_per_second:,.0f}", _latency(theirs)
    if isinstance(mine, str):
        yield Row(7, f"{label}: tokens/s, 3,000-token answer", mine, peer + peer_rate)
        yield Row(7, f"{label}: time to first token, p50 / p95", mine, peer + peer_latency)
        return
    rate = mine.tokens_per_second / theirs.tokens_per_second if not isinstance(theirs, str) \
        else None
    yield Row(7, f"{label}: tokens/s, {mine.answer_tokens:,}-token answer",
              f"{mine.tokens_per_second:,.0f}", peer + peer_rate, rate,
              f"≥ {GOAL_RATIO:.0f}x", rate >= GOAL_RATIO if rate is not None else None)
    p50 = percentile(mine.first_token, 0.5)
    latency = p50 / percentile(theirs.first_token, 0.5) if not isinstance(theirs, str) \
        else None
    yield Row(7, f"{label}: time to first token, p50 / p95", _latency(mine),
              peer + peer_latency, latency, "p50 < 20 ms", p50 < GOAL_FIRST_TOKEN)


def measure() -> list[Row]:
    """Item 7 rows: our local stack, then ``langgraph dev``."""
    ours = measure_server(local_stack)
    peer = measure_server(langgraph_dev)
    return rows(ours, peer)


if __name__ == "__main__":
    print(render(measure()))
