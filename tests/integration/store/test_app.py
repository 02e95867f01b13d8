"""AppStore against the moto server: ownership, conditional start, strategies, cancel."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import pytest

from lambdagraph.errors import Conflict, RunNotFound, ThreadBusy, ThreadNotFound
from lambdagraph.store.app import AppStore
from lambdagraph.store.records import RunKwargs, Usage, public_run, public_thread
from tests.conftest import Tables

KWARGS: RunKwargs = {"input": {"messages": []}, "stream_mode": ["values"]}
USAGE: Usage = {
    "input_tokens": 1,
    "output_tokens": 2,
    "total_tokens": 3,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
    "cost_usd": 0.000011,
}


@pytest.fixture
def store(tables: Tables) -> AppStore:
    return AppStore(tables.app, client=boto3.client("dynamodb"))


async def start(store: AppStore, owner: str, thread_id: str | None, **extra: Any) -> Any:
    return await store.create_run(
        owner, thread_id=thread_id, assistant_id="agent", kwargs=KWARGS, **extra
    )


async def test_thread_round_trip_and_public_shape(store: AppStore) -> None:
    created = await store.create_thread("alice", metadata={"topic": "x"})
    fetched = await store.get_thread("alice", created["thread_id"])
    assert fetched["metadata"] == {"topic": "x"}
    assert fetched["status"] == "idle"
    shown = public_thread(fetched)
    assert "owner" not in shown and "active_run_id" not in shown
    assert set(shown) >= {"thread_id", "created_at", "updated_at", "metadata", "status", "values"}


async def test_another_users_thread_is_not_found(store: AppStore) -> None:
    thread = await store.create_thread("alice")
    tid = thread["thread_id"]
    with pytest.raises(ThreadNotFound):
        await store.get_thread("bob", tid)
    with pytest.raises(ThreadNotFound):
        await start(store, "bob", tid)
    with pytest.raises(ThreadNotFound):
        await store.list_runs("bob", tid)
    with pytest.raises(ThreadNotFound):
        await store.delete_thread("bob", tid)
    with pytest.raises(ThreadNotFound):  # even when asking to create it
        await start(store, "bob", tid, if_not_exists="create")
    run = await start(store, "alice", tid)
    with pytest.raises(RunNotFound):
        await store.get_run("bob", tid, run["run_id"])
    with pytest.raises(RunNotFound):
        await store.cancel_run("bob", tid, run["run_id"])
    assert (await store.get_run("alice", tid, run["run_id"]))["cancel"] is None
    assert await store.search_threads("bob") == []
    assert [t["thread_id"] for t in await store.search_threads("alice")] == [tid]


async def test_thread_id_taken_by_another_user_cannot_be_created(store: AppStore) -> None:
    await store.create_thread("alice", thread_id="shared-id")
    with pytest.raises(Conflict):
        await store.create_thread("bob", thread_id="shared-id")
    with pytest.raises(ThreadNotFound):
        await store.create_thread("bob", thread_id="shared-id", if_exists="do_nothing")
    same = await store.create_thread("alice", thread_id="shared-id", if_exists="do_nothing")
    assert same["thread_id"] == "shared-id"


async def test_unknown_thread(store: AppStore) -> None:
    with pytest.raises(ThreadNotFound):
        await start(store, "alice", "nope")
    run = await start(store, "alice", "new-one", if_not_exists="create")
    assert run["status"] == "running"
    assert (await store.get_thread("alice", "new-one"))["status"] == "busy"


async def test_run_starts_running_on_idle_thread_and_marks_thread_busy(store: AppStore) -> None:
    tid = (await store.create_thread("alice"))["thread_id"]
    run = await start(store, "alice", tid)
    assert run["status"] == "running"
    thread = await store.get_thread("alice", tid)
    assert thread["status"] == "busy" and thread["active_run_id"] == run["run_id"]
    await store.finish_run(
        run, "success", usage=USAGE, summary=({"n": 1}, {})
    )
    thread = await store.get_thread("alice", tid)
    assert thread["status"] == "idle" and thread["values"] == {"n": 1}
    done = await store.get_run("alice", tid, run["run_id"])
    assert done["status"] == "success" and done["usage"] == USAGE
    # The run's totals are public (GET run shows them); its owner is not.
    assert public_run(done)["usage"] == USAGE and "owner" not in public_run(done)
    # The thread adds each finished run's totals (DynamoDB ADD in the finish write).
    assert thread["usage"]["total_tokens"] == USAGE["total_tokens"]
    second = await start(store, "alice", tid)
    await store.finish_run(second, "success", usage=USAGE)
    cumulative = (await store.get_thread("alice", tid))["usage"]
    assert cumulative["input_tokens"] == 2 * USAGE["input_tokens"]
    assert await store.thread_usage(tid) == cumulative


async def test_reject_on_busy_thread(store: AppStore) -> None:
    tid = (await store.create_thread("alice"))["thread_id"]
    await start(store, "alice", tid)
    with pytest.raises(ThreadBusy):
        await start(store, "alice", tid, multitask_strategy="reject")


async def test_concurrent_starts_only_one_runs(store: AppStore) -> None:
    tid = (await store.create_thread("alice"))["thread_id"]
    results = await asyncio.gather(
        *(start(store, "alice", tid, multitask_strategy="reject") for _ in range(5)),
        return_exceptions=True,
    )
    started = [r for r in results if isinstance(r, dict)]
    assert len(started) == 1, results
    assert all(isinstance(r, ThreadBusy) for r in results if not isinstance(r, dict)), results


async def test_enqueue_waits_then_is_handed_the_thread(store: AppStore) -> None:
    tid = (await store.create_thread("alice"))["thread_id"]
    first = await start(store, "alice", tid)
    second = await start(store, "alice", tid)  # enqueue is the default
    third = await start(store, "alice", tid, multitask_strategy="enqueue")
    assert second["status"] == "pending" and third["status"] == "pending"
    await store.finish_run(first, "success")
    assert (await store.get_run("alice", tid, second["run_id"]))["status"] == "running"
    assert (await store.get_run("alice", tid, third["run_id"]))["status"] == "pending"
    assert (await store.get_thread("alice", tid))["active_run_id"] == second["run_id"]
    await store.finish_run(second, "success")
    await store.finish_run(third, "error", thread_status="error")
    thread = await store.get_thread("alice", tid)
    assert thread["status"] == "error" and thread["active_run_id"] is None
    runs = await store.list_runs("alice", tid)
    assert [r["run_id"] for r in runs] == [third["run_id"], second["run_id"], first["run_id"]]
    assert [r["run_id"] for r in await store.list_runs("alice", tid, limit=1, offset=1)] == [
        second["run_id"]
    ]


async def test_interrupt_flags_active_run_and_cancels_waiting_ones(store: AppStore) -> None:
    tid = (await store.create_thread("alice"))["thread_id"]
    first = await start(store, "alice", tid)
    queued = await start(store, "alice", tid)
    new = await start(store, "alice", tid, multitask_strategy="interrupt")
    assert new["status"] == "pending"
    assert (await store.get_run("alice", tid, first["run_id"]))["cancel"] == "interrupt"
    assert (await store.get_run("alice", tid, queued["run_id"]))["status"] == "interrupted"
    await store.finish_run(first, "interrupted")
    assert (await store.get_run("alice", tid, new["run_id"]))["status"] == "running"


async def test_cancel_running_sets_flag_and_pending_ends_at_once(store: AppStore) -> None:
    tid = (await store.create_thread("alice"))["thread_id"]
    first = await start(store, "alice", tid)
    second = await start(store, "alice", tid)
    third = await start(store, "alice", tid)
    flagged = await store.cancel_run("alice", tid, first["run_id"])
    assert flagged["status"] == "running" and flagged["cancel"] == "interrupt"
    cancelled = await store.cancel_run("alice", tid, second["run_id"])
    assert cancelled["status"] == "interrupted"
    await store.finish_run(first, "interrupted")
    # The cancelled waiter is skipped: the thread goes to the third run.
    assert (await store.get_run("alice", tid, third["run_id"]))["status"] == "running"
    final = await store.cancel_run("alice", tid, first["run_id"])
    assert final["status"] == "interrupted"


async def test_wait_for_run(store: AppStore) -> None:
    tid = (await store.create_thread("alice"))["thread_id"]
    run = await start(store, "alice", tid)
    waiter = asyncio.create_task(store.wait_for_run("alice", tid, run["run_id"], timeout=30))
    await store.finish_run(run, "success")
    assert (await asyncio.wait_for(waiter, 30))["status"] == "success"
    timed_out = await store.wait_for_run("alice", tid, run["run_id"], timeout=0)
    assert timed_out["status"] == "success"


async def test_stateless_run_uses_a_temporary_thread_removed_at_the_end(store: AppStore) -> None:
    run = await start(store, "alice", None)
    assert run["status"] == "running" and run["temporary"]
    assert await store.search_threads("alice") != []
    await store.finish_run(run, "success")
    with pytest.raises(ThreadNotFound):
        await store.get_thread("alice", run["thread_id"])


async def test_search_filters_and_delete(store: AppStore) -> None:
    a = await store.create_thread("alice", metadata={"k": 1})
    await store.create_thread("alice", metadata={"k": 2})
    found = await store.search_threads("alice", metadata={"k": 1})
    assert [t["thread_id"] for t in found] == [a["thread_id"]]
    assert len(await store.search_threads("alice", status="idle")) == 2
    assert len(await store.search_threads("alice", limit=1)) == 1
    await start(store, "alice", a["thread_id"])
    assert len(await store.search_threads("alice", status="busy")) == 1
    await store.delete_thread("alice", a["thread_id"])
    with pytest.raises(ThreadNotFound):
        await store.get_thread("alice", a["thread_id"])


async def test_finishing_a_run_of_a_deleted_thread_leaves_nothing_behind(store: AppStore) -> None:
    tid = (await store.create_thread("alice"))["thread_id"]
    run = await start(store, "alice", tid)
    await store.delete_thread("alice", tid)
    await store.finish_run(run, "success")
    with pytest.raises(RunNotFound):
        await store.get_run("alice", tid, run["run_id"])
    with pytest.raises(ThreadNotFound):
        await store.get_thread("alice", tid)


def _count_transactions(store: AppStore) -> list[str]:
    calls: list[str] = []
    store.client.meta.events.register(
        "before-call.dynamodb.TransactWriteItems", lambda **_: calls.append("transact")
    )
    return calls


async def test_a_thread_known_missing_is_created_in_one_transaction(store: AppStore) -> None:
    calls = _count_transactions(store)
    run = await start(store, "alice", "t-new", if_not_exists="create", thread_missing=True)
    assert calls == ["transact"]  # no failed start before the create
    thread = await store.get_thread("alice", "t-new")
    assert thread["status"] == "busy" and thread["active_run_id"] == run["run_id"]


async def test_a_wrong_missing_hint_still_starts_or_refuses_as_without_it(
    store: AppStore,
) -> None:
    tid = (await store.create_thread("alice"))["thread_id"]
    run = await start(store, "alice", tid, if_not_exists="create", thread_missing=True)
    assert run["status"] == "running"
    assert (await store.get_thread("alice", tid))["active_run_id"] == run["run_id"]
    with pytest.raises(ThreadNotFound):  # another user's thread stays theirs
        await start(store, "bob", tid, if_not_exists="create", thread_missing=True)
    queued = await start(store, "alice", tid, if_not_exists="create", thread_missing=True)
    assert queued["status"] == "pending"  # busy: enqueued behind the first run
