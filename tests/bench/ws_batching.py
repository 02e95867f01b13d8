"""Measure WebSocket batching: posts per 1,000 tokens and the latency it adds.

A producer emits 1,000 ``messages`` token chunks at 200 tokens/s (one every 5 ms) into a
:class:`ConnectionSender`, whose posts go to a fake management API that takes ``rtt`` per
``post_to_connection`` (a thread sleep, like a network round trip). For each token the
harness records when it was produced, when the post carrying it started and when that post
completed. "Added latency" is produced → post started: the wait the sender adds on top of
the round trip every post pays anyway; "delivered" is produced → post completed. The
baseline posts every token on its own, in order (window 0, batch size one event).

The batcher's own cost: one message of 100, 1,000 and 10,000 token chunks handed to a
:class:`Batcher` at once (a model faster than the window, or a subscriber's catch-up), text
or tool-call arguments, in µs per token (best of three, garbage collector paused; the
baseline once at 10,000), against
:class:`tests.unit.ws.quadratic.QuadraticBatcher`, the batcher before it became linear
(LangChain add and a re-encode per token), in the same run.

A third part runs the demo agent's ``count to 1000`` at 5 ms per token (200 tokens/s)
through the whole local stack (``run`` action, worker, sender, boto3, the gateway emulator)
and counts the messages a ``websockets`` client receives against the tokens in the log.
Run: ``python -m tests.bench.ws_batching``.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from langchain_core.messages import AIMessageChunk

from lambdagraph.protocol.events import Event
from lambdagraph.ws.batching import Batcher
from lambdagraph.ws.sender import ConnectionSender
from tests.unit.ws.quadratic import QuadraticBatcher

TOKENS = 1000
RATE = 200.0  # tokens per second
RTTS = (0.005, 0.020)  # seconds per post_to_connection (in-region figures are ~5-30 ms)
LENGTHS = (100, 1_000, 10_000)  # tokens in one message, for the batcher's own cost


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


def message_chunks(count: int, *, tool_call: bool) -> list[Event]:
    """One message of ``count`` chunks: short text tokens, or one tool call's argument pieces."""
    if not tool_call:
        return [token(seq) for seq in range(count)]
    start = {"name": "search", "args": '{"query": "', "id": "call-1", "index": 0}
    events = [Event("messages", [AIMessageChunk(content="", id="bench-message",
                                                tool_call_chunks=[start]).model_dump(), {}], "0")]
    for seq in range(1, count):
        piece = {"name": None, "args": f"w{seq} ", "id": None, "index": 0}
        chunk = AIMessageChunk(content="", id="bench-message", tool_call_chunks=[piece])
        events.append(Event("messages", [chunk.model_dump(), {}], str(seq)))
    return events


def batching_cost(batcher_class: type[Any], events: list[Event], repeats: int = 3) -> float:
    """µs per event to batch ``events`` handed over at once, best of ``repeats``."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            batcher = batcher_class("r", "t")
            batcher.add(events)
            batcher.drain()
            best = min(best, time.perf_counter() - started)
        finally:
            gc.enable()
    return best * 1e6 / len(events)


def per_token_costs(*, tool_call: bool) -> tuple[list[float], list[float]]:
    """(ours, quadratic baseline): µs per token for each of :data:`LENGTHS`."""
    ours, baseline = [], []
    for count in LENGTHS:
        events = message_chunks(count, tool_call=tool_call)
        ours.append(batching_cost(Batcher, events))
        # The quadratic batcher needs minutes for 10,000 tool-call pieces: time it once there.
        baseline.append(batching_cost(QuadraticBatcher, events, 1 if count >= 10_000 else 3))
    return ours, baseline


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

    from lambdagraph.settings import Settings
    from lambdagraph.store.events import EventLog
    from lambdagraph_client.local.server import running_stack

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
    for tool_call in (False, True):
        ours, baseline = per_token_costs(tool_call=tool_call)
        kind = "tool-call arguments" if tool_call else "text"
        print(
            f"batching one {kind} message, µs per token at {LENGTHS}: "
            f"{' / '.join(f'{v:.1f}' for v in ours)} (10,000/100: {ours[-1] / ours[0]:.2f}); "
            f"quadratic: {' / '.join(f'{v:.1f}' for v in baseline)} "
            f"(10,000/100: {baseline[-1] / baseline[0]:.2f})"
        )
    tokens, messages, seconds = await end_to_end()
    print(
        f"end to end on the local stack: {tokens} token chunks in {seconds:.1f} s "
        f"({tokens / seconds:.0f}/s) arrived in {messages} events messages "
        f"({messages * 1000 / tokens:.0f} per 1,000 tokens)"
    )


if __name__ == "__main__":
    asyncio.run(main())
