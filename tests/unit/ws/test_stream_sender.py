"""The sender with protocol frames: one frame per message, and text deltas still queued
behind a post in flight folded into one (their texts joined, the last seq)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from lambdagraph.protocol import ws
from lambdagraph.ws.sender import ConnectionSender
from tests.unit.ws.fakes import SlowManagementClient


def sender(client: SlowManagementClient) -> ConnectionSender:
    return ConnectionSender("c1", client, run_id="r1", thread_id="t1", backoff=0.001)


def event(seq: int, data: dict[str, Any], namespace: list[str] | None = None) -> dict[str, Any]:
    params = {"namespace": namespace or [], "timestamp": 1000 + seq, "data": data}
    return {
        "type": "event",
        "event_id": str(seq),
        "seq": seq,
        "method": "messages",
        "params": params,
    }


def delta(
    seq: int, text: str, index: int = 0, namespace: list[str] | None = None
) -> dict[str, Any]:
    data = {
        "event": "content-block-delta",
        "index": index,
        "delta": {"type": "text-delta", "text": text},
    }
    return event(seq, data, namespace)


class Stuck(SlowManagementClient):
    """The first post to ``c1`` signals it started, then waits for the gate."""

    def __init__(self) -> None:
        super().__init__({"c1"})
        self.started = threading.Event()

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        self.started.set()
        return super().post_to_connection(ConnectionId=ConnectionId, Data=Data)


async def in_flight(out: ConnectionSender, client: Stuck, first: dict[str, Any]) -> None:
    """Post ``first`` and return once its post is under way (and stuck)."""
    out.post_frame(first)
    await asyncio.to_thread(client.started.wait, 10)


async def test_deltas_queued_behind_a_post_in_flight_go_out_as_one_frame() -> None:
    client = Stuck()
    out = sender(client)
    await in_flight(out, client, delta(0, "Hel"))
    for seq, text in enumerate(["lo", ", ", "wor", "ld"], start=1):
        out.post_frame(delta(seq, text))
    client.gate.set()
    await out.close()
    assert client.messages("c1") == [delta(0, "Hel"), delta(4, "lo, world")]
    assert out.posts == 2


async def test_a_delta_with_nothing_queued_is_posted_alone_at_once() -> None:
    """Nothing waits for company: each frame posted while the queue is idle goes out."""
    client = Stuck()
    client.gate.set()
    out = sender(client)
    frames = [delta(0, "a"), delta(1, "b"), delta(2, "c")]
    async with asyncio.timeout(10):
        for frame in frames:
            out.post_frame(frame)
            while len(client.posts.get("c1", [])) < frame["seq"] + 1:
                await asyncio.sleep(0.001)  # until this one is posted, before the next
    await out.close()
    assert client.messages("c1") == frames


async def test_other_frames_blocks_and_namespaces_are_never_folded_or_reordered() -> None:
    client = Stuck()
    out = sender(client)
    await in_flight(out, client, delta(0, "x"))
    finish = event(3, {"event": "content-block-finish", "index": 0, "content": {"type": "text"}})
    reasoning = event(
        7,
        {
            "event": "content-block-delta",
            "index": 1,
            "delta": {"type": "reasoning-delta", "reasoning": "r"},
        },
    )
    later = [
        delta(1, "a"),
        delta(2, "b", index=1),  # another block
        finish,
        delta(4, "c"),
        delta(5, "d", namespace=["sub:1"]),  # another namespace
        delta(6, "e", namespace=["sub:1"]),
        reasoning,
        delta(8, "f", index=1),
    ]
    for frame in later:
        out.post_frame(frame)
    client.gate.set()
    await out.close()
    assert client.messages("c1") == [
        delta(0, "x"),
        delta(1, "a"),
        delta(2, "b", index=1),
        finish,
        delta(4, "c"),
        delta(6, "de", namespace=["sub:1"]),
        reasoning,
        delta(8, "f", index=1),
    ]


async def test_a_folded_delta_stops_growing_at_one_websocket_frame() -> None:
    client = Stuck()
    out = sender(client)
    await in_flight(out, client, delta(0, "start"))
    chunk = "y" * 1000
    for seq in range(1, 101):
        out.post_frame(delta(seq, chunk))
    client.gate.set()
    await out.close()
    raw = client.posts["c1"]
    assert 1 < len(raw) < 101 and all(len(m) <= ws.FRAME_BYTES for m in raw)
    messages = client.messages("c1")
    assert "".join(m["params"]["data"]["delta"]["text"] for m in messages) == "start" + chunk * 100
    assert messages[-1]["seq"] == 100 and messages[-1]["event_id"] == "100"
    assert out.queued_bytes == 0
