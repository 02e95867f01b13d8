"""ThreadStreams on moto: live frames in-process ahead of the log, the log across
processes, ``seq`` continuing across runs, the idle end, and ownership."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from lambdagraph.engine.runs import RunService
from lambdagraph.engine.thread_hub import ThreadHub
from lambdagraph.engine.thread_log import ThreadFrameSink, frame_events
from lambdagraph.engine.thread_streams import ThreadStreams
from lambdagraph.errors import ThreadNotFound
from lambdagraph.protocol.agent import parse_subscription
from lambdagraph.protocol.agent_events import frame
from lambdagraph.store.app import AppStore
from lambdagraph.store.events import EventLog
from tests.conftest import Tables

OWNER = "user-1"
EVERYTHING = parse_subscription({"channels": ["values", "lifecycle", "custom"]})
pytestmark = pytest.mark.timeout(30)


def streams(tables: Tables, hub: ThreadHub, *, idle: float | None = None) -> ThreadStreams:
    store = AppStore(tables.app)
    runs = SimpleNamespace(store=store, durable=SimpleNamespace(log=EventLog(tables.app)))
    return ThreadStreams(
        cast(RunService, runs), cast(Any, None), hub=hub, idle_seconds=idle, poll_seconds=0.02
    )


def values(n: int) -> list[dict[str, Any]]:
    return [frame("values", [], {"n": i}) for i in range(n)]


async def take(batches: AsyncIterator[list[dict[str, Any]]], count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while len(got) < count:
        got.extend(await anext(batches))
    return got


async def test_frames_reach_an_in_process_follower_before_the_log_flush(tables: Tables) -> None:
    hub = ThreadHub()
    service = streams(tables, hub)
    tid = (await service.runs.store.create_thread(OWNER))["thread_id"]
    sink = ThreadFrameSink(service.log, tid, start=0, hub=hub, flush_interval=60.0)
    follower = service.events(OWNER, tid, EVERYTHING, None)
    assert await anext(follower) == []  # nothing yet: a quiet poll
    await sink.send(frame_events(values(3)))
    live = await take(follower, 3)
    assert [f["seq"] for f in live] == [1, 2, 3]  # a thread's first frame is 1, as upstream
    assert (await service.log.read_after(tid, -1)).events == []  # not flushed yet
    # Another process (its own hub) sees them once they are in the log.
    elsewhere = streams(tables, ThreadHub()).events(OWNER, tid, EVERYTHING, None)
    await sink.flush()
    assert await take(elsewhere, 3) == live
    await follower.aclose()
    await elsewhere.aclose()


async def test_a_follower_joining_before_the_flush_gets_the_recent_frames(tables: Tables) -> None:
    hub = ThreadHub()
    service = streams(tables, hub)
    tid = (await service.runs.store.create_thread(OWNER))["thread_id"]
    sink = ThreadFrameSink(service.log, tid, start=0, hub=hub, flush_interval=60.0)
    await sink.send(frame_events(values(2)))
    late = service.events(OWNER, tid, EVERYTHING, 1)
    assert [f["seq"] for f in await take(late, 1)] == [2]
    await sink.send(frame_events(values(1)))
    assert [f["seq"] for f in await take(late, 1)] == [3]
    await late.aclose()


async def test_seq_continues_across_runs_from_the_thread_log(tables: Tables) -> None:
    hub = ThreadHub()
    service = streams(tables, hub)
    tid = (await service.runs.store.create_thread(OWNER))["thread_id"]
    first = ThreadFrameSink(service.log, tid, start=await service.last_seq(tid) + 1, hub=hub)
    await first.send(frame_events(values(4)))
    await first.close()
    assert await service.last_seq(tid) == 4
    second = ThreadFrameSink(service.log, tid, start=await service.last_seq(tid) + 1, hub=hub)
    await second.send(frame_events(values(1)))
    await second.close()
    replay = service.events(OWNER, tid, EVERYTHING, 3)
    assert [(f["seq"], f["event_id"]) for f in await take(replay, 2)] == [(4, "4"), (5, "5")]
    await replay.aclose()


async def test_an_idle_thread_ends_the_stream_and_a_busy_one_keeps_it(tables: Tables) -> None:
    service = streams(tables, ThreadHub(), idle=0.2)
    tid = (await service.runs.store.create_thread(OWNER))["thread_id"]
    batches = [b async for b in service.events(OWNER, tid, EVERYTHING, None)]
    assert batches and all(b == [] for b in batches)  # heartbeat polls, then the end
    store = service.runs.store
    await store.create_run(OWNER, thread_id=tid, assistant_id="agent", kwargs={})
    assert (await store.get_thread(OWNER, tid))["status"] == "busy"
    busy = service.events(OWNER, tid, EVERYTHING, None)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(take(busy, 1), 0.6)  # still open past the idle time
    await busy.aclose()


async def test_another_users_thread_is_not_found(tables: Tables) -> None:
    service = streams(tables, ThreadHub())
    tid = (await service.runs.store.create_thread(OWNER))["thread_id"]
    with pytest.raises(ThreadNotFound):
        await anext(service.events("someone-else", tid, EVERYTHING, None))
    with pytest.raises(ThreadNotFound):
        await anext(service.events(OWNER, "no-such-thread", EVERYTHING, None))
