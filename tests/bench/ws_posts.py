"""Item 5: WebSocket posts per 1,000 tokens, the latency batching adds, its cost per token.

Rows from :func:`tests.bench.ws_batching.measure`: 1,000 tokens at 200 tokens/s through the
real ``ConnectionSender`` (50 ms window) against one post per token, the post taking a
simulated round trip; and from :func:`tests.bench.ws_batching.per_token_costs`: the
batcher's µs per token for messages of 100 to 10,000 tokens against the quadratic batcher it
replaced. Run alone: ``python -m tests.bench.ws_posts``.
"""

from __future__ import annotations

import asyncio

from tests.bench import ws_batching
from tests.bench.rows import Row, render

FLAT: float = 1.5  # "flat": 10,000 tokens cost at most this much more per token than 100

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
        *_cost_rows(tool_call=False),
        *_cost_rows(tool_call=True),
    ]


def _cost_rows(*, tool_call: bool) -> list[Row]:
    ours, baseline = ws_batching.per_token_costs(tool_call=tool_call)
    kind = "tool-call arguments" if tool_call else "text"
    sizes = " / ".join(f"{n:,}" for n in ws_batching.LENGTHS)
    growth, old_growth = ours[-1] / ours[0], baseline[-1] / baseline[0]
    return [
        Row(5, f"WebSocket batching µs per token, one {kind} message of {sizes} tokens",
            " / ".join(f"{v:.1f}" for v in ours),
            "per-token LangChain add + re-encode: " + " / ".join(f"{v:.1f}" for v in baseline),
            ours[-1] / baseline[-1]),
        Row(5, f"WebSocket batching cost growth, {kind}: per token at 10,000 / at 100 tokens",
            f"{growth:.2f}", f"per-token LangChain add + re-encode: {old_growth:.2f}",
            growth / old_growth, f"≈ 1 (≤ {FLAT})", growth <= FLAT),
    ]


if __name__ == "__main__":
    print(render(measure()))
