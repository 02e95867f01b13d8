"""The fan-out sink: subscribers caught up exactly once, gone ones dropped, ``run.ended``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from lambdagraph.protocol.events import Event
from lambdagraph.store.connections import RunRef
from lambdagraph.store.events import LogRead
from lambdagraph.ws.fanout import WebSocketFanout
from tests.unit.ws.fakes import FakeManagementClient, SlowManagementClient

USAGE = {"input_tokens": 9, "output_tokens": 2, "total_tokens": 11, "cost_usd": 0.00002}


def run_item(status: str = "running", subscribers: list[str] | None = None) -> dict[str, Any]:
    run: dict[str, Any] = {"run_id": "r1", "thread_id": "t1", "owner": "alice", "status": status}
    if status == "success":
        run["usage"] = USAGE
    if subscribers:
        run["subscribers"] = subscribers
    return run


@dataclass
class FakeStore:
    final: dict[str, Any]

    async def read_run(self, run: Any) -> Any:
        return self.final


@dataclass
class FakeConnections:
    removed: list[tuple[str, str, set[str]]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    subscribed: list[tuple[str, int]] = field(default_factory=list)

    async def unsubscribe(self, thread_id: str, run_id: str, entries: Any) -> None:
        self.removed.append((thread_id, run_id, set(entries)))

    async def delete_connection(self, connection_id: str) -> None:
        self.deleted.append(connection_id)

    async def subscribe(self, ref: RunRef, connection_id: str, after: int) -> bool:
        self.subscribed.append((connection_id, after))
        return True


@dataclass
class FakeLog:
    events: list[Event]

    async def read_after(self, run_id: str, after: int, *, skip_gaps: bool = False) -> LogRead:
        return LogRead([e for e in self.events if int(e.id or -1) > after], gap=False)


def numbered(start: int, stop: int) -> list[Event]:
    return [Event("custom", {"n": i}, str(i)) for i in range(start, stop)]


def received_ids(client: FakeManagementClient, connection_id: str) -> list[int]:
    return [
        int(e["id"])
        for m in client.messages(connection_id)
        if m["type"] == "events"
        for e in m["events"]
    ]


def fanout(
    client: FakeManagementClient,
    run: dict[str, Any],
    final: dict[str, Any],
    connections: FakeConnections | None = None,
    log: FakeLog | None = None,
) -> WebSocketFanout:
    return WebSocketFanout(
        run,  # type: ignore[arg-type]
        client,
        store=FakeStore(final),  # type: ignore[arg-type]
        connections=connections or FakeConnections(),  # type: ignore[arg-type]
        log=log,  # type: ignore[arg-type]
        window=3600.0,
    )


async def test_subscribers_get_every_event_once_and_run_ended() -> None:
    client = FakeManagementClient()
    sink = fanout(
        client, run_item(subscribers=["a#-1"]), run_item("success", ["a#-1", "b#4", "c#-1"])
    )
    await sink.send(numbered(0, 5))
    await sink.observe(run_item(subscribers=["a#-1", "b#2"]))  # b joins after event 2
    await sink.send(numbered(5, 8))
    await sink.observe(run_item(subscribers=["a#-1", "b#2", "b#4"]))  # a repeat changes nothing
    await sink.close()  # c appears only in the final read
    assert received_ids(client, "a") == list(range(8))
    assert received_ids(client, "b") == list(range(3, 8))
    assert received_ids(client, "c") == list(range(8))
    for connection in "abc":
        assert client.messages(connection)[-1] == {
            "v": 1,
            "type": "run.ended",
            "run_id": "r1",
            "status": "success",
            "usage": USAGE,  # the run's totals, from its final record
        }


async def test_a_gone_subscriber_is_removed_and_the_others_go_on() -> None:
    client = FakeManagementClient(gone={"a"})
    connections = FakeConnections()
    sink = fanout(
        client,
        run_item(subscribers=["a#-1", "b#-1"]),
        run_item("success", ["a#-1", "b#-1"]),
        connections,
    )
    await sink.send(numbered(0, 3))
    await sink.close()
    assert connections.removed == [("t1", "r1", {"a#-1"})] and connections.deleted == ["a"]
    assert received_ids(client, "b") == [0, 1, 2]


async def test_a_continuation_catches_up_from_the_log() -> None:
    client = FakeManagementClient()
    log = FakeLog(numbered(0, 10))
    sink = fanout(client, run_item(), run_item("success", ["late#3"]), log=log)
    await sink.send(numbered(10, 12))  # this attempt's first event is 10
    await sink.observe(run_item(subscribers=["late#3"]))
    await sink.send(numbered(12, 13))
    await sink.close()
    assert received_ids(client, "late") == list(range(4, 13))


async def test_a_drained_run_hands_its_subscribers_over() -> None:
    client = FakeManagementClient()
    connections = FakeConnections()
    sink = fanout(
        client, run_item(subscribers=["a#-1"]), run_item("running", ["a#-1"]), connections
    )
    await sink.send(numbered(0, 4))
    await sink.close()
    assert connections.subscribed == [("a", 3)]
    assert connections.removed == [("t1", "r1", {"a#-1"})]
    assert all(m["type"] == "events" for m in client.messages("a"))  # no run.ended yet


def padded(start: int, stop: int) -> list[Event]:
    return [Event("custom", {"n": i, "pad": "p" * 200}, str(i)) for i in range(start, stop)]


async def test_a_slow_subscriber_is_detached_the_others_get_everything_and_it_can_rejoin() -> None:
    client = SlowManagementClient({"slow"})
    connections = FakeConnections()
    sink = WebSocketFanout(
        run_item(subscribers=["fast#-1", "slow#-1"]),  # type: ignore[arg-type]
        client,
        store=FakeStore(run_item("success", ["fast#-1", "slow#9"])),  # type: ignore[arg-type]
        connections=connections,  # type: ignore[arg-type]
        window=3600.0,
        batch_bytes=600,
        max_queued_bytes=1_000,
        max_wait=0.05,
    )
    try:
        async with asyncio.timeout(10):  # the run is held at most max_wait per send
            await sink.send(padded(0, 6))
            await sink.send(padded(6, 12))
        assert connections.removed == [("t1", "r1", {"slow#-1"})]
        client.gate.set()
        async with asyncio.timeout(10):  # the detached sender posts its last word
            while not any(m["type"] == "error" for m in client.messages("slow")):
                await asyncio.sleep(0.005)
        await sink.observe(run_item(subscribers=["fast#-1", "slow#-1"]))  # read before removal
        await sink.send(padded(12, 14))
        await sink.observe(run_item(subscribers=["fast#-1", "slow#9"]))  # the client rejoins
        await sink.send(padded(14, 16))
    finally:
        client.gate.set()
        await sink.close()
    assert received_ids(client, "fast") == list(range(16))
    messages = client.messages("slow")
    cut = next(i for i, m in enumerate(messages) if m["type"] == "error")
    assert messages[cut]["code"] == "slow_consumer"
    before = [int(e["id"]) for m in messages[:cut] for e in m["events"]]
    after = [int(e["id"]) for m in messages[cut + 1 : -1] for e in m["events"]]
    assert before == list(range(len(before))) and after == list(range(10, 16))
    assert messages[-1]["type"] == "run.ended"
    assert client.messages("fast")[-1]["type"] == "run.ended"
