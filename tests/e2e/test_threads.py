"""Threads, assistants and identities through the real SDK against the running stack."""

from __future__ import annotations

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import AuthenticationError, ConflictError, NotFoundError

from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth, eventually, user_message


async def test_thread_lifecycle_create_get_search_delete(client: LangGraphClient) -> None:
    thread = await client.threads.create(metadata={"topic": "mail"})

    fetched = await client.threads.get(thread["thread_id"])
    found = await client.threads.search(metadata={"topic": "mail"})
    await client.threads.delete(thread["thread_id"])

    assert fetched["thread_id"] == thread["thread_id"]
    assert fetched["status"] == "idle"
    assert fetched["metadata"]["topic"] == "mail"
    assert "owner" not in fetched
    assert [t["thread_id"] for t in found] == [thread["thread_id"]]
    with pytest.raises(NotFoundError):
        await client.threads.get(thread["thread_id"])


async def test_creating_a_thread_twice_conflicts_unless_asked_to_do_nothing(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()

    again = await client.threads.create(thread_id=thread["thread_id"], if_exists="do_nothing")
    with pytest.raises(ConflictError):
        await client.threads.create(thread_id=thread["thread_id"])

    assert again["thread_id"] == thread["thread_id"]


async def test_state_of_a_new_thread_is_empty(client: LangGraphClient) -> None:
    thread = await client.threads.create()

    state = await client.threads.get_state(thread["thread_id"])
    history = await client.threads.get_history(thread["thread_id"])

    assert state["values"] == {}
    assert state["next"] == []
    assert history == []


async def test_another_users_thread_is_not_found_everywhere(stack: LocalStack) -> None:
    alice = get_client(url=stack.url, headers=auth("alice"))
    bob = get_client(url=stack.url, headers=auth("bob"))
    thread = await alice.threads.create()
    tid = thread["thread_id"]

    for attempt in (
        bob.threads.get(tid),
        bob.threads.get_state(tid),
        bob.threads.get_history(tid),
        bob.threads.delete(tid),
        bob.runs.list(tid),
    ):
        with pytest.raises(NotFoundError):
            await attempt
    with pytest.raises(httpx.HTTPStatusError) as waited:  # wait() raises httpx's own error
        await bob.runs.wait(tid, "agent", input={"messages": []})
    assert waited.value.response.status_code == 404
    with pytest.raises(NotFoundError):
        async for _ in bob.runs.stream(tid, "agent", input={"messages": []}):
            pass
    assert await bob.threads.search() == []
    assert (await alice.threads.get(tid))["status"] == "idle"
    assert await alice.runs.list(tid) == []

    await alice.runs.wait(tid, "agent", input={"messages": [{"role": "user", "content": "hi"}]})
    [run] = await alice.runs.list(tid)
    for attempt in (bob.runs.get(tid, run["run_id"]), bob.runs.cancel(tid, run["run_id"])):
        with pytest.raises(NotFoundError):
            await attempt


async def test_requests_without_credentials_are_401(stack: LocalStack) -> None:
    anonymous = get_client(url=stack.url)

    with pytest.raises(AuthenticationError):
        await anonymous.threads.create()


async def test_assistants_are_the_registered_graphs(client: LangGraphClient) -> None:
    found = await client.assistants.search()
    by_id = await client.assistants.get(found[0]["assistant_id"])
    by_name = await client.assistants.get("agent")
    graph = await client.assistants.get_graph("agent")

    assert [a["graph_id"] for a in found] == ["agent"]
    assert by_id == by_name == found[0]
    assert {node["id"] for node in graph["nodes"]} >= {"model", "tools"}
    with pytest.raises(NotFoundError):
        await client.assistants.get("no-such-graph")


def test_health_check_and_cors_expose_the_stream_headers(stack: LocalStack) -> None:
    ok = httpx.get(f"{stack.url}/ok")
    preflight = httpx.options(
        f"{stack.url}/threads",
        headers={"Origin": "http://example.com", "Access-Control-Request-Method": "POST"},
    )
    simple = httpx.get(f"{stack.url}/ok", headers={"Origin": "http://example.com"})

    assert ok.json() == {"ok": True}
    assert preflight.status_code == 200
    exposed = simple.headers["access-control-expose-headers"].lower()
    assert "location" in exposed and "content-location" in exposed


async def test_a_deleted_thread_is_gone_at_once_and_its_id_comes_back_empty(
    stack: LocalStack,
) -> None:
    alice = get_client(url=stack.url, headers=auth("alice"))
    bob = get_client(url=stack.url, headers=auth("bob"))
    tid = (await alice.threads.create())["thread_id"]
    await alice.runs.wait(tid, "agent", input=user_message("remember the word banana"))
    [run] = await alice.runs.list(tid)

    await alice.threads.delete(tid)

    for attempt in (
        alice.threads.get(tid),
        alice.threads.get_state(tid),
        alice.threads.get_history(tid),
        alice.runs.list(tid),
        alice.runs.get(tid, run["run_id"]),
        alice.threads.delete(tid),
    ):
        with pytest.raises(NotFoundError):
            await attempt

    async def reusable() -> bool:
        try:
            await bob.threads.create(thread_id=tid)
        except ConflictError:  # still being erased
            return False
        return True

    await eventually(reusable, "the deleted thread's id to be erased and free")
    state = await bob.threads.get_state(tid)
    assert (state["values"], state["next"]) == ({}, [])
    assert await bob.threads.get_history(tid) == []
    assert await bob.runs.list(tid) == []
    for user in (alice, bob):
        with pytest.raises(NotFoundError):
            await user.runs.get(tid, run["run_id"])
    async with httpx.AsyncClient(base_url=stack.url) as http:
        joined = await http.get(
            f"/threads/{tid}/runs/{run['run_id']}/stream",
            headers={**auth("bob"), "Last-Event-ID": "-1"},
        )
    assert joined.status_code == 404


def test_creating_a_taken_id_is_the_same_409_whoever_holds_it(stack: LocalStack) -> None:
    created = httpx.post(f"{stack.url}/threads", json={}, headers=auth("alice"))
    tid = created.json()["thread_id"]

    answers = [
        httpx.post(f"{stack.url}/threads", json={"thread_id": tid}, headers=auth(user))
        for user in ("alice", "bob")
    ]

    assert [(a.status_code, a.json()) for a in answers] == [
        (409, {"detail": f"Thread {tid} already exists"})
    ] * 2
