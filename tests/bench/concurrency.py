"""Item 6: 100 concurrent streams on the local stack, from 100 users.

Each stream belongs to a user of its own (a token of the local issuer each), as 100 people
chatting at once are, and as the per-user limits (one user's active runs, one user's
requests per minute) are designed around: the stack runs with the template's default
limits, which refuse one user's 100 streams and let 100 users' through. Reported:

* runs that failed or lost tokens, when 100 users each start ``count to 300`` (300 tokens) on
  a thread of their own at once, through ``langgraph-sdk``;
* p99 time to first token of that burst, against the same 100 runs one at a time;
* server memory per *active* stream: the peak RSS growth during the burst / 100;
* server memory per *idle* stream: what a chat app holds open between turns, a v2
  ``client.threads.stream`` session on its idle thread with a ``messages`` subscription
  waiting (the SDK's subscription stream and its lifecycle watcher, two SSE requests), for
  100 users at once: the RSS growth once every stream is open / 100.

Run alone: ``python -m tests.bench.concurrency``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from lambdagraph_client.local.oidc import request_token
from lambdagraph_client.local.template import load_template
from tests.bench.rows import Row, ms, render
from tests.bench.targets import Served, local_stack, rss_bytes
from tests.bench.timing import ASSISTANT, RunTiming, percentile, time_sdk_run
from tests.bench.venvs import ROOT

STREAMS = 100
ANSWER = "count to 300"
TOKENS = 300
_SAMPLE_SECONDS = 0.02
# The template's per-user limits (one user's 100 streams would be refused; 100 users' are not),
# and idle streams that outlive their opening: the server's idle end (20 s by default) would
# close the first ones while the last open.
_PARAMETERS = load_template(ROOT / "template.yaml")["Parameters"]
_STACK_ENV = {
    "LAMBDAGRAPH_MAX_ACTIVE_RUNS_PER_USER": str(_PARAMETERS["MaxActiveRunsPerUser"]["Default"]),
    "LAMBDAGRAPH_REQUESTS_PER_MINUTE_PER_USER": str(
        _PARAMETERS["RequestsPerMinutePerUser"]["Default"]
    ),
    "LAMBDAGRAPH_AGENT_STREAM_IDLE_SECONDS": "600",
}
_IDLE_SSE_PER_SESSION = 2  # the SDK's subscription stream and its lifecycle watcher
_OPEN_TIMEOUT = 120.0


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


def _user_headers(served: Served) -> list[dict[str, str]]:
    """Each user's request headers: a bearer token of the stack's local issuer."""
    return [
        {"Authorization": f"Bearer {request_token(served.url, f'user-{n}')}"}
        for n in range(STREAMS)
    ]


def _clients(served: Served, users: list[dict[str, str]]) -> list[LangGraphClient]:
    """One SDK client per user (made inside the event loop that uses it)."""
    return [get_client(url=served.url, headers=headers) for headers in users]


async def _burst(
    served: Served, users: list[dict[str, str]]
) -> tuple[list[RunTiming], list[str]]:
    clients = _clients(served, users)
    results = await asyncio.gather(
        *(asyncio.wait_for(time_sdk_run(client, ANSWER), 120) for client in clients),
        return_exceptions=True,
    )
    timings = [r for r in results if isinstance(r, RunTiming) and r.tokens == TOKENS]
    errors = [
        repr(r) if isinstance(r, BaseException) else f"{r.tokens} tokens"
        for r in results
        if not (isinstance(r, RunTiming) and r.tokens == TOKENS)
    ]
    return timings, errors


async def _sequential(served: Served, users: list[dict[str, str]]) -> list[RunTiming]:
    clients = _clients(served, users)
    for client in clients[:5]:  # warm-up
        await time_sdk_run(client, ANSWER)
    return [await time_sdk_run(client, ANSWER) for client in clients]


def established(port: int) -> int:
    """Open TCP connections to local ``port`` (Linux ``/proc/net/tcp``, state 01)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
            count += 1
    return count


@contextlib.asynccontextmanager
async def _idle_session(client: LangGraphClient, headers: dict[str, str]) -> AsyncIterator[None]:
    """A v2 session on a new, idle thread, its ``messages`` subscription waiting."""
    thread = await client.threads.create()
    async with client.threads.stream(
        thread["thread_id"], assistant_id=ASSISTANT, transport="sse", headers=headers
    ) as session:
        waiting = asyncio.ensure_future(anext(aiter(session.subscribe(["messages"]))))
        try:
            yield
        finally:
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await waiting


async def _idle_growth(served: Served, users: list[dict[str, str]]) -> tuple[int, int]:
    """RSS growth with every user's idle session open, and the SSE requests counted open."""
    clients = _clients(served, users)
    port = int(served.url.rsplit(":", 1)[1])
    before_connections = established(port)
    before = rss_bytes(served.pid)
    async with contextlib.AsyncExitStack() as stack:
        for client, headers in zip(clients, users, strict=True):
            await stack.enter_async_context(_idle_session(client, headers))
        wanted = before_connections + STREAMS * _IDLE_SSE_PER_SESSION
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _OPEN_TIMEOUT
        while established(port) < wanted and loop.time() < deadline:
            await asyncio.sleep(0.1)  # polls the kernel's count, not a guess at a delay
        opened = established(port) - before_connections
        return rss_bytes(served.pid) - before, opened


def measure() -> list[Row]:
    """Item 6 rows."""
    with local_stack(env=_STACK_ENV) as served:
        users = _user_headers(served)
        alone = asyncio.run(_sequential(served, users))
        idle, opened = asyncio.run(_idle_growth(served, users))
        before = rss_bytes(served.pid)
        with _PeakRss(served.pid) as peak:
            timings, errors = asyncio.run(_burst(served, users))
    p99_alone = percentile([t.first_token for t in alone], 0.99)
    first_tokens = [t.first_token for t in timings]
    p99 = percentile(first_tokens, 0.99) if first_tokens else float("nan")
    per_stream = (peak.peak - before) / STREAMS
    error_text = f"{len(errors)} of {STREAMS}" + (f" (e.g. {errors[0][:80]})" if errors else "")
    return [
        Row(6, f"{STREAMS} concurrent streams of {STREAMS} users ({TOKENS} tokens each): "
               "failed runs", error_text, goal="0", met=not errors),
        Row(6, f"{STREAMS} concurrent streams: p99 time to first token", ms(p99),
            f"same runs one at a time: {ms(p99_alone)}", p99 / p99_alone),
        Row(6, f"server memory per active stream (peak RSS growth during the burst / {STREAMS})",
            f"{per_stream / 1e3:.0f} KB", f"RSS before the burst: {before / 1e6:.0f} MB"),
        Row(6, f"server memory per idle stream (v2 session waiting on an idle thread, "
               f"{_IDLE_SSE_PER_SESSION} SSE requests; RSS growth / {STREAMS})",
            f"{idle / STREAMS / 1e3:.0f} KB", f"SSE requests open: {opened}"),
    ]


if __name__ == "__main__":
    print(render(measure()))
