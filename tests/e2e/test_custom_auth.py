"""``auth_mode=custom``: a ``langgraph_sdk.Auth`` file written for LangGraph Server, unchanged,
in front of the local stack, driven by the real ``langgraph-sdk`` client and a WebSocket.

The auth file (``tests/e2e/auth_files/langgraph_auth.py``) ports LangGraph's tutorials: its
tokens name users, ``@auth.on`` handlers stamp ``metadata["owner"]`` and filter on it, and
creating needs a permission. Ownership stays the partition; the filters narrow within it,
so one of alice's threads that lacks the stamp is hidden from alice herself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import websockets
from langgraph_sdk import get_client
from langgraph_sdk.errors import NotFoundError, PermissionDeniedError

from lambdagraph.engine import assistant_id
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore
from lambdagraph.store.crons import Cron, CronStore
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.auth_files.langgraph_auth import SECRET
from tests.e2e.conftest import stack_settings, user_message
from tests.e2e.ws.conftest import Socket, run_frame

AUTH_PATH = "tests.e2e.auth_files.langgraph_auth:auth"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def settings(tables: Tables) -> Settings:
    return stack_settings(tables, auth_mode="custom", auth_path=AUTH_PATH)


@pytest.fixture
def stack(settings: Settings) -> Iterator[LocalStack]:
    """The local stack authenticating with the auth file alone (no test authenticator)."""
    with running_stack(settings=settings) as running:
        yield running


async def test_threads_carry_their_owner_and_reads_filter_on_it(
    stack: LocalStack, tables: Tables
) -> None:
    alice = get_client(url=stack.url, headers=bearer("alice-token"))
    bob = get_client(url=stack.url, headers=bearer("bob-token"))
    thread = await alice.threads.create(metadata={"topic": "plans"})
    assert thread["metadata"] == {"topic": "plans", "owner": "alice", "team": "red"}
    assert (await alice.threads.get(thread["thread_id"]))["thread_id"] == thread["thread_id"]
    with pytest.raises(NotFoundError):
        await bob.threads.get(thread["thread_id"])

    # alice's own thread without the owner stamp (recorded before the auth file existed):
    # the handler's filter hides it from alice too, on every route that reaches it.
    legacy = await AppStore(tables.app).create_thread("alice", metadata={"topic": "old"})
    legacy_id = legacy["thread_id"]
    with pytest.raises(NotFoundError):
        await alice.threads.get(legacy_id)
    with pytest.raises(NotFoundError):
        await alice.threads.get_state(legacy_id)
    with pytest.raises(httpx.HTTPStatusError) as no_run:  # what the SDK's wait raises
        await alice.runs.wait(legacy_id, "agent", input=user_message("hi"))
    assert no_run.value.response.status_code == 404
    with pytest.raises(NotFoundError):
        await alice.runs.list(legacy_id)
    found = await alice.threads.search(limit=100)
    assert [t["thread_id"] for t in found] == [thread["thread_id"]]


async def test_thread_updates_copies_and_counts_go_through_the_handlers_filters(
    stack: LocalStack, tables: Tables
) -> None:
    alice = get_client(url=stack.url, headers=bearer("alice-token"))
    thread = await alice.threads.create(metadata={"topic": "plans"})
    tid = thread["thread_id"]
    await alice.runs.wait(tid, "agent", input=user_message("hi"))
    legacy = await AppStore(tables.app).create_thread("alice", metadata={"topic": "old"})

    patched: Any = await alice.threads.update(tid, metadata={"topic": "later"})
    copy_thread: Any = alice.threads.copy  # typed None; LangGraph Server returns the thread
    copy = await copy_thread(tid)
    updated: Any = await alice.threads.update_state(tid, {"messages": []}, as_node="model")

    # The handler stamps what a PATCH merges, and the copy keeps the original's metadata.
    # (and a run stamps its graph and assistant on its thread, as LangGraph Server does).
    assert patched["metadata"] == {
        "topic": "later", "owner": "alice", "team": "red", "graph_id": "agent",
        "assistant_id": assistant_id("agent"),
    }
    assert copy["metadata"] == patched["metadata"]
    assert updated["checkpoint"]["checkpoint_id"] is not None
    assert await alice.threads.count() == 2  # the unstamped thread is not counted
    for hidden in (
        alice.threads.update(legacy["thread_id"], metadata={"owner": "alice"}),
        alice.threads.update_state(legacy["thread_id"], {"messages": []}),
        alice.threads.get_state(legacy["thread_id"], checkpoint_id=updated["checkpoint_id"]),
    ):
        with pytest.raises(NotFoundError):
            await hidden
    assert (await AppStore(tables.app).get_thread("alice", legacy["thread_id"]))["metadata"] == {
        "topic": "old"
    }


async def test_a_run_records_the_stamped_owner_and_its_new_thread_starts_with_it(
    stack: LocalStack,
) -> None:
    alice = get_client(url=stack.url, headers=bearer("alice-token"))
    thread = await alice.threads.create()
    run: dict[str, Any] = await alice.runs.create(  # type: ignore[assignment]
        thread["thread_id"], "agent", input=user_message("hi")
    )
    await alice.runs.join(thread["thread_id"], run["run_id"])
    recorded: dict[str, Any] = await alice.runs.get(  # type: ignore[assignment]
        thread["thread_id"], run["run_id"]
    )
    assert recorded["metadata"] == {"owner": "alice"}
    # A run that creates its thread: the thread is alice's and readable through the filter.
    created = await alice.runs.wait(
        "0b0e7a52-5d52-4a55-9d0e-6b9d6f5c7e11", "agent", input=user_message("hi"),
        if_not_exists="create",
    )
    assert created is not None
    fresh: dict[str, Any] = await alice.threads.get(  # type: ignore[assignment]
        "0b0e7a52-5d52-4a55-9d0e-6b9d6f5c7e11"
    )
    assert fresh["metadata"]["owner"] == "alice"


async def test_handlers_that_refuse_answer_403_with_their_detail(stack: LocalStack) -> None:
    alice = get_client(url=stack.url, headers=bearer("alice-token"))
    reader = get_client(url=stack.url, headers=bearer("alice-reader"))
    thread = await alice.threads.create()
    with pytest.raises(PermissionDeniedError) as refused:
        await reader.threads.create()
    assert refused.value.response.json() == {"detail": "User lacks the required permissions."}
    with pytest.raises(PermissionDeniedError) as plain:  # the handler returned False
        await reader.runs.create(thread["thread_id"], "agent", input=user_message("hi"))
    assert plain.value.response.json() == {"detail": "Forbidden"}
    # The same identity may still read: only the refused actions failed, nothing was lost.
    assert (await reader.threads.get(thread["thread_id"]))["status"] == "idle"
    assert await reader.runs.list(thread["thread_id"]) == []


async def test_a_failing_handler_is_a_generic_refusal_its_message_withheld(
    stack: LocalStack,
) -> None:
    carol = get_client(url=stack.url, headers=bearer("carol-token"))
    thread = await carol.threads.create()
    with pytest.raises(PermissionDeniedError) as failed:
        await carol.threads.delete(thread["thread_id"])
    assert failed.value.response.json() == {"detail": "Forbidden"}
    assert SECRET not in failed.value.response.text
    assert (await carol.threads.get(thread["thread_id"]))["thread_id"] == thread["thread_id"]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        (bearer("nobody-token"), "Invalid token"),  # Auth.exceptions.HTTPException(401, ...)
        (bearer("boom-token"), "Unauthorized"),  # a plain exception: generic
        ({}, "Unauthorized"),  # `assert authorization` fails: generic
    ],
    ids=["http-exception", "plain-exception", "no-header"],
)
async def test_authentication_failures_are_401_with_only_a_chosen_detail(
    stack: LocalStack, headers: dict[str, str], detail: str
) -> None:
    async with httpx.AsyncClient(base_url=stack.url, headers=headers) as http:
        answer = await http.post("/threads/search", json={})
    assert answer.status_code == 401
    assert answer.json() == {"detail": detail}
    assert SECRET not in answer.text
    async with httpx.AsyncClient(base_url=stack.url) as http:
        assert (await http.get("/ok")).status_code == 200


async def _socket(stack: LocalStack, token: str) -> Socket:
    return Socket(await websockets.connect(f"{stack.ws_url}?token={token}"))


async def test_websocket_runs_and_subscribes_through_the_same_handlers(
    stack: LocalStack, tables: Tables
) -> None:
    socket = await _socket(stack, "alice-token")
    try:
        await socket.send(run_frame("hi"))
        accepted = await socket.receive_type("run.accepted")
        ended = (await socket.until_ended(accepted["run_id"]))[-1]
        assert ended["status"] == "success"
        alice = get_client(url=stack.url, headers=bearer("alice-token"))
        thread: dict[str, Any] = await alice.threads.get(  # type: ignore[assignment]
            accepted["thread_id"]
        )
        assert thread["metadata"]["owner"] == "alice"  # stamped by threads.create_run

        await socket.send(
            {"action": "subscribe", "run_id": accepted["run_id"], "after": -1}
        )
        replayed = await socket.receive_type("run.ended")
        assert replayed["run_id"] == accepted["run_id"]

        legacy = await AppStore(tables.app).create_thread("alice")
        await socket.send(run_frame("hi", request_id="req-2", thread_id=legacy["thread_id"]))
        hidden = await socket.receive_type("error")
        assert (hidden["code"], hidden["request_id"]) == ("thread_not_found", "req-2")
    finally:
        await socket.connection.close()

    reader = await _socket(stack, "alice-reader")
    try:
        await reader.send(run_frame("hi", request_id="req-3"))
        refused = await reader.receive_type("error")
        assert (refused["code"], refused["message"]) == ("forbidden", "Forbidden")
    finally:
        await reader.connection.close()


@pytest.mark.parametrize("token", ["nobody-token", "boom-token"])
async def test_websocket_connect_with_a_refused_token_fails(
    stack: LocalStack, token: str
) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(f"{stack.ws_url}?token={token}")
    assert refused.value.response.status_code in (401, 403)
    assert SECRET not in json.dumps(refused.value.response.body.decode(errors="replace"))



async def test_bulk_cancel_and_run_deletion_obey_the_handlers_filters(
    stack: LocalStack, tables: Tables
) -> None:
    """``POST /runs/cancel`` and ``DELETE`` of a run go through ``threads.update`` and
    ``threads.delete``: the owner filter spares the run of alice's unstamped thread."""
    alice = get_client(url=stack.url, headers=bearer("alice-token"))
    store = AppStore(tables.app)
    thread = await alice.threads.create()
    stamped = await alice.runs.create(
        thread["thread_id"], "agent", input=user_message("count to 100000"),
        stream_mode="messages-tuple",
    )
    legacy = await store.create_thread("alice", metadata={"topic": "old"})
    hidden = await store.create_run(
        "alice", thread_id=legacy["thread_id"], assistant_id="agent",
        kwargs={"input": user_message("hi")},
    )

    with pytest.raises(NotFoundError):
        await alice.runs.cancel_many(thread_id=legacy["thread_id"], run_ids=[hidden["run_id"]])
    with pytest.raises(NotFoundError):
        await alice.runs.delete(legacy["thread_id"], hidden["run_id"])
    await alice.runs.cancel_many(status="all")

    assert (await alice.runs.get(thread["thread_id"], stamped["run_id"]))["status"] == (
        "interrupted"
    )
    untouched = await store.get_run("alice", legacy["thread_id"], hidden["run_id"])
    assert (untouched["status"], untouched.get("cancel")) == ("running", None)
    await alice.runs.join(thread["thread_id"], stamped["run_id"])
    assert await alice.runs.delete(thread["thread_id"], stamped["run_id"]) is None
async def test_crons_carry_their_owner_and_the_filter_hides_unstamped_ones(
    stack: LocalStack, tables: Tables
) -> None:
    alice = get_client(url=stack.url, headers=bearer("alice-token"))
    reader = get_client(url=stack.url, headers=bearer("alice-reader"))
    cron: dict[str, Any] = dict(
        await alice.crons.create("agent", schedule="@daily", metadata={"topic": "news"})
    )
    assert cron["metadata"] == {"topic": "news", "owner": "alice"}
    with pytest.raises(PermissionDeniedError):
        await reader.crons.create("agent", schedule="@daily")

    # alice's own cron without the owner stamp: the read/update/delete filters hide it.
    legacy = cast(Cron, {**cron, "cron_id": str(uuid.uuid4()), "metadata": {"topic": "old"}})
    await CronStore(tables.app).create("alice", legacy)
    assert [c["cron_id"] for c in await alice.crons.search()] == [cron["cron_id"]]
    assert await alice.crons.count() == 1
    with pytest.raises(NotFoundError):
        await alice.crons.update(legacy["cron_id"], enabled=False)
    with pytest.raises(NotFoundError):
        await alice.crons.delete(legacy["cron_id"])
    await alice.crons.delete(cron["cron_id"])
    assert await alice.crons.count() == 0


async def _v2_root_end(http: httpx.AsyncClient, thread_id: str) -> str:
    """Follow the thread's v2 stream to its root's terminal lifecycle event."""
    body = {"channels": ["lifecycle"]}
    async with http.stream("POST", f"/threads/{thread_id}/stream/events", json=body) as sse:
        assert sse.status_code == 200
        async for line in sse.aiter_lines():
            if not line.startswith("data:"):
                continue
            frame = json.loads(line.removeprefix("data:"))
            event = frame["params"]["data"].get("event")
            if not frame["params"]["namespace"] and event in ("completed", "failed"):
                return str(event)
    raise AssertionError("the stream ended before the run did")


async def test_v2_commands_and_streams_go_through_the_same_handlers(
    stack: LocalStack, tables: Tables
) -> None:
    tid = str(uuid.uuid4())
    start = {
        "id": 1,
        "method": "run.start",
        "params": {"assistant_id": "agent", "input": user_message("hi")},
    }
    async with (
        httpx.AsyncClient(base_url=stack.url, headers=bearer("alice-token")) as alice,
        httpx.AsyncClient(base_url=stack.url, headers=bearer("alice-reader")) as reader,
    ):
        started = (await alice.post(f"/threads/{tid}/commands", json=start)).json()
        assert started["type"] == "success", started
        assert await _v2_root_end(alice, tid) == "completed"
        # The thread the command created carries the stamp, so alice's filter finds it.
        thread = (await alice.get(f"/threads/{tid}")).json()
        assert thread["metadata"]["owner"] == "alice"

        # Without threads:write the handler refuses a run, but reading is still allowed.
        refused = (await reader.post(f"/threads/{tid}/commands", json=start)).json()
        assert (refused["type"], refused["error"]) == ("error", "permission_denied")
        state = {"id": 2, "method": "state.get", "params": {}}
        read = (await reader.post(f"/threads/{tid}/commands", json=state)).json()
        assert read["type"] == "success"
        reply = read["result"]["values"]["messages"][-1]["content"]
        assert [block["text"] for block in reply] == ["You said: hi"]
        runs = (await alice.get(f"/threads/{tid}/runs")).json()
        assert len(runs) == 1  # the refused command recorded nothing

        # alice's own thread without the owner stamp is hidden by the filter, here too.
        legacy = await AppStore(tables.app).create_thread("alice", metadata={"topic": "old"})
        hidden = legacy["thread_id"]
        stream = await alice.post(f"/threads/{hidden}/stream/events", json={"channels": ["values"]})
        assert stream.status_code == 404
        gone = (await alice.post(f"/threads/{hidden}/commands", json=state)).json()
        assert (gone["type"], gone["error"]) == ("error", "no_such_run")
