"""``make bench``: every benchmark, one table. ``python -m tests.bench [--only 1,2] [--profile]``.

Sections (the items of issue 7): 1-2 ``streaming``, 3 ``cold_start``, 4 ``dynamo_costs``,
5 ``ws_posts``, 6 ``concurrency``; of issue 14: 7 ``thread_stream`` (the v2 protocol through
the SDK's thread stream), 8 ``session_cost`` (a chat session's Lambda GB-seconds); of issue 17: 9
``agui_overhead`` (AG-UI's per-token cost against native SSE), 10 ``a2a_overhead`` (A2A's); of
issue 15: 11 ``cost_table`` (the README's cost table, from what the runs did); of issue 18: 12
``footprint`` (the layer's size per architecture, the stream function's peak memory). Each
figure is a ratio against a baseline measured in this run on this machine. A section that
fails becomes a row saying why; the others still run. ``--profile`` also prints the
hot-path profile (``hot_path``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sys
import time
from collections.abc import Callable

from tests.bench import (
    a2a_overhead,
    agui_overhead,
    cold_start,
    concurrency,
    cost_table,
    dynamo_costs,
    footprint,
    session_cost,
    streaming,
    thread_stream,
    ws_posts,
)
from tests.bench.rows import Row, render

SECTIONS: dict[int, tuple[str, Callable[[], list[Row]]]] = {
    1: ("throughput and first-token latency", lambda: asyncio.run(streaming.measure())),
    3: ("cold start", cold_start.measure),
    4: ("DynamoDB cost per HITL cycle", dynamo_costs.measure),
    5: ("WebSocket batching", ws_posts.measure),
    6: ("100 concurrent streams", concurrency.measure),
    7: ("v2 thread stream: throughput and first token", thread_stream.measure),
    8: ("v2 chat session: Lambda GB-s, SSE vs WebSocket", session_cost.measure),
    9: ("AG-UI: per-token overhead against native SSE", agui_overhead.measure),
    10: ("A2A: per-token overhead against native SSE", a2a_overhead.measure),
    11: ("cost of a 1,000-token conversation with one approval", cost_table.measure),
    12: ("Lambda footprint: layer size and memory high-water mark", footprint.measure),
}


def run(only: set[int] | None) -> list[Row]:
    """Run the chosen sections (all by default), in order; failures become rows."""
    rows: list[Row] = []
    for number, (title, measure) in SECTIONS.items():
        if only and number not in only and not (number == 1 and 2 in only):
            continue
        started = time.monotonic()
        print(f"[bench] {title} …", file=sys.stderr, flush=True)
        try:
            rows.extend(measure())
        except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others'
            rows.append(Row(number, title, f"not measured: {type(exc).__name__}: {exc}"[:300]))
        print(f"[bench] {title}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    return rows


def main() -> None:
    """Parse options, run, print the table."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--only", help="comma-separated item numbers, e.g. 1,4")
    parser.add_argument("--profile", action="store_true", help="also print the hot-path profile")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    only = {int(n) for n in args.only.split(",")} if args.only else None
    started = time.monotonic()
    rows = run(only)
    if args.profile:
        from tests.bench.hot_path import profile_hot_path  # a long report, on request only

        print(profile_hot_path())
    cpus = os.cpu_count()
    print(
        f"\nlambdagraph benchmarks — Python {platform.python_version()}, {cpus} CPUs, "
        f"{platform.system()}; {time.monotonic() - started:.0f} s\n"
    )
    print(render(rows))


if __name__ == "__main__":
    main()
