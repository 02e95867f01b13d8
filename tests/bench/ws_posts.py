"""Item 5: WebSocket posts per 1,000 tokens and the latency batching adds (``ws_batching``).

Rows from :func:`tests.bench.ws_batching.measure`: 1,000 tokens at 200 tokens/s through the
real ``ConnectionSender`` (50 ms window) against one post per token, the post taking a
simulated round trip. Run alone: ``python -m tests.bench.ws_posts``.
"""

from __future__ import annotations

import asyncio

from tests.bench import ws_batching
from tests.bench.rows import Row, render

RTT = 0.020  # one post_to_connection; in-region figures are ~5-30 ms


async def _measure() -> tuple[tuple[float, ...], tuple[float, ...]]:
    per_token = await ws_batching.measure(RTT, batched=False)
    batched = await ws_batching.measure(RTT, batched=True)
    return per_token, batched


def measure() -> list[Row]:
    """Item 5 rows."""
    per_token, batched = asyncio.run(_measure())
    posts_ratio = batched[0] / per_token[0]
    rtt = f"{RTT * 1000:.0f} ms per post"
    return [
        Row(5, f"WebSocket posts per 1,000 tokens (200 tokens/s, {rtt})", f"{batched[0]:.0f}",
            f"one post per token: {per_token[0]:.0f}", posts_ratio, "≤ 0.1", posts_ratio <= 0.1),
        Row(5, "WebSocket added latency p50 / p99 (token produced → its post starts)",
            f"{batched[1]:.1f} ms / {batched[2]:.1f} ms",
            f"one post per token: {per_token[1]:.1f} ms / {per_token[2]:.1f} ms",
            batched[2] / per_token[2] if per_token[2] else None, "p99 < 60 ms",
            batched[2] < 60),
        Row(5, "WebSocket delivered latency p50 / p99 (token produced → its post done)",
            f"{batched[3]:.1f} ms / {batched[4]:.1f} ms",
            f"one post per token: {per_token[3]:.1f} ms / {per_token[4]:.1f} ms",
            batched[4] / per_token[4] if per_token[4] else None),
    ]


if __name__ == "__main__":
    print(render(measure()))  # noqa: T201 - a report
