"""Item 9: the per-token cost of the AG-UI encoding against our native SSE.

The same 3,000-token answer (scripted model at delay 0, so the stack's own work is all there
is) streamed from the local stack, alternately through ``POST /threads/{tid}/runs/stream``
(``messages-tuple``: LangGraph's native frames) and ``POST /ag-ui/agent`` (AG-UI frames from
``ag-ui-protocol``'s encoder), :data:`RUNS` times each; one ``httpx`` client in this process,
the stack in its own. The figure is the median wall time of a run divided by its tokens.
Run alone: ``python -m tests.bench.agui_overhead``.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable

import httpx

from tests.bench.rows import Row, render
from tests.bench.targets import local_stack

ANSWER = "count to 3000"
TOKENS = 3000
RUNS = 5
SECTION = 9


def _native(client: httpx.Client) -> float:
    thread_id = client.post("/threads", json={}).json()["thread_id"]
    body = {"assistant_id": "agent", "stream_mode": ["messages-tuple"],
            "input": {"messages": [{"role": "user", "content": ANSWER}]}}
    started = time.perf_counter()
    with client.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as response:
        frames = sum(1 for line in response.iter_lines() if line == "event: messages")
    elapsed = time.perf_counter() - started
    assert frames >= TOKENS, frames
    return elapsed


def _agui(client: httpx.Client) -> float:
    body = {"threadId": str(uuid.uuid4()), "runId": "bench",
            "messages": [{"id": "u", "role": "user", "content": ANSWER}]}
    started = time.perf_counter()
    with client.stream("POST", "/ag-ui/agent", json=body) as response:
        deltas = sum(1 for line in response.iter_lines() if '"TEXT_MESSAGE_CONTENT"' in line)
    elapsed = time.perf_counter() - started
    assert deltas == TOKENS, deltas
    return elapsed


def measure() -> list[Row]:
    """Median microseconds per token of each encoding, and AG-UI's over native."""
    return overhead_rows(SECTION, "AG-UI SSE", _agui)


def overhead_rows(section: int, name: str, other: Callable[[httpx.Client], float]) -> list[Row]:
    """``other``'s per-token wall time against native SSE's, alternating runs on one stack
    (after one warm-up of each: imports, the first thread, an encoder's first use)."""
    native: list[float] = []
    theirs: list[float] = []
    with local_stack(delay_ms=0) as served, httpx.Client(
        base_url=served.url, headers=dict(served.headers), timeout=120
    ) as c:
        _native(c), other(c)
        for _ in range(RUNS):
            native.append(_native(c))
            theirs.append(other(c))
    per_native = statistics.median(native) / TOKENS
    per_other = statistics.median(theirs) / TOKENS
    return [
        Row(section, f"{name}: wall time per token (3,000-token answer, delay 0)",
            f"{per_other * 1e6:.0f} µs", f"native SSE (messages-tuple): {per_native * 1e6:.0f} µs",
            per_other / per_native, "for information"),
        Row(section, f"{name.split()[0]} overhead per token over native SSE",
            f"{(per_other - per_native) * 1e6:+.0f} µs"),
    ]

if __name__ == "__main__":
    print(render(measure()))
