"""Per-user limits against the moto server: active runs and requests per minute."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import pytest

from lambdagraph.errors import ActiveRunLimit, RateLimited
from lambdagraph.store.app import AppStore
from lambdagraph.store.records import Run, RunKwargs
from lambdagraph.store.schema import user_pk
from tests.conftest import Tables

KWARGS: RunKwargs = {"input": {"messages": []}, "stream_mode": ["values"]}
MINUTE_START = 1_800_000_000.0  # a multiple of 60


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limited(tables: Tables, *, max_active_runs: int = 0, requests_per_minute: int = 0) -> AppStore:
    return AppStore(
        tables.app,
        client=boto3.client("dynamodb"),
        max_active_runs=max_active_runs,
        requests_per_minute=requests_per_minute,
    )


async def start(store: AppStore, owner: str, **extra: Any) -> Run:
    thread = extra.pop("thread_id", None) or (await store.create_thread(owner))["thread_id"]
    return await store.create_run(
        owner, thread_id=thread, assistant_id="agent", kwargs=KWARGS, **extra
    )


def user_items(tables: Tables, owner: str) -> list[dict[str, Any]]:
    out = boto3.client("dynamodb").query(
        TableName=tables.app,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": user_pk(owner)}},
    )
    return list(out["Items"])


async def test_requests_past_the_limit_wait_for_the_next_minute(tables: Tables) -> None:
    store = limited(tables, requests_per_minute=3)
    clock = store.limits.clock = Clock(MINUTE_START + 45.5)
    for _ in range(3):
        await store.limits.count_request("alice")
    with pytest.raises(RateLimited) as refused:
        await store.limits.count_request("alice")
    assert refused.value.retry_after == 15  # 14.5 s to the next minute, rounded up
    await store.limits.count_request("bob")  # another user has a counter of their own
    clock.now = MINUTE_START + 60
    await store.limits.count_request("alice")


async def test_a_run_request_counts_in_the_create_and_is_refused_without_recording(
    tables: Tables,
) -> None:
    store = limited(tables, requests_per_minute=2)
    store.limits.clock = Clock(MINUTE_START)
    thread = await store.create_thread("alice")
    await store.limits.count_request("alice")
    await start(store, "alice", thread_id=thread["thread_id"])
    with pytest.raises(RateLimited) as refused:
        await start(store, "alice", thread_id=thread["thread_id"])
    assert not isinstance(refused.value, ActiveRunLimit)
    assert refused.value.retry_after == 60
    assert len(await store.list_runs("alice", thread["thread_id"])) == 1


async def test_active_runs_are_limited_and_freed_when_a_run_finishes(tables: Tables) -> None:
    store = limited(tables, max_active_runs=2)
    first = await start(store, "alice")
    await start(store, "alice")
    with pytest.raises(ActiveRunLimit) as refused:
        await start(store, "alice")
    assert refused.value.retry_after >= 1
    await start(store, "bob")  # bob's runs are his own
    await store.finish_run(first, "success")
    await start(store, "alice")


async def test_concurrent_creates_admit_exactly_the_limit(tables: Tables) -> None:
    store = limited(tables, max_active_runs=3)
    threads = [(await store.create_thread("alice"))["thread_id"] for _ in range(10)]
    results = await asyncio.gather(
        *(start(store, "alice", thread_id=t) for t in threads), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 3
    assert all(isinstance(r, ActiveRunLimit) for r in results if isinstance(r, BaseException))


async def test_pending_runs_count_and_a_cancelled_one_frees_its_entry(tables: Tables) -> None:
    store = limited(tables, max_active_runs=2)
    running = await start(store, "alice")
    queued = await start(store, "alice", thread_id=running["thread_id"])
    assert queued["status"] == "pending"
    with pytest.raises(ActiveRunLimit):
        await start(store, "alice")
    await store.cancel_run("alice", queued["thread_id"], queued["run_id"])
    await start(store, "alice")


async def test_the_hand_over_keeps_the_entry_of_the_next_run(tables: Tables) -> None:
    store = limited(tables, max_active_runs=2)
    running = await start(store, "alice")
    queued = await start(store, "alice", thread_id=running["thread_id"])
    await store.finish_run(running, "success")  # the queued run starts: still active
    assert (await store.read_run(queued))["status"] == "running"
    await start(store, "alice")
    with pytest.raises(ActiveRunLimit):
        await start(store, "alice")


async def test_interrupting_at_the_limit_replaces_the_runs_it_cancels(tables: Tables) -> None:
    store = limited(tables, max_active_runs=1)
    running = await start(store, "alice")
    newer = await start(
        store, "alice", thread_id=running["thread_id"], multitask_strategy="interrupt"
    )
    await store.finish_run(running, "interrupted")  # its executor saw the cancel flag
    assert (await store.read_run(newer))["status"] == "running"
    with pytest.raises(ActiveRunLimit):
        await start(store, "alice")


async def test_entries_of_runs_that_ended_unrecorded_are_dropped(tables: Tables) -> None:
    store = limited(tables, max_active_runs=1)
    run = await start(store, "alice")
    # The run's item goes (as an erased thread's do) without a finish: the entry stays...
    boto3.client("dynamodb").delete_item(
        TableName=tables.app,
        Key={"PK": {"S": f"THREAD#{run['thread_id']}"}, "SK": {"S": f"RUN#{run['run_id']}"}},
    )
    with pytest.raises(ActiveRunLimit):
        await start(store, "alice")
    # ...until someone looks at the user's active runs: then it is freed.
    assert await store.active_runs("alice") == []
    await start(store, "alice")


async def test_limits_off_by_default_write_nothing(tables: Tables) -> None:
    store = AppStore(tables.app, client=boto3.client("dynamodb"))
    runs = [await start(store, "alice") for _ in range(5)]
    for _ in range(5):
        await store.limits.count_request("alice")
    await store.finish_run(runs[0], "success")
    assert user_items(tables, "alice") == []
