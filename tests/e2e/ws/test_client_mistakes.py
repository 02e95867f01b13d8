"""A client's mistake gets a precise answer on both transports and changes nothing.

Each body below once failed deep inside the store (HTTP 500) or failed its run with "An
internal error occurred", leaving the thread in ``error``. Now the HTTP 422 ``detail`` and the
WebSocket ``invalid_request`` message are the same line naming the field, and the thread keeps
its status, state, history and runs; an interrupted thread can still be resumed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth
from tests.e2e.ws.conftest import Socket

RUN: dict[str, Any] = {"assistant_id": "agent"}
HELLO = {"messages": [{"role": "user", "content": "hello"}]}


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


# (body as JSON text, fragment of the message). 1e999 cannot be written by json.dumps.
CASES: list[tuple[str, str]] = [
    (json.dumps({**RUN, "input": HELLO, "metadata": {"n": 2**64}}),
     "metadata.n: integer out of range"),
    (json.dumps({**RUN, "input": HELLO, "config": {"configurable": {"n": -(2**63) - 1}}}),
     "config.configurable.n: integer out of range"),
    (json.dumps({**RUN, "input": {"messages": [], "deep": _nested(300)}}),
     "input.deep.0.0.0.0.0.0.…: nested deeper than 64 levels"),
    (json.dumps({**RUN, "input": HELLO, "context": {"who": "\ud800"}}),
     "context.who: contains a lone surrogate"),
    (json.dumps({**RUN, "input": HELLO, "metadata": {"x": float("nan")}}),
     "metadata.x: must be a finite number, not NaN"),
    (json.dumps({**RUN, "input": HELLO, "metadata": {"x": 1.5}}).replace("1.5", "1e999"),
     "metadata.x: must be a finite number, not Infinity"),
    (json.dumps({**RUN, "input": {"messages": [{"role": "wizard", "content": "hi"}]}}),
     "input.messages.0: not a valid message (Unexpected message type: 'wizard'"),
    (json.dumps({**RUN, "input": {"messages": [{"role": "user", "content": "a"},
                                               {"role": "user"}]}}),
     "input.messages.1: not a valid message"),
    (json.dumps({**RUN, "input": "hello"}), "input: must be an object (a state update) or null"),
    (json.dumps({**RUN, "input": HELLO, "config": {"recursion_limit": -1}}),
     "config.recursion_limit: Input should be greater than or equal to 1"),
    (json.dumps({**RUN, "input": HELLO, "config": {"recursion_limit": "x"}}),
     "config.recursion_limit: Input should be a valid integer"),
    (json.dumps({**RUN, "command": {"goto": []}}), "command.goto: must name at least one node"),
    (json.dumps({**RUN, "command": {"goto": "nope"}}), "command.goto: no node 'nope'"),
    (json.dumps({**RUN, "command": {}}), "command: a command needs at least one of"),
    (json.dumps({**RUN, "command": {"update": {"messages": [{"role": "wizard", "content": "x"}]}}}),
     "command.update.messages.0: not a valid message"),
]
RESUME = json.dumps({**RUN, "command": {"resume": {"approved": True}}})


@pytest.fixture
async def http(stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice"), timeout=30) as c:
        yield c


async def _thread_with(http: httpx.AsyncClient, text: str) -> str:
    thread_id = str((await http.post("/threads", json={})).json()["thread_id"])
    body = {**RUN, "input": {"messages": [{"role": "user", "content": text}]}}
    response = await http.post(f"/threads/{thread_id}/runs/wait", json=body)
    assert response.status_code == 200, response.text
    return thread_id


async def _snapshot(http: httpx.AsyncClient, thread_id: str) -> dict[str, Any]:
    thread = (await http.get(f"/threads/{thread_id}")).json()
    return {
        "status": thread["status"],
        "state": (await http.get(f"/threads/{thread_id}/state")).json(),
        "history": (await http.post(f"/threads/{thread_id}/history", json={})).json(),
        "runs": (await http.get(f"/threads/{thread_id}/runs")).json(),
    }


async def _both_refuse(
    http: httpx.AsyncClient, socket: Socket, thread_id: str, body: str, fragment: str
) -> None:
    response = await http.post(
        f"/threads/{thread_id}/runs/stream",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert fragment in detail
    frame = json.dumps({"action": "run", "request_id": "m-1", "thread_id": thread_id})
    await socket.send(frame[:-1] + ", " + body[1:])  # the same fields, as one frame
    error = await socket.receive()
    assert (error["type"], error["code"], error["message"]) == ("error", "invalid_request", detail)
    assert error["request_id"] == "m-1"


@pytest.mark.parametrize(("body", "fragment"), CASES, ids=range(len(CASES)))
async def test_a_mistake_is_refused_alike_and_changes_nothing(
    http: httpx.AsyncClient, alice: Socket, body: str, fragment: str
) -> None:
    thread_id = await _thread_with(http, "hello")
    before = await _snapshot(http, thread_id)

    await _both_refuse(http, alice, thread_id, body, fragment)

    assert before["status"] == "idle" and len(before["runs"]) == 1
    assert await _snapshot(http, thread_id) == before


async def test_resuming_a_thread_with_no_pending_interrupt_is_refused(
    http: httpx.AsyncClient, alice: Socket
) -> None:
    thread_id = await _thread_with(http, "hello")
    before = await _snapshot(http, thread_id)

    await _both_refuse(http, alice, thread_id, RESUME, "has no pending interrupt to resume")

    assert await _snapshot(http, thread_id) == before


async def test_an_interrupted_thread_survives_every_mistake_and_still_resumes(
    http: httpx.AsyncClient, alice: Socket
) -> None:
    thread_id = await _thread_with(http, "send an email to bob@example.com")
    before = await _snapshot(http, thread_id)
    assert before["status"] == "interrupted"

    for body, fragment in CASES:
        await _both_refuse(http, alice, thread_id, body, fragment)
    after = await _snapshot(http, thread_id)
    resumed = await http.post(
        f"/threads/{thread_id}/runs/wait",
        content=RESUME.encode(),
        headers={"Content-Type": "application/json"},
    )

    assert after == before
    assert resumed.status_code == 200
    assert resumed.json()["messages"][-1]["content"] == "Email sent to bob@example.com."
    assert (await http.get(f"/threads/{thread_id}")).json()["status"] == "idle"


async def test_bytes_that_are_not_json_are_bad_json(
    http: httpx.AsyncClient, alice: Socket
) -> None:
    thread_id = await _thread_with(http, "hello")
    before = await _snapshot(http, thread_id)
    garbage = bytes.fromhex("00fffe80")

    response = await http.post(
        f"/threads/{thread_id}/runs/stream",
        content=garbage,
        headers={"Content-Type": "application/json"},
    )
    await alice.connection.send(garbage)  # a binary frame
    error = await alice.receive()

    assert response.status_code == 422
    assert response.json()["detail"] == "Request body is not valid JSON (it is not UTF-8 text)"
    assert (error["code"], error["message"]) == (
        "bad_json", "The frame is not valid JSON (it is not UTF-8 text)"
    )
    assert await _snapshot(http, thread_id) == before


async def test_json_nested_past_the_decoder_is_refused_by_depth(
    http: httpx.AsyncClient, alice: Socket
) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    body = '{"assistant_id": "agent", "input": {"x": ' + deep + "}}"

    response = await http.post(
        "/runs/stream", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    await alice.send('{"action": "run", "request_id": "m-2", ' + body[1:])
    error = await alice.receive()

    assert response.status_code == 422
    assert response.json()["detail"] == "Request body is nested deeper than 64 levels"
    assert (error["code"], error["message"]) == (
        "invalid_request", "The frame is nested deeper than 64 levels"
    )
    assert (await http.post("/threads/search", json={})).json() == []


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_without_a_json_content_type_says_so(
    http: httpx.AsyncClient, content_type: str | None
) -> None:
    thread_id = str((await http.post("/threads", json={})).json()["thread_id"])
    headers = {"Content-Type": content_type} if content_type else {}

    response = await http.post(
        f"/threads/{thread_id}/runs/wait", content=json.dumps({**RUN, "input": HELLO}),
        headers=headers,
    )

    assert response.status_code == 422
    assert "must be JSON sent with Content-Type: application/json" in response.json()["detail"]
    assert (await http.get(f"/threads/{thread_id}/runs")).json() == []


async def test_thread_metadata_out_of_range_creates_no_thread(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/threads",
        content=b'{"metadata": {"n": 18446744073709551616}}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith("metadata.n: integer out of range")
    assert (await http.post("/threads/search", json={})).json() == []


async def test_a_good_config_runs_on_both_transports(
    http: httpx.AsyncClient, alice: Socket
) -> None:
    thread_id = str((await http.post("/threads", json={})).json()["thread_id"])
    body = {**RUN, "input": HELLO, "config": {"tags": ["mine"], "configurable": {"x": None}}}

    waited = await http.post(f"/threads/{thread_id}/runs/wait", json=body)
    await alice.send({"action": "run", "request_id": "m-3", "thread_id": thread_id, **body})
    accepted = await alice.receive_type("run.accepted")
    messages = await alice.until_ended(accepted["run_id"])

    run = (await http.get(f"/threads/{thread_id}/runs/{accepted['run_id']}")).json()

    assert waited.status_code == 200 and "__error__" not in waited.json()
    assert messages[-1]["status"] == "success"
    assert run["kwargs"]["config"] == body["config"]  # kept as sent, no keys added
