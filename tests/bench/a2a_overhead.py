"""Item 10: the per-token cost of the A2A encoding against our native SSE.

The same 3,000-token answer (scripted model at delay 0) streamed from the local stack,
alternately through ``POST /threads/{tid}/runs/stream`` (``messages-tuple``) and A2A's
``message/stream`` at ``POST /a2a/agent`` (one ``artifact-update`` JSON-RPC frame per token,
``a2a-sdk``'s types and dispatcher), :data:`RUNS` times each; one ``httpx`` client in this
process, the stack in its own. The figure is the median wall time of a run over its tokens.
Run alone: ``python -m tests.bench.a2a_overhead``.
"""

from __future__ import annotations

import time
import uuid

import httpx

from tests.bench.agui_overhead import ANSWER, TOKENS, overhead_rows
from tests.bench.rows import Row, render

SECTION = 10


def _a2a(client: httpx.Client) -> float:
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/stream", "params": {"message": {
        "role": "user", "messageId": str(uuid.uuid4()),
        "parts": [{"kind": "text", "text": ANSWER}]}}}
    started = time.perf_counter()
    with client.stream("POST", "/a2a/agent", json=body) as response:
        chunks = sum(1 for line in response.iter_lines() if '"artifact-update"' in line)
    elapsed = time.perf_counter() - started
    assert chunks >= TOKENS, chunks
    return elapsed


def measure() -> list[Row]:
    """Median microseconds per token of each encoding, and A2A's over native."""
    return overhead_rows(SECTION, "A2A message/stream", _a2a)

if __name__ == "__main__":
    print(render(measure()))
