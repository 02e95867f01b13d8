"""Item 7: tokens per second and time to first token through the SDK's thread stream (v2).

The Agent Streaming Protocol as today's official clients speak it:
``client.threads.stream(thread_id, assistant_id="agent", transport=...)`` with ``"sse"`` and
``"websocket"``, against our local stack (as deployed: ``jwt`` auth, per-user limits) and
``langgraph dev`` serving the same demo graph (scripted model at delay 0) in the same run; one
``langgraph-sdk`` client per target, in this process, the servers in their own. The limits are
measured in this process, one run of each after each of our 3,000-token runs (the server idle
meanwhile, so a load that changes during the benchmark weighs on both sides of the ratio):
the graph's ``astream`` (the goal's baseline, as item 1) and its
``astream_events(version="v3")`` with a v2 run's transformers (what a v2 run streams from,
before any server work).

First token, per transport, on three kinds of thread (see :func:`tests.bench.timing.
time_thread_run`): an *existing* thread (one that has had a run, which has ended: the clock
starts once the thread reads idle, as for a user's next message), a *new* one created by
``POST /threads`` just before, and one the SDK *mints* (``run.start`` creates it). Each gets
:data:`LATENCY_RUNS` 4-token answers within :data:`LATENCY_BUDGET_SECONDS`; ``langgraph
dev`` gets the existing-thread series only, within :data:`PEER_BUDGET_SECONDS`. Then
:data:`THROUGHPUT_RUNS` 3,000-token answers. A run that has not ended after
:data:`RUN_TIMEOUT_SECONDS` counts as timed out.
Run alone: ``python -m tests.bench.thread_stream``.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.bench.rows import Row, ms, render
from tests.bench.targets import Served, inprocess_graph, langgraph_dev, local_stack
from tests.bench.timing import (
    RunTiming,
    median,
    percentile,
    time_inprocess_run,
    time_inprocess_v3_run,
    time_thread_run,
)

Transport = Literal["sse", "websocket"]
Kind = Literal["existing", "new", "minted"]
TRANSPORTS: tuple[Transport, ...] = ("sse", "websocket")
KINDS: tuple[Kind, ...] = ("existing", "new", "minted")
KIND_TEXT: dict[Kind, str] = {
    "existing": "existing thread",
    "new": "new thread (POST /threads)",
    "minted": "thread minted by the SDK (run.start creates it)",
}
LONG_ANSWER = "count to 3000"
SHORT_ANSWER = "hello there"
WARMUP_RUNS = 2
LATENCY_RUNS = 100
LATENCY_BUDGET_SECONDS = 12.0
PEER_BUDGET_SECONDS = 10.0
THROUGHPUT_RUNS = 3
# An existing thread gets this many runs, then a fresh one (with its first run untimed): a
# chat's next message, not a thread with hundreds of turns.
RUNS_PER_THREAD = 10
# How long the next run on an existing thread waits for the previous one to be recorded.
IDLE_WAIT_SECONDS = 5.0
# A run that streams nothing for this long counts as failed (and is named in the row).
RUN_TIMEOUT_SECONDS = 30.0
PEER = "langgraph dev"
GOAL_FIRST_TOKEN: dict[Kind, float] = {"existing": 0.010, "new": 0.020}
GOAL_P99_OVER_P50 = 2.0
GOAL_OF_LIMIT = 0.5


@dataclass
class _Series:
    timings: list[RunTiming] = field(default_factory=list)
    timed_out: int = 0


@dataclass(frozen=True)
class Limits:
    """Tokens/s of the graph in this process: ``astream`` (the goal's baseline) and its
    ``astream_events(version="v3")`` (what a v2 run streams from)."""

    astream: float
    v3: float


@dataclass(frozen=True)
class ThreadFigures:
    """What one target measured over one transport, and the limits measured between its
    throughput runs."""

    tokens_per_second: float
    answer_tokens: int
    first_token: dict[Kind, list[float]]
    limits: Limits | None = None
    timed_out: int = 0


class _Threads:
    """Hands out the thread of each run of one kind (``None``: the SDK mints one)."""

    def __init__(self, client: LangGraphClient, kind: Kind, transport: Transport,
                 headers: Mapping[str, str]) -> None:
        self.client, self.kind, self.transport, self.headers = client, kind, transport, headers
        self.current: str | None = None
        self.used = 0

    async def next(self) -> str | None:
        """The thread for the next run, ready before the clock starts."""
        if self.kind == "minted":
            return None
        if self.kind == "new":
            return str((await self.client.threads.create())["thread_id"])
        if self.current is None or self.used >= RUNS_PER_THREAD:
            self.current = str((await self.client.threads.create())["thread_id"])
            self.used = 0
            await time_thread_run(self.client, SHORT_ANSWER, self.transport, self.headers,
                                  self.current)
        self.used += 1
        await self._idle(self.current)
        return self.current

    async def _idle(self, thread_id: str) -> None:
        """Wait until the previous run has released the thread (it streams its end first)."""
        deadline = time.monotonic() + IDLE_WAIT_SECONDS
        while (await self.client.threads.get(thread_id))["status"] == "busy":
            if time.monotonic() > deadline:
                raise TimeoutError(f"thread {thread_id} stayed busy after its run")
            await asyncio.sleep(0.01)


async def _runs(client: LangGraphClient, transport: Transport, text: str, count: int, *,
                kind: Kind = "minted", budget: float | None = None,
                headers: Mapping[str, str] | None = None) -> _Series:
    auth = headers or {}
    threads = _Threads(client, kind, transport, auth)
    deadline = time.monotonic() + budget if budget is not None else None
    series = _Series()
    for _ in range(count):
        thread_id = await threads.next()
        try:
            run = time_thread_run(client, text, transport, auth, thread_id)
            series.timings.append(await asyncio.wait_for(run, RUN_TIMEOUT_SECONDS))
        except TimeoutError:
            series.timed_out += 1
        if deadline is not None and time.monotonic() > deadline:
            break
    if not series.timings:
        raise TimeoutError(f"all {series.timed_out} runs timed out ({RUN_TIMEOUT_SECONDS:.0f} s)")
    return series


async def measure_transport(served: Served, transport: Transport,
                            kinds: tuple[Kind, ...] = KINDS,
                            budget: float = LATENCY_BUDGET_SECONDS,
                            limits: bool = True) -> ThreadFigures:
    """Warm up, then short answers per kind of thread, then long ones for throughput, each
    followed by one run of each in-process limit (``limits``), so a load that changes during
    the benchmark weighs on both sides of the ratio alike."""
    auth = served.headers
    graph = inprocess_graph() if limits else None
    plain: list[float] = []
    v3: list[float] = []
    async with get_client(url=served.url, api_key=None, headers=dict(auth)) as client:
        warm = await _runs(client, transport, SHORT_ANSWER, WARMUP_RUNS, headers=auth)
        short: dict[Kind, _Series] = {}
        for kind in kinds:
            short[kind] = await _runs(client, transport, SHORT_ANSWER, LATENCY_RUNS, kind=kind,
                                      budget=budget, headers=auth)
        long = _Series()
        for _ in range(THROUGHPUT_RUNS):
            one = await _runs(client, transport, LONG_ANSWER, 1, headers=auth)
            long.timings.extend(one.timings)
            long.timed_out += one.timed_out
            if graph is not None:
                plain.append(await _limit(time_inprocess_run, graph))
                v3.append(await _limit(time_inprocess_v3_run, graph))
    return ThreadFigures(
        tokens_per_second=median([t.tokens_per_second for t in long.timings]),
        answer_tokens=long.timings[0].tokens,
        first_token={kind: [t.first_token for t in s.timings] for kind, s in short.items()},
        limits=Limits(median(plain), median(v3)) if graph is not None else None,
        timed_out=warm.timed_out + long.timed_out + sum(s.timed_out for s in short.values()),
    )


async def _limit(run: Callable[[Any, str], Awaitable[RunTiming]], graph: Any) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # v3 is marked beta in langgraph 1.2
        return (await run(graph, LONG_ANSWER)).tokens_per_second


Results = dict[Transport, ThreadFigures | str]  # a figure, or why it was not measured


def measure_server(start: Callable[[], AbstractContextManager[Served]],
                   kinds: tuple[Kind, ...] = KINDS,
                   budget: float = LATENCY_BUDGET_SECONDS, limits: bool = True) -> Results:
    """Both transports against one server; a failure becomes its reason, per transport."""
    results: Results = {}
    try:
        with start() as served:
            for transport in TRANSPORTS:
                try:
                    figures = measure_transport(served, transport, kinds, budget, limits)
                    results[transport] = asyncio.run(figures)
                except Exception as exc:  # noqa: BLE001 - reported in the row, the rest runs
                    results[transport] = _why(exc)
    except Exception as exc:  # noqa: BLE001 - e.g. the peer could not be installed
        results = dict.fromkeys(TRANSPORTS, _why(exc))
    return results


CPU_RUNS = 5


def measure_cpu(runs: int = CPU_RUNS) -> tuple[float, float]:
    """CPU seconds per token in this process, ``astream`` and ``astream_events`` v3 (the
    lowest of ``runs`` each, alternating): the ceiling a v2 run's stream puts on throughput,
    steadier under load than tokens/s."""
    graph = inprocess_graph()

    async def cpu(run: Callable[[Any, str], Awaitable[RunTiming]]) -> float:
        start = time.process_time()
        tokens = (await run(graph, LONG_ANSWER)).tokens
        return (time.process_time() - start) / tokens

    async def both() -> tuple[float, float]:
        plain, v3 = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # v3 is marked beta in langgraph 1.2
            for _ in range(runs):
                plain.append(await cpu(time_inprocess_run))
                v3.append(await cpu(time_inprocess_v3_run))
        return min(plain), min(v3)

    return asyncio.run(both())


def _cpu_row(plain: float, v3: float) -> Row:
    return Row(7, "in-process CPU per token, 3,000-token answer: astream_events v3 (a v2 "
               f"run's stream) / astream (lowest of {CPU_RUNS})",
               f"{v3 * 1e6:.0f} µs", f"astream: {plain * 1e6:.0f} µs", v3 / plain,
               "for information")


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"not measured: {type(exc).__name__}{': ' + text if text else ''}"[:200]


def _latency(series: list[float], timed_out: int = 0) -> str:
    failed = f"; {timed_out} timed out in all" if timed_out else ""
    return (f"{ms(percentile(series, 0.5))} / {ms(percentile(series, 0.99))} "
            f"({len(series)} runs{failed})")


def rows(ours: Results, peer: Results, cpu: tuple[float, float] | None = None) -> list[Row]:
    """Per transport: tokens/s against both limits and ``langgraph dev``, then the first
    token per kind of thread (p50 / p99; ``langgraph dev``'s existing-thread one beside);
    first, with ``cpu``, the in-process CPU per token of both limits."""
    out: list[Row] = [] if cpu is None else [_cpu_row(*cpu)]
    for transport in TRANSPORTS:
        label = f"v2 thread stream ({'SSE' if transport == 'sse' else 'WebSocket'})"
        out.extend(_rows(label, ours[transport], peer[transport]))
    return out


def _rows(label: str, mine: ThreadFigures | str, theirs: ThreadFigures | str) -> Iterator[Row]:
    if isinstance(mine, str) or mine.limits is None:
        why = mine if isinstance(mine, str) else "not measured: no limits"
        yield Row(7, f"{label}: tokens/s, 3,000-token answer", why, "in-process astream")
        yield Row(7, f"{label}: time to first token", why)
        return
    rate, limits = mine.tokens_per_second, mine.limits
    tokens = f"{label}: tokens/s, {mine.answer_tokens:,}-token answer"
    of_limit = rate / limits.astream
    yield Row(7, tokens, f"{rate:,.0f}", f"in-process astream: {limits.astream:,.0f}",
              of_limit, f"≥ {GOAL_OF_LIMIT}", of_limit >= GOAL_OF_LIMIT)
    yield Row(7, tokens, f"{rate:,.0f}", f"in-process astream_events v3: {limits.v3:,.0f}",
              rate / limits.v3)
    if isinstance(theirs, str):
        yield Row(7, tokens, f"{rate:,.0f}", f"{PEER}: {theirs}")
    else:
        yield Row(7, tokens, f"{rate:,.0f}", f"{PEER}: {theirs.tokens_per_second:,.0f}",
                  rate / theirs.tokens_per_second)
    timed_out = mine.timed_out
    for kind, series in mine.first_token.items():
        p50, p99 = percentile(series, 0.5), percentile(series, 0.99)
        figure = f"{label}: time to first token, {KIND_TEXT[kind]}, p50 / p99"
        goal = GOAL_FIRST_TOKEN.get(kind)
        baseline, ratio = "–", None
        if kind == "existing" and not isinstance(theirs, str) and "existing" in theirs.first_token:
            peer_series = theirs.first_token["existing"]
            baseline = f"{PEER}: {_latency(peer_series)}"
            ratio = p50 / percentile(peer_series, 0.5)
        text = _latency(series, timed_out)
        timed_out = 0  # said once per transport
        if goal is None:
            yield Row(7, figure, text, baseline, ratio, "for information")
            continue
        met = p50 <= goal and p99 <= GOAL_P99_OVER_P50 * p50
        yield Row(7, figure, text, baseline, ratio,
                  f"p50 ≤ {goal * 1000:.0f} ms, p99 ≤ {GOAL_P99_OVER_P50:.0f}x p50", met)


def measure() -> list[Row]:
    """Item 7 rows: our local stack (with the in-process limits between its long runs),
    then ``langgraph dev``."""
    cpu = measure_cpu()
    ours = measure_server(local_stack)
    peer = measure_server(langgraph_dev, ("existing",), PEER_BUDGET_SECONDS, limits=False)
    return rows(ours, peer, cpu)


if __name__ == "__main__":
    print(render(measure()))
