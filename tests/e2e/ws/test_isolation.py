"""Two users on one WebSocket API: bob's actions on alice's runs and threads are answered
exactly as for unknown ids, her events never reach his connection, and ``request_id``s
are each user's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack
from tests.conftest import Tables
from tests.e2e.conftest import auth, stack_settings, user_message
from tests.e2e.gate import GATE, GATE_GRAPH, RELEASED
from tests.e2e.ws.conftest import (
    Socket,
    connect,
    events_of,
    expected_count_text,
    run_frame,
    streamed_text,
)

STRATEGIES = ("reject", "enqueue", "interrupt", "rollback")


@pytest.fixture
def settings(tables: Tables) -> Iterator[Settings]:
    """The WebSocket stack's settings, with the ``gate`` graph that keeps a run live."""
    GATE.clear()
    yield stack_settings(tables, scripted_delay_ms=5, graphs=GATE_GRAPH)
    GATE.set()


def _blank(message: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    text = message["message"]
    for value, name in names.items():
        text = text.replace(value, name)
    return {**message, "message": text}


async def _same_as_unknown(bob: Socket, frame: dict[str, Any], alices: set[str], code: str) -> None:
    """Bob's ``frame`` on alice's ids and on fresh random ones get the same ``code`` error,
    word for word once the ids are blanked out."""
    fresh = {value: str(uuid.uuid4()) for value in alices}
    other = {k: fresh.get(v, v) if isinstance(v, str) else v for k, v in frame.items()}
    await bob.send(frame)
    theirs = await bob.receive()
    await bob.send(other)
    nobodys = await bob.receive()

    assert theirs["type"] == "error" and theirs["code"] == code, (frame, theirs)
    names = {value: f"<{n}>" for n, value in enumerate(fresh)}
    fresh_names = {fresh[value]: name for value, name in names.items()}
    assert _blank(theirs, names) == _blank(nobodys, fresh_names)


async def _http_run(http: httpx.AsyncClient, text: str) -> tuple[str, str]:
    """A finished, logged background run of alice's over HTTP: (thread id, run id)."""
    thread = (await http.post("/threads", json={})).json()["thread_id"]
    run = await http.post(
        f"/threads/{thread}/runs", json={"assistant_id": "agent", "input": user_message(text)}
    )
    run_id = run.json()["run_id"]
    await http.get(f"/threads/{thread}/runs/{run_id}/join")
    return thread, run_id


async def test_bob_cannot_subscribe_to_or_cancel_alices_runs_nor_see_her_stream(
    stack: LocalStack, alice: Socket
) -> None:
    bob = await connect(stack, "bob")  # connected before her run starts, all along
    await bob.send(run_frame("hi", request_id="bob-1"))
    bobs = await bob.receive_type("run.accepted")
    await bob.until_ended(bobs["run_id"])
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice"), timeout=30) as http:
        http_thread, http_run = await _http_run(http, "count to 3")
        await alice.send(run_frame("wait", request_id="alice-live", assistant_id="gate"))
        live = await alice.receive_type("run.accepted")
        run, thread = live["run_id"], live["thread_id"]
        alices = {run, thread, http_run, http_thread}

        for action in ("subscribe", "cancel"):
            for fields in (
                {"run_id": run},
                {"run_id": run, "after": -1},
                {"run_id": run, "after": "0"},
                {"run_id": run, "thread_id": thread},
                {"run_id": run, "thread_id": thread, "after": "-1"},
                {"run_id": run, "thread_id": bobs["thread_id"]},  # his thread, her run
                {"run_id": bobs["run_id"], "thread_id": thread},  # her thread, his run
                {"run_id": http_run},
                {"run_id": http_run, "thread_id": http_thread, "after": -1},
            ):
                await _same_as_unknown(bob, {"action": action, **fields}, alices, "run_not_found")

        assert (await http.get(f"/threads/{thread}/runs/{run}")).json()["status"] == "running"
        GATE.set()
        messages = await alice.until_ended(run)
        assert messages[-1]["status"] == "success"  # bob's cancels did nothing
        state = (await http.get(f"/threads/{thread}/state")).json()
        assert state["values"]["messages"][-1]["content"] == RELEASED
        runs = (await http.get(f"/threads/{thread}/runs")).json()
        assert [(r["run_id"], r["status"]) for r in runs] == [(run, "success")]

    # Anything of hers queued for his connection would arrive before this answer.
    await bob.send({"action": "ping"})
    assert await bob.receive() == {"v": 1, "type": "pong"}
    assert {m["type"] for m in bob.frames} == {
        "run.accepted",
        "events",
        "run.ended",
        "error",
        "pong",
    }
    assert {m["run_id"] for m in bob.frames if "run_id" in m} == {bobs["run_id"]}
    await bob.connection.close()


async def test_bob_cannot_run_on_or_resume_alices_threads(stack: LocalStack, alice: Socket) -> None:
    await alice.send(run_frame("email carol@example.com", request_id="alice-email"))
    waiting = await alice.receive_type("run.accepted")
    await alice.until_ended(waiting["run_id"])
    await alice.send(run_frame("hello", request_id="alice-hello"))
    idle = await alice.receive_type("run.accepted")
    await alice.until_ended(idle["run_id"])
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice"), timeout=30) as http:

        async def snapshot() -> list[Any]:
            return [
                (await http.get(f"/threads/{tid}{suffix}")).json()
                for tid in (waiting["thread_id"], idle["thread_id"])
                for suffix in ("", "/state", "/runs")
            ]

        before = await snapshot()
        bob = await connect(stack, "bob")
        resume = {"command": {"resume": {"approved": True}}, "input": None}
        frames = [
            run_frame("x", request_id="b-1", thread_id=idle["thread_id"]),
            *(
                run_frame(
                    "x", request_id=f"b-{s}", thread_id=idle["thread_id"], multitask_strategy=s
                )
                for s in STRATEGIES
            ),
            {**run_frame("x", request_id="b-r1", thread_id=waiting["thread_id"]), **resume},
            {
                **run_frame("x", request_id="b-r2", thread_id=waiting["thread_id"]),
                **resume,
                "if_not_exists": "reject",
            },
        ]
        alices = {waiting["thread_id"], idle["thread_id"]}
        for frame in frames:
            await _same_as_unknown(bob, frame, alices, "thread_not_found")
        # Where an unknown id would get a new thread, a taken one is refused as not found.
        create = run_frame(
            "x", request_id="b-c", thread_id=idle["thread_id"], if_not_exists="create"
        )
        await bob.send(create)
        refused = await bob.receive()
        assert (refused["code"], refused["message"]) == (
            "thread_not_found",
            f"Thread {idle['thread_id']} not found",
        )
        await bob.connection.close()

        assert (await http.get(f"/threads/{waiting['thread_id']}")).json()["status"] == (
            "interrupted"
        )
        assert await snapshot() == before


async def test_request_ids_are_each_users_own(stack: LocalStack, alice: Socket) -> None:
    bob = await connect(stack, "bob")
    await alice.send(run_frame("count to 3", request_id="same"))
    await bob.send(run_frame("count to 4", request_id="same"))
    hers = await alice.receive_type("run.accepted")
    his = await bob.receive_type("run.accepted")
    her_text = streamed_text(events_of(await alice.until_ended(hers["run_id"])))
    his_text = streamed_text(events_of(await bob.until_ended(his["run_id"])))

    assert hers["run_id"] != his["run_id"] and hers["thread_id"] != his["thread_id"]
    assert (her_text, his_text) == (expected_count_text(3), expected_count_text(4))
    # A repeat is the repeating user's first run, and starts nothing.
    await bob.send(run_frame("count to 4", request_id="same"))
    assert await bob.receive() == his
    await alice.send(run_frame("count to 3", request_id="same"))
    assert await alice.receive() == hers
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        for user, thread, own in (
            ("alice", hers["thread_id"], hers["run_id"]),
            ("bob", his["thread_id"], his["run_id"]),
        ):
            runs = (await http.get(f"/threads/{thread}/runs", headers=auth(user))).json()
            assert [r["run_id"] for r in runs] == [own]
        foreign = await http.get(f"/threads/{his['thread_id']}", headers=auth("alice"))
        assert foreign.status_code == 404
    await bob.connection.close()
