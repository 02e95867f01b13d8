"""The sender: batching windows, ordering, throttling retries, gone connections."""

from __future__ import annotations

import asyncio
from typing import Any

from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event
from lambdagraph.ws.sender import ConnectionSender
from tests.unit.ws.fakes import FakeManagementClient, SlowManagementClient
from tests.unit.ws.test_batching import token


def sender(client: FakeManagementClient, **options: Any) -> ConnectionSender:
    return ConnectionSender("c1", client, run_id="r1", thread_id="t1", backoff=0.001, **options)


async def test_tokens_within_a_window_go_out_as_one_post() -> None:
    client = FakeManagementClient()
    out = sender(client, window=60.0)  # only close() flushes: no timing involved
    for i, text in enumerate(["a", "quick", "brown", "fox"]):
        out.add([token(text + " ", i)])
    out.post(ws.run_ended("r1", "success"))
    await out.close()
    messages = client.messages("c1")
    assert [m["type"] for m in messages] == ["events", "run.ended"]
    [event] = messages[0]["events"]
    assert event["data"][0]["content"] == "a quick brown fox " and event["id"] == "0000000003"
    assert out.posts == 2


async def test_the_window_flushes_without_close() -> None:
    client = FakeManagementClient()
    out = sender(client, window=0.01)
    out.add([Event("custom", 1, "0")])
    async with asyncio.timeout(5):
        while not client.posts.get("c1"):
            await asyncio.sleep(0.005)
    await out.close()
    assert client.messages("c1")[0]["events"] == [{"id": "0", "event": "custom", "data": 1}]


async def test_throttled_posts_are_retried_in_order() -> None:
    client = FakeManagementClient(failures={"c1": ["LimitExceededException"] * 3})
    out = sender(client, window=60.0, batch_bytes=600)
    out.add([Event("custom", {"n": i, "pad": "p" * 200}, str(i)) for i in range(6)])
    await out.close()
    received = [e["data"]["n"] for m in client.messages("c1") for e in m["events"]]
    assert received == list(range(6))
    assert client.attempts == out.posts + 3 and out.dropped == 0


async def test_a_message_still_throttled_after_the_retries_is_dropped() -> None:
    client = FakeManagementClient(failures={"c1": ["LimitExceededException"] * 3})
    out = sender(client, window=60.0, retries=2)
    out.add([Event("custom", 1, "0")])
    out.post(ws.pong())
    await out.close()
    assert out.dropped == 1 and client.messages("c1") == [ws.pong()]


async def test_gone_connection_stops_and_is_reported_once() -> None:
    client = FakeManagementClient(gone={"c1"})
    reported: list[str] = []

    async def on_gone(connection_id: str) -> None:
        reported.append(connection_id)

    out = sender(client, window=60.0, batch_bytes=300, on_gone=on_gone)
    out.add([Event("custom", {"pad": "p" * 200}, str(i)) for i in range(5)])
    await out.close()
    out.add([Event("custom", 1, "9")])
    assert out.gone and reported == ["c1"] and client.attempts == 1


async def test_other_errors_drop_the_message_and_keep_going() -> None:
    client = FakeManagementClient(failures={"c1": ["PayloadTooLargeException"]})
    out = sender(client, window=60.0)
    out.add([Event("custom", 1, "0")])
    out.post(ws.pong())
    await out.close()
    assert out.dropped == 1 and client.messages("c1") == [ws.pong()]


def padded(start: int, stop: int) -> list[Event]:
    return [Event("custom", {"n": i, "pad": "p" * 200}, str(i)) for i in range(start, stop)]


async def test_a_lagging_consumer_holds_the_producer_until_it_catches_up() -> None:
    client = SlowManagementClient({"c1"})
    out = sender(client, window=60.0, batch_bytes=600, max_queued_bytes=1_000, max_wait=60.0)
    try:
        out.add(padded(0, 12))  # about 3 KB of messages behind one stuck post
        assert not out.has_room
        waiting = asyncio.ensure_future(out.wait_for_room())
        client.gate.set()
        async with asyncio.timeout(10):
            await waiting
        assert out.has_room and not out.detached
    finally:
        client.gate.set()
        await out.close()
    received = [e["data"]["n"] for m in client.messages("c1") for e in m["events"]]
    assert received == list(range(12)) and out.queued_bytes == 0


async def test_a_consumer_that_stays_behind_is_detached_with_a_slow_consumer_error() -> None:
    client = SlowManagementClient({"c1"})
    detached: list[str] = []

    async def on_detach(connection_id: str) -> None:
        detached.append(connection_id)

    out = sender(
        client, window=60.0, batch_bytes=600, max_queued_bytes=1_000, max_wait=0.05,
        on_detach=on_detach,
    )
    try:
        out.add(padded(0, 12))
        async with asyncio.timeout(10):  # the producer is released after max_wait
            await out.wait_for_room()
        assert out.detached and detached == ["c1"] and out.has_room
        out.add(padded(12, 20))  # ignored from now on: nothing grows
        out.post(ws.run_ended("r1", "success"))
        assert out.queued_bytes < 1_000
    finally:
        client.gate.set()
        await out.close()
    *events, last = client.messages("c1")
    assert [m["type"] for m in events] == ["events"]  # only the post that was in flight
    assert last["type"] == "error" and last["code"] == "slow_consumer"
    assert last["run_id"] == "r1" and '"action": "subscribe"' in last["message"]
    assert out.queued_bytes == 0
