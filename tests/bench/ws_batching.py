"""Measure WebSocket batching: posts per 1,000 tokens and the latency it adds.

A producer emits 1,000 ``messages`` token chunks at 200 tokens/s (one every 5 ms) into a
:class:`ConnectionSender`, whose posts go to a fake management API that takes ``rtt`` per
``post_to_connection`` (a thread sleep, like a network round trip). For each token the
harness records when it was produced, when the post carrying it started and when that post
completed. "Added latency" is produced → post started: the wait the sender adds on top of
the round trip every post pays anyway; "delivered" is produced → post completed. The
baseline posts every token on its own, in order (window 0, batch size one event).

A second part runs the demo agent's ``count to 1000`` at 5 ms per token (200 tokens/s)
through the whole local stack (``run`` action, worker, sender, boto3, the gateway emulator)
and counts the messages a ``websockets`` client receives against the tokens in the log.
Run: ``python -m tests.bench.ws_batching``.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from lambdagraph.protocol.events import Event
from lambdagraph.ws.sender import ConnectionSender
from langchain_core.messages import AIMessageChunk

TOKENS = 1000
RATE = 200.0  # tokens per second
RTTS = (0.005, 0.020)  # seconds per post_to_connection (in-region figures are ~5-30 ms)


@dataclass
class TimedClient:
    """A fake management API: each post takes ``rtt``; records when each token arrived."""

    rtt: float
    posts: int = 0
    started: dict[int, float] = field(default_factory=dict)
    arrived: dict[int, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        began = time.perf_counter()
        time.sleep(self.rtt)
        now = time.perf_counter()
        message = orjson.loads(Data)
        with self.lock:
            self.posts += 1
            last = max(self.arrived, default=-1)
            for event in message.get("events", []):
                # A merged chunk carries the id of the last token it absorbed.
                for seq in range(last + 1, int(event["id"]) + 1):
                    self.started[seq] = began
                    self.arrived[seq] = now
                last = max(last, int(event["id"]))
        return {}


def token(seq: int) -> Event:
    chunk = AIMessageChunk(content=f" {seq}", id="bench-message").model_dump()
    return Event("messages", [chunk, {"langgraph_node": "agent"}], str(seq))


def percentiles(values_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(values_ms)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


async def measure(rtt: float, *, batched: bool) -> tuple[int, float, float, float, float]:
    """(posts per 1,000 tokens, added p50, p99, delivered p50, p99 in ms) for one setup."""
    client = TimedClient(rtt)
    options: dict[str, Any] = {"window": 0.05} if batched else {"window": 0.0, "batch_bytes": 1}
    sender = ConnectionSender("bench", client, run_id="r", thread_id="t", **options)
    produced: dict[int, float] = {}
    loop = asyncio.get_running_loop()
    start = loop.time()
    for seq in range(TOKENS):
        await asyncio.sleep(max(0.0, start + seq / RATE - loop.time()))
        produced[seq] = time.perf_counter()
        sender.add([token(seq)])
    await sender.close()
    added = percentiles([(client.started[s] - produced[s]) * 1000 for s in range(TOKENS)])
    delivered = percentiles([(client.arrived[s] - produced[s]) * 1000 for s in range(TOKENS)])
    return (round(client.posts * 1000 / TOKENS), *added, *delivered)


async def end_to_end() -> tuple[int, int, float]:
    """(tokens, ``events`` messages received, seconds) for one run on the local stack."""
    import uuid

    import websockets

    from lambdagraph_client.local.server import running_stack
    from lambdagraph.settings import Settings
    from lambdagraph.store.events import EventLog

    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        app_table=f"bench-app-{suffix}",
        checkpoint_table=f"bench-checkpoints-{suffix}",
        scripted_delay_ms=5,
    )
    frame = {
        "action": "run",
        "request_id": "bench",
        "assistant_id": "agent",
        "input": {"messages": [{"role": "user", "content": f"count to {TOKENS}"}]},
        "stream_mode": ["messages-tuple"],
    }
    with running_stack(settings=settings, embedded=True) as stack:
        async with websockets.connect(stack.ws_url) as socket:
            await socket.send(orjson.dumps(frame).decode())
            started, messages, run_id = time.perf_counter(), 0, ""
            async for raw in socket:
                message = orjson.loads(raw)
                if message["type"] == "run.accepted":
                    run_id = message["run_id"]
                messages += message["type"] == "events"
                if message["type"] == "run.ended":
                    break
            seconds = time.perf_counter() - started
        logged = (await EventLog(settings.app_table).read_after(run_id, -1)).events
    tokens = sum(event.event == "messages" for event in logged)
    return tokens, messages, seconds


async def main() -> None:
    print(f"{TOKENS} tokens at {RATE:.0f} tokens/s; one post_to_connection takes RTT")
    head = ("RTT", "mode", "posts/1k tok", "added p50", "added p99", "deliv. p50", "deliv. p99")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for rtt in RTTS:
        base = await measure(rtt, batched=False)
        batch = await measure(rtt, batched=True)
        for mode, row in (("one post per token", base), ("batched, 50 ms window", batch)):
            cells = [f"{rtt * 1000:.0f} ms", mode, str(row[0]), *(f"{v:.1f} ms" for v in row[1:])]
            print("| " + " | ".join(cells) + " |")
        print(
            f"posts ratio at {rtt * 1000:.0f} ms RTT: {batch[0] / base[0]:.3f} (target <= 0.1); "
            f"added p99 {batch[2]:.1f} ms (target < 60 ms)"
        )
    tokens, messages, seconds = await end_to_end()
    print(
        f"end to end on the local stack: {tokens} token chunks in {seconds:.1f} s "
        f"({tokens / seconds:.0f}/s) arrived in {messages} events messages "
        f"({messages * 1000 / tokens:.0f} per 1,000 tokens)"
    )


if __name__ == "__main__":
    asyncio.run(main())
