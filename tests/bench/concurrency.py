"""Item 6: 100 concurrent streams on the local stack.

One ``langgraph-sdk`` client opens 100 streams at once (each on its own thread, ``count to
300``: 300 tokens). Reported: runs that failed or lost tokens, p99 time to first token
against the same figure for the same runs one at a time, and the server's resident memory
growth at the peak divided by the number of streams. Run alone:
``python -m tests.bench.concurrency``.
"""

from __future__ import annotations

import asyncio
import threading

from langgraph_sdk import get_client

from tests.bench.rows import Row, ms, render
from tests.bench.targets import Served, local_stack, rss_bytes
from tests.bench.timing import RunTiming, percentile, time_sdk_run

STREAMS = 100
ANSWER = "count to 300"
TOKENS = 300
_SAMPLE_SECONDS = 0.02


class _PeakRss:
    """Samples a process's RSS from a thread until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(_SAMPLE_SECONDS):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _burst(served: Served) -> tuple[list[RunTiming], list[str]]:
    client = get_client(url=served.url, headers=dict(served.headers))
    results = await asyncio.gather(
        *(asyncio.wait_for(time_sdk_run(client, ANSWER), 120) for _ in range(STREAMS)),
        return_exceptions=True,
    )
    timings = [r for r in results if isinstance(r, RunTiming) and r.tokens == TOKENS]
    errors = [
        repr(r) if isinstance(r, BaseException) else f"{r.tokens} tokens"
        for r in results
        if not (isinstance(r, RunTiming) and r.tokens == TOKENS)
    ]
    return timings, errors


async def _sequential(served: Served) -> list[RunTiming]:
    client = get_client(url=served.url, headers=dict(served.headers))
    for _ in range(5):  # warm-up
        await time_sdk_run(client, ANSWER)
    return [await time_sdk_run(client, ANSWER) for _ in range(STREAMS)]


def measure() -> list[Row]:
    """Item 6 rows."""
    with local_stack() as served:
        alone = asyncio.run(_sequential(served))
        before = rss_bytes(served.pid)
        with _PeakRss(served.pid) as peak:
            timings, errors = asyncio.run(_burst(served))
    p99_alone = percentile([t.first_token for t in alone], 0.99)
    first_tokens = [t.first_token for t in timings]
    p99 = percentile(first_tokens, 0.99) if first_tokens else float("nan")
    per_stream = (peak.peak - before) / STREAMS
    error_text = f"{len(errors)} of {STREAMS}" + (f" (e.g. {errors[0][:80]})" if errors else "")
    return [
        Row(6, f"{STREAMS} concurrent streams ({TOKENS} tokens each): failed runs", error_text,
            goal="0", met=not errors),
        Row(6, f"{STREAMS} concurrent streams: p99 time to first token", ms(p99),
            f"same runs one at a time: {ms(p99_alone)}", p99 / p99_alone),
        Row(6, f"{STREAMS} concurrent streams: server memory per stream (peak RSS growth / "
               f"{STREAMS})", f"{per_stream / 1e3:.0f} KB",
            f"RSS before the burst: {before / 1e6:.0f} MB"),
    ]


if __name__ == "__main__":
    print(render(measure()))
