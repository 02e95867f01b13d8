"""Thread updates through the real SDK: state updates and forks, state at a checkpoint,
PATCH, copy, count, sorted search, and thread TTL with the local stack's sweep."""

from __future__ import annotations

import uuid
from typing import Any, cast

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from langgraph_sdk.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)
from langgraph_sdk.schema import Checkpoint

from lambdagraph.engine import assistant_id
from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack
from tests.conftest import Tables
from tests.e2e.conftest import auth, eventually, stack_settings, user_message
from tests.e2e.gate import GATE, GATE_GRAPH, RELEASED


@pytest.fixture
def settings(tables: Tables) -> Settings:
    return stack_settings(tables, thread_sweep_seconds=0.2, graphs=GATE_GRAPH)


def texts(state: Any) -> list[str]:
    return [m["content"] for m in state["values"].get("messages", [])]


async def test_update_state_as_a_node_adds_a_checkpoint_and_forks_from_an_old_one(
    client: LangGraphClient,
) -> None:
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "agent", input=user_message("hello there"))
    before: Any = await client.threads.get_state(tid)

    updated: Any = await client.threads.update_state(
        tid, {"messages": [{"role": "user", "content": "edited"}]}, as_node="model"
    )
    after: Any = await client.threads.get_state(tid)
    forked: Any = await client.threads.update_state(
        tid,
        {"messages": [{"role": "user", "content": "fork"}]},
        as_node="model",
        checkpoint=before["checkpoint"],
    )
    fork_state: Any = await client.threads.get_state(tid)

    assert updated["checkpoint"]["checkpoint_id"] == after["checkpoint"]["checkpoint_id"]
    assert updated["checkpoint_id"] == updated["checkpoint"]["checkpoint_id"]
    assert texts(after) == [*texts(before), "edited"]
    assert after["parent_checkpoint"]["checkpoint_id"] == before["checkpoint"]["checkpoint_id"]
    assert fork_state["checkpoint"]["checkpoint_id"] == forked["checkpoint"]["checkpoint_id"]
    assert texts(fork_state) == [*texts(before), "fork"]  # "edited" is not in the fork
    assert fork_state["parent_checkpoint"]["checkpoint_id"] == before["checkpoint"]["checkpoint_id"]


async def test_state_at_a_checkpoint_by_id_and_by_checkpoint_matches_history(
    client: LangGraphClient,
) -> None:
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "agent", input=user_message("first"))
    await client.runs.wait(tid, "agent", input=user_message("second"))
    older: Any = (await client.threads.get_history(tid, limit=10))[-2]

    by_id: Any = await client.threads.get_state(tid, checkpoint_id=older["checkpoint_id"])
    by_checkpoint: Any = await client.threads.get_state(tid, checkpoint=older["checkpoint"])

    assert by_id["values"] == by_checkpoint["values"] == older["values"]
    assert by_id["checkpoint"]["checkpoint_id"] == older["checkpoint"]["checkpoint_id"]
    assert by_checkpoint["next"] == older["next"]


def test_update_state_refusals_match_langgraph_server(
    sync_client: SyncLangGraphClient,
) -> None:
    fresh: Any = sync_client.threads.create()["thread_id"]
    ran: Any = sync_client.threads.create()["thread_id"]
    sync_client.runs.wait(ran, "agent", input=user_message("hi"))
    state: Any = sync_client.threads.get_state(ran)

    with pytest.raises(BadRequestError, match="no assigned graph"):
        sync_client.threads.update_state(fresh, {"messages": []})
    with pytest.raises(BadRequestError, match="does not exist"):
        sync_client.threads.update_state(ran, {"messages": []}, as_node="no-such-node")
    with pytest.raises(BadRequestError, match="Subgraph nowhere not found"):
        sync_client.threads.update_state(
            ran, {"messages": []}, checkpoint=cast(Checkpoint, {"checkpoint_ns": "nowhere"})
        )
    with pytest.raises(UnprocessableEntityError, match=r"values\.messages\.0: not a valid message"):
        sync_client.threads.update_state(
            ran, {"messages": [{"role": "wizard", "content": "hi"}]}, as_node="model"
        )
    with pytest.raises(NotFoundError):
        sync_client.threads.update_state(str(uuid.uuid4()), {"messages": []})
    assert sync_client.threads.get_state(ran)["checkpoint"] == state["checkpoint"]


async def test_update_state_on_a_busy_thread_is_409_and_the_run_keeps_the_last_word(
    client: LangGraphClient,
) -> None:
    tid = (await client.threads.create())["thread_id"]
    GATE.clear()
    try:
        run = await client.runs.create(tid, "gate", input=user_message("wait"))
        with pytest.raises(ConflictError, match="in-flight runs"):
            await client.threads.update_state(tid, {"messages": []}, as_node="gate")
    finally:
        GATE.set()
    await client.runs.join(tid, run["run_id"])

    assert texts(await client.threads.get_state(tid)) == ["wait", RELEASED]
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_patch_merges_metadata_and_minimal_answers_204(
    stack: LocalStack, client: LangGraphClient
) -> None:
    tid = (await client.threads.create(metadata={"a": 1, "b": {"x": 1}}))["thread_id"]

    patched: Any = await client.threads.update(tid, metadata={"b": {"y": 2}, "c": 3})
    update: Any = client.threads.update  # typed to return None when minimal
    minimal = await update(tid, metadata={"d": 4}, return_minimal=True)
    stored: Any = await client.threads.get(tid)

    assert patched["metadata"] == {"a": 1, "b": {"y": 2}, "c": 3}
    assert patched["updated_at"] > patched["created_at"]
    assert minimal is None
    assert stored["metadata"] == {"a": 1, "b": {"y": 2}, "c": 3, "d": 4}
    with pytest.raises(NotFoundError):
        await client.threads.update(str(uuid.uuid4()), metadata={"a": 1})
    bad = httpx.patch(f"{stack.url}/threads/{tid}", json={"metadata": 3}, headers=auth("alice"))
    assert bad.status_code == 422
    assert (await client.threads.get(tid))["metadata"] == stored["metadata"]


async def test_each_run_restamps_its_thread_and_a_patch_has_the_last_word_until_then(
    client: LangGraphClient,
) -> None:
    """As on LangGraph Server: a run on an idle thread sets ``graph_id``/``assistant_id`` in
    its metadata, over keys the thread was created or patched with; a PATCH of those keys
    holds until the next run."""
    mine = (await client.assistants.create("agent", name="mine"))["assistant_id"]
    tid = (await client.threads.create(metadata={"assistant_id": "set by the client"}))[
        "thread_id"
    ]
    await client.runs.wait(tid, "agent", input=user_message("hello"))
    stamped = (await client.threads.get(tid))["metadata"]
    assert (stamped["graph_id"], stamped["assistant_id"]) == ("agent", assistant_id("agent"))

    patched: Any = await client.threads.update(tid, metadata={"assistant_id": "patched"})
    assert patched["metadata"] == {"graph_id": "agent", "assistant_id": "patched"}

    await client.runs.wait(tid, mine, input=user_message("again"))
    assert (await client.threads.get(tid))["metadata"]["assistant_id"] == mine


async def test_copy_has_the_same_state_and_history_and_is_independent(
    client: LangGraphClient,
) -> None:
    tid = (await client.threads.create(metadata={"topic": "copy"}))["thread_id"]
    await client.runs.wait(tid, "agent", input=user_message("hello"))

    copy_thread: Any = client.threads.copy  # typed None; LangGraph Server returns the thread
    copy = await copy_thread(tid)
    cid = copy["thread_id"]
    await client.runs.wait(cid, "agent", input=user_message("only in the copy"))

    assert cid != tid
    # As on LangGraph Server: the copy keeps the metadata, with the run's graph and assistant.
    stamp = {"graph_id": "agent", "assistant_id": assistant_id("agent")}
    assert copy["metadata"] == {"topic": "copy", **stamp}
    assert copy["status"] == "idle"
    original: Any = await client.threads.get_history(tid, limit=100)
    copied: Any = await client.threads.get_history(cid, limit=100)
    assert [s["checkpoint_id"] for s in copied[-len(original) :]] == [
        s["checkpoint_id"] for s in original
    ]
    assert "only in the copy" in texts(copied[0])
    assert "only in the copy" not in texts(original[0])
    with pytest.raises(ConflictError):
        await client.threads.copy(str(uuid.uuid4()))


async def test_count_and_search_sorted_selected_and_by_ids(client: LangGraphClient) -> None:
    ids = [
        (await client.threads.create(metadata={"n": i, "k": "s"}))["thread_id"] for i in range(3)
    ]
    await client.threads.update(ids[0], metadata={"touched": True})

    count: Any = await client.threads.count(metadata={"k": "s"})
    ascending: Any = await client.threads.search(sort_by="created_at", sort_order="asc")
    descending: Any = await client.threads.search(sort_by="created_at")
    recent: Any = await client.threads.search()
    selected: Any = await client.threads.search(select=["thread_id", "status"], limit=1)
    by_ids: Any = await client.threads.search(ids=ids[1:])
    paged: Any = await client.threads.search(
        sort_by="created_at", sort_order="asc", limit=1, offset=1
    )

    assert count == 3
    assert [t["thread_id"] for t in ascending] == ids
    assert [t["thread_id"] for t in descending] == ids[::-1]
    assert recent[0]["thread_id"] == ids[0]  # by updated_at, newest first
    assert [set(t) for t in selected] == [{"thread_id", "status"}]
    assert sorted(t["thread_id"] for t in by_ids) == sorted(ids[1:])
    assert [t["thread_id"] for t in paged] == [ids[1]]


async def test_an_expired_thread_is_gone_at_once_and_the_sweep_erases_it(
    stack: LocalStack, client: LangGraphClient
) -> None:
    bob = get_client(url=stack.url, headers=auth("bob"))
    tid = (await client.threads.create(ttl={"ttl": 0.02}))["thread_id"]  # 1.2 s
    kept = (await client.threads.create(ttl=60))["thread_id"]
    await client.runs.wait(tid, "agent", input=user_message("soon gone"))
    shown: Any = await client.threads.get(kept, params={"include": "ttl"})

    async def gone() -> bool:
        try:
            await client.threads.get(tid)
        except NotFoundError:
            return True
        return False

    await eventually(gone, "the thread to expire")
    assert tid not in [t["thread_id"] for t in await client.threads.search(limit=100)]
    with pytest.raises(NotFoundError):
        await client.threads.get_state(tid)

    async def erased() -> bool:  # its id is free again once everything it owned is gone
        try:
            await bob.threads.create(thread_id=tid)
        except ConflictError:
            return False
        return True

    await eventually(erased, "the sweep to erase the expired thread")
    assert (await bob.threads.get_state(tid))["values"] == {}
    assert await bob.runs.list(tid) == []
    assert shown["ttl"]["strategy"] == "delete" and shown["ttl"]["ttl_minutes"] == 60
    assert (await client.threads.get(kept))["thread_id"] == kept
    assert "ttl" not in await client.threads.get(kept)


async def test_patching_the_ttl_moves_the_expiry(
    stack: LocalStack, client: LangGraphClient
) -> None:
    tid = (await client.threads.create(ttl={"ttl": 0.02}))["thread_id"]
    witness = (await client.threads.create(ttl={"ttl": 0.02}))["thread_id"]  # left to expire

    await client.threads.update(tid, metadata={}, ttl=60)

    async def witness_erased() -> bool:  # the sweep has passed the old expiry
        created = httpx.post(
            f"{stack.url}/threads", json={"thread_id": witness}, headers=auth("alice")
        )
        return created.status_code == 200

    await eventually(witness_erased, "the sweep to erase the thread left to expire")
    shown: Any = await client.threads.get(tid, params={"include": "ttl"})
    assert shown["ttl"]["ttl_minutes"] == 60
