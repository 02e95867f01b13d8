"""The event log on moto: batched appends, reads after an id, splitting, TTL."""

from __future__ import annotations

import secrets
import time

import boto3

from lambdagraph.engine.resumable import EventLogSink, SequencedSink
from lambdagraph.engine.sinks import MemorySink
from lambdagraph.protocol.events import Event
from lambdagraph.store.events import EventLog, format_event_id
from lambdagraph.store.schema import run_events_pk
from tests.conftest import Tables


def _events(first: int, count: int, size: int = 10) -> list[Event]:
    return [
        Event("messages", [{"content": "t" * size, "n": n}, {}], format_event_id(n))
        for n in range(first, first + count)
    ]


async def test_reads_back_every_event_after_an_id(tables: Tables) -> None:
    log = EventLog(tables.app)
    await log.append("r1", _events(0, 3))
    await log.append("r1", _events(3, 4))
    await log.append("other", _events(0, 2))
    assert [e.id for e in (await log.read_after("r1", -1)).events] == [
        format_event_id(n) for n in range(7)
    ]
    tail = await log.read_after("r1", 4)
    assert [e.data[0]["n"] for e in tail.events] == [5, 6]
    assert (await log.read_after("r1", 6)).events == []
    assert await log.last_seq("r1") == 6
    assert await log.last_seq("nobody") == -1


async def test_a_batch_larger_than_an_item_is_split_into_parts(tables: Tables) -> None:
    log = EventLog(tables.app, max_item_bytes=2_000)
    # Random text does not compress, so 20 events of 3 KB need several 2 KB items.
    events = [
        Event("values", {"blob": secrets.token_hex(1_500)}, format_event_id(n)) for n in range(20)
    ]
    await log.append("big", events)
    assert log.stats.items > 1
    read = await log.read_after("big", 10)
    assert [e.data for e in read.events] == [e.data for e in events[11:]]


async def test_items_carry_a_ttl(tables: Tables) -> None:
    log = EventLog(tables.app, ttl_seconds=3_600)
    await log.append("r", _events(0, 1))
    item = boto3.client("dynamodb").query(
        TableName=tables.app,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :events)",
        ExpressionAttributeValues={":pk": {"S": run_events_pk("r")}, ":events": {"S": "EVENTS#"}},
    )["Items"][0]
    assert abs(int(item["expires_at"]["N"]) - (time.time() + 3_600)) < 60


async def test_sink_writes_once_per_window_not_once_per_event(tables: Tables) -> None:
    log = EventLog(tables.app)
    # A window longer than the test: only close() flushes, so 500 events make one write.
    live = MemorySink()
    sink = SequencedSink([EventLogSink(log, "run", flush_interval=3_600), live])
    for n in range(500):
        await sink.send([Event("messages", [{"content": f"tok{n}"}, {}])])
    await sink.close()
    assert log.stats.requests == 1
    read = await log.read_after("run", -1)
    assert [e.id for e in read.events] == [e.id for e in live.events]
    assert [e.data[0]["content"] for e in read.events] == [f"tok{n}" for n in range(500)]


async def test_sequencing_continues_from_a_start_and_drops_a_repeated_metadata() -> None:
    live = MemorySink()
    sink = SequencedSink([live], start=41, drop_metadata=True)
    await sink.send([Event("metadata", {"run_id": "r"}), Event("values", {})])
    await sink.send([Event("values", {"a": 1})])
    assert [(e.event, e.id) for e in live.events] == [
        ("values", format_event_id(41)),
        ("values", format_event_id(42)),
    ]


async def test_the_end_marker_tells_a_reader_the_log_is_complete(tables: Tables) -> None:
    log = EventLog(tables.app)
    await log.append("r", _events(0, 3))
    assert not (await log.read_after("r", -1)).ended
    await log.mark_end("r", 4)  # events 3 and 4 not written yet: complete, but not readable
    early = await log.read_after("r", 2)
    assert early.gap and not early.ended
    await log.append("r", _events(3, 2))
    done = await log.read_after("r", 2)
    assert done.ended and [int(e.id) for e in done.events] == [3, 4]
    assert (await log.read_after("r", 4)).ended
    assert await log.last_seq("r") == 4
