"""Deleting a thread on moto: gone at once with one write, then erased completely by the
worker's erase job (bounded pages, resumable), and its id reusable only after that.

The app is the real one (``create_app`` over the real store, saver, executor and durable
runs); the worker invocations it would start are recorded and handed to the real worker
handler by the test, so the test decides when (and whether) each one runs.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, cast

import boto3
import httpx
import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import empty_checkpoint

from lambdagraph.agents import GraphRegistry
from lambdagraph.engine.durable import DurableRuns
from lambdagraph.engine.erase import ThreadEraser
from lambdagraph.engine.invoker import WorkerPayload
from lambdagraph.engine.worker import handle_worker_event
from lambdagraph.http.app import create_app
from lambdagraph.protocol.events import Event
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore
from lambdagraph.store.checkpoint import AsyncDynamoDBSaver, schema
from lambdagraph.store.checkpoint.items import to_attributes
from lambdagraph.store.connections import ConnectionStore, RunRef
from lambdagraph.store.events import EventLog, format_event_id
from lambdagraph.store.leases import RunLeases
from lambdagraph.wiring import Core, build_http_app
from lambdagraph_client.local.invoker import LocalContext
from tests.auth import TokenIsUser
from tests.conftest import Tables

DEADLINE = 30.0
STEPS_GRAPH = "steps=tests.e2e.durable_graphs:steps_graph"




class RecordingInvoker:
    """Records the worker payloads the app hands over; the test runs them."""

    def __init__(self) -> None:
        self.payloads: list[WorkerPayload] = []

    async def invoke(self, payload: WorkerPayload) -> None:
        self.payloads.append(payload)

    def take(self, kind: str) -> dict[str, Any]:
        [payload] = [p for p in self.payloads if p["kind"] == kind]
        self.payloads.remove(payload)
        return dict(payload)


@dataclass
class App:
    http: httpx.AsyncClient
    store: AppStore
    saver: AsyncDynamoDBSaver
    durable: DurableRuns
    invoker: RecordingInvoker
    calls: list[str]
    tables: Tables

    @property
    def eraser(self) -> ThreadEraser:
        assert self.durable.eraser is not None
        return self.durable.eraser

    async def work(self, payload: dict[str, Any], timeout: float = 900.0) -> str:
        """Run one worker invocation of ``payload`` with a Lambda-like context."""
        context = LocalContext("WorkerFunction", timeout)
        return await asyncio.wait_for(handle_worker_event(self.durable, payload, context), 120)


def as_user(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user}"}


@pytest.fixture
async def app(tables: Tables) -> AsyncIterator[App]:
    settings = Settings(
        app_table=tables.app,
        checkpoint_table=tables.checkpoints,
        checkpoint_bucket=tables.bucket,
        graphs=STEPS_GRAPH,
        scripted_delay_ms=0,
        cancel_poll_interval=0.05,
        event_log_flush_ms=10,
    )
    calls: list[str] = []
    client = boto3.client("dynamodb")
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(f"app:{model.name}")
    )
    checkpoint_client = boto3.client("dynamodb")
    checkpoint_client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(f"checkpoint:{model.name}")
    )
    store = AppStore(tables.app, client=client)
    # A tiny offload threshold, so the thread's larger items go to S3 as well.
    saver = AsyncDynamoDBSaver(
        tables.checkpoints, client=checkpoint_client, bucket=tables.bucket,
        offload_threshold_bytes=2048,
    )
    # The composition root's parts, over this store (its counting client) and saver.
    core = Core(settings, store, GraphRegistry.from_settings(settings))
    executor = core.executor(saver)
    invoker = RecordingInvoker()
    eraser = core.eraser(saver, invoker)
    durable = core.durable(executor, invoker, eraser=eraser)
    api = create_app(
        store=store, runs=core.service(durable), graphs=core.graphs, authenticator=TokenIsUser(),
        settings=settings, checkpointer=saver, eraser=eraser,
    )
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        yield App(http, store, saver, durable, invoker, calls, tables)


# --- building a big thread -----------------------------------------------------------------


async def converse(app: App, user: str, thread_id: str, text: str) -> None:
    response = await app.http.post(
        f"/threads/{thread_id}/runs/wait",
        json={"assistant_id": "agent", "input": {"messages": [{"role": "user", "content": text}]}},
        headers=as_user(user),
    )
    assert response.status_code == 200, response.text


async def bulk_checkpoints(saver: AsyncDynamoDBSaver, thread_id: str, *, writes: int) -> None:
    """Checkpoints in two subgraph namespaces (some offloaded to S3), with ``writes``
    pending-write items: tasks of one write (a task's writes share an item), stored in
    batches of 25 as ``aput_writes`` would store each (thousands of single ``UpdateItem``
    calls are slow on moto)."""
    for ns in ("tools:a", "tools:b"):
        config: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns}}
        for step in range(20):
            checkpoint = empty_checkpoint()
            checkpoint["channel_values"] = {"notes": os.urandom(1500 if step % 5 else 8).hex()}
            checkpoint["channel_versions"] = {"notes": f"{step + 1:032}"}
            versions = checkpoint["channel_versions"]
            config = await saver.aput(
                config, checkpoint, {"source": "loop", "step": step}, versions
            )
    items = []
    for task in range(writes):
        (batch,), _ = saver._write_batches(config, [("c", os.urandom(16).hex())], f"t{task}", "")
        entries = {schema.write_attribute(idx): entry for idx, entry in batch.entries.items()}
        items.append({"PutRequest": {"Item": to_attributes({**batch.item, **entries})}})
    client = boto3.client("dynamodb")
    for start in range(0, len(items), 25):
        chunk = {saver.table_name: items[start : start + 25]}
        while chunk:
            chunk = client.batch_write_item(RequestItems=chunk).get("UnprocessedItems")


async def bulk_runs(app: App, owner: str, thread_id: str, *, log_items: int) -> None:
    """Three finished runs with event logs of ``log_items`` items in all (the log's own
    batch writer, with items split small), leases and WebSocket index items."""
    log = EventLog(app.tables.app, max_item_bytes=48)
    leases = RunLeases(app.tables.app)
    connections = ConnectionStore(app.tables.app)
    for _ in range(3):
        run = await app.store.create_run(
            owner, thread_id=thread_id, assistant_id="agent", kwargs={"input": {"messages": []}}
        )
        await app.store.finish_run(run, "success")
        await leases.reserve(run["run_id"])
        await connections.put_run(RunRef(run["run_id"], owner, thread_id))
        seq = 0
        while await count_partition(app.tables.app, f"RUN#{run['run_id']}") < log_items // 3:
            events = [
                Event("custom", os.urandom(64).hex(), format_event_id(seq + i)) for i in range(20)
            ]
            await log.append(run["run_id"], events)
            seq += 20
        await log.mark_end(run["run_id"], seq - 1)


async def count_partition(table: str, pk: str) -> int:
    client = boto3.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "Select": "COUNT",
    }
    total = 0
    while True:
        out = await asyncio.to_thread(lambda: client.query(**request))
        total += out["Count"]
        if "LastEvaluatedKey" not in out:
            return int(total)
        request["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def scan_keys(table: str) -> list[tuple[str, str]]:
    paginator = boto3.client("dynamodb").get_paginator("scan")
    return [
        (item["PK"]["S"], item["SK"]["S"])
        for page in paginator.paginate(TableName=table, ProjectionExpression="PK, SK")
        for item in page["Items"]
    ]


def owned_items(app: App, thread_id: str, run_ids: list[str]) -> list[tuple[str, str]]:
    """Every item of the thread, in either table (checkpoints: PK = thread id)."""
    mine = {
        thread_id, f"THREAD#{thread_id}", f"THREADLOG#{thread_id}", *(f"RUN#{r}" for r in run_ids)
    }
    return [
        key for table in (app.tables.checkpoints, app.tables.app)
        for key in scan_keys(table) if key[0] in mine
    ]


def s3_objects(app: App, thread_id: str) -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=app.tables.bucket, Prefix=f"{thread_id}/")
    return [obj["Key"] for obj in listing.get("Contents", [])]


async def create(app: App, user: str, thread_id: str | None = None) -> httpx.Response:
    body = {} if thread_id is None else {"thread_id": thread_id}
    return await app.http.post("/threads", json=body, headers=as_user(user))


async def run_ids_of(app: App, user: str, thread_id: str) -> list[str]:
    listed = await app.http.get(f"/threads/{thread_id}/runs?limit=100", headers=as_user(user))
    return [run["run_id"] for run in listed.json()]


async def big_thread(app: App, *, writes: int, log_items: int) -> tuple[str, list[str]]:
    """A thread with a real conversation, then bulk checkpoints, writes, runs and logs."""
    thread_id = (await create(app, "alice")).json()["thread_id"]
    await converse(app, "alice", thread_id, "hello there")
    await bulk_checkpoints(app.saver, thread_id, writes=writes)
    await bulk_runs(app, "alice", thread_id, log_items=log_items)
    await bulk_thread_log(app, thread_id, items=60)
    return thread_id, await run_ids_of(app, "alice", thread_id)


async def bulk_thread_log(app: App, thread_id: str, *, items: int) -> None:
    """``items`` batches of Agent Streaming Protocol frames in the thread's log."""
    log = app.durable.log.for_threads()
    for seq in range(1, items + 1):
        frame = {"type": "event", "seq": seq, "method": "custom", "params": {"data": seq}}
        await log.append(thread_id, [Event("custom", frame, str(seq))])


# --- the tests ------------------------------------------------------------------------------


async def test_a_5000_item_thread_is_gone_at_once_then_erased_completely(app: App) -> None:
    thread_id, run_ids = await big_thread(app, writes=3500, log_items=1500)
    other = (await create(app, "bob")).json()["thread_id"]
    await converse(app, "bob", other, "a neighbour")
    before = owned_items(app, thread_id, run_ids)
    objects = s3_objects(app, thread_id)
    assert len(before) >= 5000 and objects

    app.calls.clear()
    deleted = await app.http.delete(f"/threads/{thread_id}", headers=as_user("alice"))

    assert deleted.status_code == 204
    # No scan, no erasure inside the request: one conditional write, one worker invocation.
    assert app.calls == ["app:UpdateItem"]
    assert app.invoker.payloads == [{"kind": "erase", "owner": "alice", "thread_id": thread_id}]
    alice = as_user("alice")
    base = f"/threads/{thread_id}"
    run = f"{base}/runs/{run_ids[-1]}"  # the conversation's run
    for request in (
        app.http.get(base, headers=alice),
        app.http.get(f"{base}/state", headers=alice),
        app.http.post(f"{base}/history", json={}, headers=alice),
        app.http.get(f"{base}/runs", headers=alice),
        app.http.get(run, headers=alice),
        app.http.get(f"{run}/stream", headers={**alice, "Last-Event-ID": "-1"}),
        app.http.get(f"{run}/join", headers=alice),
        app.http.post(
            f"{base}/runs/wait", json={"assistant_id": "agent", "input": {}}, headers=alice
        ),
        app.http.delete(base, headers=alice),
    ):
        assert (await request).status_code == 404
    # Not reusable before it is erased: the same 409 as for any taken id, owner or not.
    taken = await create(app, "alice", other)
    for user in ("alice", "bob"):
        again = await create(app, user, thread_id)
        assert (again.status_code, again.json()) == (
            409,
            {"detail": f"Thread {thread_id} already exists"},
        )
    assert (taken.status_code, taken.json()) == (409, {"detail": f"Thread {other} already exists"})
    assert (await app.http.get(f"/threads/{other}", headers=as_user("bob"))).status_code == 200

    assert await app.work(app.invoker.take("erase")) == "erased"

    assert owned_items(app, thread_id, run_ids) == []
    assert s3_objects(app, thread_id) == []
    neighbour = await app.http.get(f"/threads/{other}/state", headers=as_user("bob"))
    assert neighbour.json()["values"]["messages"]  # erasure touched nothing else
    recreated = await create(app, "bob", thread_id)
    assert recreated.status_code == 200
    bob = as_user("bob")
    state = (await app.http.get(f"{base}/state", headers=bob)).json()
    history = (await app.http.post(f"{base}/history", json={}, headers=bob)).json()
    runs = (await app.http.get(f"{base}/runs", headers=bob)).json()
    assert (state["values"], state["next"], history, runs) == ({}, [], [], [])
    assert (await app.http.get(run, headers=bob)).status_code == 404
    replay = await app.http.get(f"{run}/stream", headers={**bob, "Last-Event-ID": "-1"})
    assert replay.status_code == 404


async def test_an_erase_cut_off_by_its_deadline_continues_in_a_new_invocation(app: App) -> None:
    app.eraser.batch_items = 100
    thread_id, run_ids = await big_thread(app, writes=300, log_items=60)
    before = len(owned_items(app, thread_id, run_ids))
    await app.http.delete(f"/threads/{thread_id}", headers=as_user("alice"))
    # Exactly the margin left: the job's deadline is now, so it stops after its first page.
    at_deadline = app.eraser.deadline_margin

    assert await app.work(app.invoker.take("erase"), timeout=at_deadline) == "continued"

    left = len(owned_items(app, thread_id, run_ids))
    assert 0 < left < before
    assert await app.work(app.invoker.take("erase")) == "erased"
    assert owned_items(app, thread_id, run_ids) == [] and s3_objects(app, thread_id) == []


class DyingSaver:
    """The saver of a worker that dies after its first page of checkpoint deletes."""

    def __init__(self, saver: AsyncDynamoDBSaver) -> None:
        self.saver = saver
        self.pages = 0

    async def adelete_thread_batch(self, thread_id: str, *, max_items: int = 1000) -> bool:
        self.pages += 1
        if self.pages > 1:
            raise RuntimeError("the worker died")
        return bool(await self.saver.adelete_thread_batch(thread_id, max_items=max_items))

    async def adelete_thread(self, thread_id: str) -> None:
        raise AssertionError("the eraser deletes in bounded batches")


async def test_an_erase_whose_worker_died_is_restarted_by_the_next_attempt_to_reuse_the_id(
    app: App,
) -> None:
    app.eraser.batch_items = 100
    thread_id, run_ids = await big_thread(app, writes=300, log_items=60)
    await app.http.delete(f"/threads/{thread_id}", headers=as_user("alice"))
    payload = app.invoker.take("erase")
    real_saver = app.eraser.checkpointer
    app.eraser.checkpointer = cast(Any, DyingSaver(app.saver))
    with pytest.raises(RuntimeError, match="died"):
        await app.work(payload)
    app.eraser.checkpointer = real_saver
    assert owned_items(app, thread_id, run_ids)  # half erased

    # Its lease has not lapsed: nobody else may take the erasure over yet.
    assert (await create(app, "alice", thread_id)).status_code == 409
    assert app.invoker.payloads == []
    # Once it has (the job would have renewed it by now), reusing the id dispatches it again.
    real_clock = app.eraser.erasure.clock
    app.eraser.erasure.clock = lambda: real_clock() + 10 * app.eraser.lease_seconds
    assert (await create(app, "alice", thread_id)).status_code == 409
    app.eraser.erasure.clock = real_clock

    assert await app.work(app.invoker.take("erase")) == "erased"
    assert owned_items(app, thread_id, run_ids) == [] and s3_objects(app, thread_id) == []
    assert (await create(app, "alice", thread_id)).status_code == 200


async def test_a_duplicated_erase_invocation_does_nothing_while_the_first_holds_it(
    app: App,
) -> None:
    thread_id = (await create(app, "alice")).json()["thread_id"]
    await converse(app, "alice", thread_id, "hi")
    run_ids = await run_ids_of(app, "alice", thread_id)
    await app.http.delete(f"/threads/{thread_id}", headers=as_user("alice"))
    payload = app.invoker.take("erase")
    assert await app.eraser.erasure.claim(thread_id, "first", hold=60) is not None

    assert await app.work(payload) == "skipped"
    assert owned_items(app, thread_id, run_ids)
    assert await app.eraser.handle(cast(Any, payload), None, "first") == "erased"
    assert await app.work(payload) == "skipped"  # retried after the end: nothing left
    assert owned_items(app, thread_id, run_ids) == []


async def test_no_run_starts_on_a_deleted_thread_even_one_asked_to_create_it(app: App) -> None:
    thread_id = (await create(app, "alice")).json()["thread_id"]
    await converse(app, "alice", thread_id, "hi")
    run_ids = await run_ids_of(app, "alice", thread_id)
    await app.http.delete(f"/threads/{thread_id}", headers=as_user("alice"))
    before = owned_items(app, thread_id, run_ids)
    body = {"assistant_id": "agent", "input": {"messages": []}}

    for path in ("runs", "runs/wait", "runs/stream"):
        for extra in ({}, {"if_not_exists": "create"}):
            answer = await app.http.post(
                f"/threads/{thread_id}/{path}", json={**body, **extra}, headers=as_user("alice")
            )
            assert answer.status_code == 404, (path, extra, answer.text)
            assert answer.json() == {"detail": f"Thread {thread_id} not found"}

    # Nothing recorded, nothing handed to a worker: the tombstone alone, as before.
    assert [p["kind"] for p in app.invoker.payloads] == ["erase"]
    assert owned_items(app, thread_id, run_ids) == before
    assert await app.work(app.invoker.take("erase")) == "erased"
    assert owned_items(app, thread_id, run_ids) == []


async def eventually(check: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_deleting_a_busy_thread_cancels_its_run_then_erases_what_it_wrote(
    app: App,
) -> None:
    thread_id = (await create(app, "alice")).json()["thread_id"]
    started = await app.http.post(
        f"/threads/{thread_id}/runs",
        json={"assistant_id": "steps", "input": {"total": 10_000}},
        headers=as_user("alice"),
    )
    run_id = started.json()["run_id"]
    worker = asyncio.create_task(app.work(app.invoker.take("run")))
    log = EventLog(app.tables.app)

    async def working() -> bool:
        return bool(await log.last_seq(run_id) >= 3)

    await eventually(working, "the run to log a few steps")

    alice = as_user("alice")
    assert (await app.http.delete(f"/threads/{thread_id}", headers=alice)).status_code == 204
    run = await app.http.get(f"/threads/{thread_id}/runs/{run_id}", headers=alice)
    assert run.status_code == 404
    assert await app.work(app.invoker.take("erase")) == "erased"

    assert await asyncio.wait_for(worker, DEADLINE) == "interrupted"
    assert owned_items(app, thread_id, [run_id]) == []
    assert (await create(app, "alice", thread_id)).status_code == 200
    state = (await app.http.get(f"/threads/{thread_id}/state", headers=as_user("alice"))).json()
    assert state["values"] == {}


async def test_without_a_worker_the_app_erases_in_process(tables: Tables) -> None:
    settings = Settings(
        app_table=tables.app, checkpoint_table=tables.checkpoints,
        checkpoint_bucket=tables.bucket, scripted_delay_ms=0,
    )
    saver = AsyncDynamoDBSaver(tables.checkpoints, bucket=tables.bucket)
    # No LAMBDAGRAPH_WORKER_FUNCTION and no in-process worker: the app as wiring builds it.
    api = build_http_app(settings, authenticator=TokenIsUser(), checkpointer=saver)
    store = api.state.context.store
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        app = App(http, store, saver, cast(Any, None), RecordingInvoker(), [], tables)
        thread_id = (await create(app, "alice")).json()["thread_id"]
        await converse(app, "alice", thread_id, "hello")
        run_ids = await run_ids_of(app, "alice", thread_id)
        assert owned_items(app, thread_id, run_ids)
        alice = as_user("alice")
        assert (await http.delete(f"/threads/{thread_id}", headers=alice)).status_code == 204
        assert (await http.get(f"/threads/{thread_id}", headers=alice)).status_code == 404

        async def erased() -> bool:
            return (await create(app, "alice", thread_id)).status_code == 200

        await eventually(erased, "the in-process erasure to free the id")
        # Only the new thread's own item: nothing of the deleted one.
        assert owned_items(app, thread_id, run_ids) == [(f"THREAD#{thread_id}", "THREAD")]


async def test_a_deleted_threads_runs_give_their_users_slots_back(app: App) -> None:
    app.store.limits.max_active_runs = 2  # per-user limits (store/limits.py)
    alice = as_user("alice")
    body = {"assistant_id": "steps", "input": {"total": 10_000}}
    thread_id = (await create(app, "alice")).json()["thread_id"]
    # One run handed to a worker that has not started, one queued behind it.
    for _ in range(2):
        answer = await app.http.post(f"/threads/{thread_id}/runs", json=body, headers=alice)
        assert answer.status_code == 200, answer.text
    other = (await create(app, "alice")).json()["thread_id"]
    refused = await app.http.post(f"/threads/{other}/runs", json=body, headers=alice)
    assert refused.status_code == 429
    assert (await app.http.delete(f"/threads/{thread_id}", headers=alice)).status_code == 204
    assert await app.work(app.invoker.take("erase")) == "erased"
    # Neither run finished through its executor; the limit finds their runs gone.
    for _ in range(2):
        answer = await app.http.post(f"/threads/{other}/runs", json=body, headers=alice)
        assert answer.status_code == 200, answer.text
