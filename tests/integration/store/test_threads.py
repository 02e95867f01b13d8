"""ThreadStore against the moto server: metadata merges, containment search, TTL entries."""

from __future__ import annotations

import asyncio
import time

import boto3
import pytest

from lambdagraph.errors import ThreadNotFound
from lambdagraph.store.app import AppStore
from lambdagraph.store.records import RunKwargs
from tests.conftest import Tables
from tests.e2e.conftest import eventually

KWARGS: RunKwargs = {"input": {"messages": []}, "stream_mode": ["values"]}
HOUR = 3600.0


@pytest.fixture
def store(tables: Tables) -> AppStore:
    return AppStore(tables.app, client=boto3.client("dynamodb"))


async def test_concurrent_patches_all_land(store: AppStore) -> None:
    tid = (await store.create_thread("alice", metadata={"kept": 0}))["thread_id"]

    await asyncio.gather(
        *(store.update_thread("alice", tid, metadata={f"k{i}": i}) for i in range(5))
    )

    merged = (await store.get_thread("alice", tid))["metadata"]
    assert merged == {"kept": 0, **{f"k{i}": i for i in range(5)}}
    with pytest.raises(ThreadNotFound):
        await store.update_thread("bob", tid, metadata={"x": 1})


async def test_search_matches_metadata_by_containment(store: AppStore) -> None:
    tid = (await store.create_thread("alice", metadata={"a": {"b": 1, "c": 2}, "t": [1, 2]}))[
        "thread_id"
    ]
    await store.create_thread("alice", metadata={"a": {"b": 2}})

    async def found(metadata: dict[str, object]) -> list[str]:
        return [t["thread_id"] for t in await store.search_threads("alice", metadata=metadata)]

    assert await found({"a": {"b": 1}}) == [tid]
    assert await found({"t": [2]}) == [tid]
    assert await found({"a": {"b": 1, "d": 0}}) == []
    assert await store.count_threads("alice", metadata={"a": {}}) == 2


async def test_an_expired_thread_is_gone_for_reads_runs_and_search_at_once(
    store: AppStore,
) -> None:
    tid = (await store.create_thread("alice", ttl=(0.001, "delete")))["thread_id"]
    kept = (await store.create_thread("alice", ttl=(60, "delete")))["thread_id"]

    async def gone() -> bool:
        try:
            await store.get_thread("alice", tid)
        except ThreadNotFound:
            return True
        return False

    await eventually(gone, "the thread to expire")
    with pytest.raises(ThreadNotFound):
        await store.create_run("alice", thread_id=tid, assistant_id="agent", kwargs=KWARGS)
    with pytest.raises(ThreadNotFound):
        await store.update_thread("alice", tid, metadata={"x": 1})
    assert [t["thread_id"] for t in await store.search_threads("alice")] == [kept]
    assert await store.count_threads("alice") == 1
    due = await store.due_expiries(time.time())
    assert [entry[0] for entry in due] == [tid]
    assert await store.expiring_thread(*due[0]) == ("alice", "delete")


async def test_a_patched_ttl_leaves_a_stale_entry_and_keep_latest_stays_readable(
    store: AppStore,
) -> None:
    tid = (await store.create_thread("alice", ttl=(1, "delete")))["thread_id"]
    [old] = await store.due_expiries(time.time() + HOUR)

    await store.update_thread("alice", tid, ttl=(0.001, "keep_latest"))
    entries = await store.due_expiries(time.time() + HOUR)
    [new] = [entry for entry in entries if entry != old]

    assert await store.expiring_thread(*old) is None  # moved: only to be dropped
    assert await store.expiring_thread(*new) == ("alice", "keep_latest")
    # keep_latest never hides the thread, expired or not, and runs still start on it.
    await eventually(lambda: _past(new[1]), "the new expiry to pass")
    ttl = (await store.get_thread("alice", tid)).get("ttl")
    assert ttl is not None and ttl["strategy"] == "keep_latest"
    run = await store.create_run("alice", thread_id=tid, assistant_id="agent", kwargs=KWARGS)
    assert run["status"] == "running"
    await store.clear_ttl("alice", tid, new[1])
    await store.drop_expiry(*old)
    assert "ttl" not in await store.get_thread("alice", tid)


async def _past(epoch: int) -> bool:
    return time.time() > epoch
