"""Cancel (one run and in bulk), delete and batch runs through ``langgraph-sdk``.

What LangGraph Server answers here was checked with ``langgraph dev`` (langgraph-api 0.16.7):
a cancelled run reads ``interrupted`` as soon as the cancel returns, cancelling a run that
ended is a 404, ``POST /runs/cancel`` answers 204 and needs ``status`` or ``thread_id`` with
``run_ids``, ``DELETE`` of a run answers 204 and the run is gone.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from lambdagraph.engine import assistant_id
from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack
from tests.conftest import Tables
from tests.e2e.conftest import auth, eventually, stack_settings, user_message

LONG = user_message("count to 100000")
SHORT = user_message("hello")
NOTHING_TO_CANCEL = "No matching runs to cancel"


@pytest.fixture
def settings(tables: Tables) -> Settings:
    # The executor notices a cancel only at its next poll, 2 s later: whatever reads
    # "interrupted" before that comes from the cancel itself.
    return stack_settings(tables, cancel_poll_interval=2.0)


async def _running(client: LangGraphClient, thread_id: str, body: dict[str, Any]) -> str:
    """A background run of ``body`` on the thread, once it is running; its id."""
    # Streaming tokens paces the scripted model (a chunk every scripted_delay_ms).
    run = await client.runs.create(thread_id, "agent", stream_mode="messages-tuple", **body)

    async def started() -> bool:
        current = await client.runs.get(thread_id, run["run_id"])
        return current["status"] == "running"

    await eventually(started, "the run to start")
    return str(run["run_id"])


async def _status(client: LangGraphClient, thread_id: str, run_id: str) -> str:
    return str((await client.runs.get(thread_id, run_id))["status"])


async def test_a_cancelled_run_reads_interrupted_as_soon_as_cancel_returns(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    run_id = await _running(client, thread["thread_id"], {"input": LONG})

    await client.runs.cancel(thread["thread_id"], run_id)

    assert await _status(client, thread["thread_id"], run_id) == "interrupted"
    listed = await client.runs.list(thread["thread_id"])
    assert [(r["run_id"], r["status"]) for r in listed] == [(run_id, "interrupted")]
    # The executor still stops the graph and frees the thread (interrupted: it stopped with
    # tasks left, as LangGraph Server says it).
    await client.runs.join(thread["thread_id"], run_id)
    assert await _status(client, thread["thread_id"], run_id) == "interrupted"
    assert (await client.threads.get(thread["thread_id"]))["status"] == "interrupted"


async def test_cancelling_a_run_that_ended_is_not_found(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    done = await client.runs.create(thread["thread_id"], "agent", input=SHORT)
    await client.runs.join(thread["thread_id"], done["run_id"])
    long_id = await _running(client, thread["thread_id"], {"input": LONG})
    await client.runs.cancel(thread["thread_id"], long_id)

    for run_id in (done["run_id"], long_id):  # ended; cancelled already
        with pytest.raises(NotFoundError) as raised:
            await client.runs.cancel(thread["thread_id"], run_id)
        assert NOTHING_TO_CANCEL in raised.value.response.json()["detail"]
    assert await _status(client, thread["thread_id"], done["run_id"]) == "success"


async def test_bulk_cancel_by_ids_ends_the_running_and_the_queued_run(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    running = await _running(client, tid, {"input": LONG})
    queued = await client.runs.create(tid, "agent", input=SHORT, multitask_strategy="enqueue")

    await client.runs.cancel_many(thread_id=tid, run_ids=[running, queued["run_id"]])

    assert await _status(client, tid, running) == "interrupted"
    assert await _status(client, tid, queued["run_id"]) == "interrupted"
    await client.runs.join(tid, running)
    assert (await client.threads.get(tid))["status"] == "interrupted"
    with pytest.raises(NotFoundError):  # nothing left to cancel
        await client.runs.cancel_many(thread_id=tid, run_ids=[running])


async def test_bulk_cancel_by_status_picks_the_callers_runs_in_that_status(
    client: LangGraphClient, stack: LocalStack
) -> None:
    first, second = await client.threads.create(), await client.threads.create()
    running = await _running(client, first["thread_id"], {"input": LONG})
    other = await _running(client, second["thread_id"], {"input": LONG})
    queued = await client.runs.create(
        first["thread_id"], "agent", input=SHORT, multitask_strategy="enqueue"
    )
    bob = get_sync_client(url=stack.url, headers=auth("bob"))

    with pytest.raises(httpx.HTTPStatusError) as raised:
        bob.runs.cancel_many(status="all")  # bob has no runs: alice's are not his to cancel
    assert raised.value.response.status_code == 404
    await client.runs.cancel_many(status="pending")
    statuses = [
        await _status(client, first["thread_id"], queued["run_id"]),
        await _status(client, first["thread_id"], running),
    ]
    assert statuses == ["interrupted", "running"]
    await client.runs.cancel_many(status="all")

    assert await _status(client, first["thread_id"], running) == "interrupted"
    assert await _status(client, second["thread_id"], other) == "interrupted"
    with pytest.raises(NotFoundError):
        await client.runs.cancel_many(status="running")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"status": "all", "thread_id": "{tid}"}, "must be omitted"),
        ({"thread_id": "{tid}"}, "Must provide either a status"),
        ({}, "Must provide either a status"),
        ({"status": "finished"}, "status"),
        ({"thread_id": "{tid}", "run_ids": ["not-a-uuid"]}, "Invalid run ID"),
        ({"thread_id": "{tid}", "run_ids": "abc"}, "run_ids"),
    ],
)
async def test_bulk_cancel_refuses_a_body_that_selects_no_runs(
    client: LangGraphClient, stack: LocalStack, body: dict[str, Any], words: str
) -> None:
    thread = await client.threads.create()
    filled = {
        k: (v.format(tid=thread["thread_id"]) if isinstance(v, str) else v)
        for k, v in body.items()
    }
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice")) as http:
        answer = await http.post("/runs/cancel", json=filled)
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["detail"]


async def test_a_deleted_run_is_gone_and_an_active_one_cannot_be_deleted(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    done = await client.runs.create(tid, "agent", input=SHORT)
    await client.runs.join(tid, done["run_id"])
    running = await _running(client, tid, {"input": LONG})

    with pytest.raises(ConflictError) as busy:
        await client.runs.delete(tid, running)
    assert "cancel it" in busy.value.response.json()["detail"]
    await client.runs.delete(tid, done["run_id"])

    with pytest.raises(NotFoundError):
        await client.runs.get(tid, done["run_id"])
    assert [r["run_id"] for r in await client.runs.list(tid)] == [running]
    with pytest.raises(NotFoundError):
        await client.runs.delete(tid, done["run_id"])
    await client.runs.cancel(tid, running)


async def test_a_batch_starts_every_run_on_its_own_temporary_thread(
    client: LangGraphClient,
) -> None:
    batch: list[Any] = [
        {"assistant_id": "agent", "input": SHORT, "metadata": {"n": 1}},
        {"assistant_id": "agent", "input": user_message("again"), "metadata": {"n": 2}},
    ]
    runs = await client.runs.create_batch(batch)

    assert [(r["metadata"] or {})["n"] for r in runs] == [1, 2]
    assert len({r["thread_id"] for r in runs}) == 2
    agent = assistant_id("agent")
    assert all(r["assistant_id"] == agent and r["status"] in ("pending", "running") for r in runs)


def test_a_batch_with_one_bad_run_starts_none(stack: LocalStack) -> None:
    client = get_sync_client(url=stack.url, headers=auth("carol"))
    good: dict[str, Any] = {"assistant_id": "agent", "input": LONG}  # still going if started
    with pytest.raises(httpx.HTTPStatusError) as unknown:
        client.runs.create_batch(cast(Any, [good, {"assistant_id": "nope", "input": SHORT}]))
    with pytest.raises(httpx.HTTPStatusError) as bad_webhook:
        client.runs.create_batch(cast(Any, [good, {**good, "webhook": "ftp://example.com/h"}]))
    with pytest.raises(UnprocessableEntityError):
        client.runs.create_batch([])

    assert unknown.value.response.status_code == 404
    assert bad_webhook.value.response.status_code == 422
    # carol started nothing: cancelling all her runs finds none.
    with pytest.raises(httpx.HTTPStatusError) as none:
        client.runs.cancel_many(status="all")
    assert none.value.response.status_code == 404


async def test_the_sync_client_cancels_and_deletes_too(
    client: LangGraphClient, stack: LocalStack
) -> None:
    sync = get_sync_client(url=stack.url, headers=auth("alice"))
    thread = sync.threads.create()
    run_id = await _running(client, thread["thread_id"], {"input": LONG})

    sync.runs.cancel_many(thread_id=thread["thread_id"], run_ids=[run_id])
    await asyncio.wait_for(client.runs.join(thread["thread_id"], run_id), 30)
    sync.runs.delete(thread["thread_id"], run_id)

    assert sync.runs.list(thread["thread_id"]) == []
