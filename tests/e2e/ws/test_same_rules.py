"""HTTP and WebSocket accept and reject the same run requests, with the same words.

One table of bad bodies drives both transports against one running stack: the HTTP 422
``detail`` and the WebSocket ``invalid_request`` message are the same line, and neither
records anything on the thread.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth
from tests.e2e.ws.conftest import Socket, events_of

RUN: dict[str, Any] = {"assistant_id": "agent", "input": {"messages": []}}

BAD_BODIES: list[dict[str, Any]] = [
    {**RUN, "command": {"resume": True}},
    {**RUN, "stream_mode": ["values", "bogus"]},
    {**RUN, "stream_mode": 5},
    {**RUN, "config": "fast"},
    {**RUN, "stream_subgraphs": "yes"},
    {**RUN, "multitask_strategy": "whatever"},
    {**RUN, "command": None, "input": None, "if_not_exists": "sometimes"},
    {"assistant_id": "agent", "command": {"resume": 1, "bogus": 2}},
    {"assistant_id": "agent", "command": {"goto": {"x": 1}}},
    {**RUN, "checkpoint": {"checkpoint_id": 5}},
    {**RUN, "config": {"configurable": {"checkpoint_ns": 5}}},
    {**RUN, "config": {"configurable": {"user": "a"}}, "context": {"user": "b"}},
    {"input": {"messages": []}},
    {**RUN, "assistant_id": ""},
    {**RUN, "timeout_seconds": 0},
    {**RUN, "timeout_seconds": "10"},
]


@pytest.fixture
async def http(stack: LocalStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice"), timeout=30) as c:
        yield c


@pytest.fixture
async def thread_id(http: httpx.AsyncClient) -> str:
    return str((await http.post("/threads", json={})).json()["thread_id"])


async def _http_detail(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    response = await http.post(path, json=body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    return detail


async def _ws_error(socket: Socket, frame: dict[str, Any]) -> dict[str, Any]:
    await socket.send(frame)
    error = await socket.receive()
    assert error["type"] == "error", error
    return error


async def _nothing_recorded(http: httpx.AsyncClient, thread_id: str) -> None:
    assert (await http.get(f"/threads/{thread_id}")).json()["status"] == "idle"
    assert (await http.get(f"/threads/{thread_id}/runs")).json() == []


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
async def test_a_bad_run_body_gets_the_same_message_on_both_transports(
    http: httpx.AsyncClient, alice: Socket, thread_id: str, body: dict[str, Any]
) -> None:
    detail = await _http_detail(http, f"/threads/{thread_id}/runs/stream", body)
    frame = {"action": "run", "request_id": "q-1", "thread_id": thread_id, **body}
    error = await _ws_error(alice, frame)

    assert (error["code"], error["message"]) == ("invalid_request", detail)
    assert error["request_id"] == "q-1"
    await _nothing_recorded(http, thread_id)


async def test_resuming_without_a_thread_is_the_same_invalid_request(
    http: httpx.AsyncClient, alice: Socket
) -> None:
    body = {"assistant_id": "agent", "command": {"resume": 1}}
    detail = await _http_detail(http, "/runs/stream", body)
    error = await _ws_error(alice, {"action": "run", "request_id": "q-2", **body})

    assert "needs a thread" in detail
    assert (error["code"], error["message"]) == ("invalid_request", detail)
    threads = (await http.post("/threads/search", json={})).json()
    assert threads == []  # no temporary thread was left behind either


async def test_a_websocket_thread_id_must_be_a_uuid_like_a_path_id(
    http: httpx.AsyncClient, alice: Socket
) -> None:
    error = await _ws_error(
        alice, {"action": "run", "request_id": "q-3", **RUN, "thread_id": "not-a-uuid"}
    )
    path = await http.post("/threads/not-a-uuid/runs/stream", json=RUN)

    assert error["code"] == "invalid_request"
    assert path.status_code == 422
    assert path.json()["detail"] == "Invalid thread ID: must be a UUID"
    # The field's name, then the same words.
    assert error["message"] == f"thread_id: {path.json()['detail']}"
    missing = str(uuid.uuid4())
    unknown = await _ws_error(
        alice, {"action": "run", "request_id": "q-4", **RUN, "thread_id": missing}
    )
    assert unknown["code"] == "thread_not_found"


async def test_a_websocket_subscribe_follows_a_run_started_over_http(
    http: httpx.AsyncClient, alice: Socket, thread_id: str
) -> None:
    started = await http.post(
        f"/threads/{thread_id}/runs",
        json={**RUN, "input": {"messages": [{"role": "user", "content": "count to 5"}]}},
    )
    run_id = started.json()["run_id"]

    await alice.send({"action": "subscribe", "run_id": run_id})
    unknown = await alice.receive()
    await alice.send({"action": "subscribe", "run_id": run_id, "thread_id": thread_id})
    messages = await alice.until_ended(run_id)

    # By run_id alone only WebSocket runs are found; with its thread, any run is.
    assert (unknown["type"], unknown["code"]) == ("error", "run_not_found")
    recorded = (await http.get(f"/threads/{thread_id}/runs/{run_id}")).json()
    assert messages[-1] == {
        "v": 1,
        "type": "run.ended",
        "run_id": run_id,
        "status": "success",
        "usage": recorded["usage"],
    }
    events = events_of(messages)
    assert events[0]["event"] == "metadata" and events[0]["data"]["run_id"] == run_id
    assert events[-1]["event"] == "values"
    assert events[-1]["data"]["messages"][-1]["content"].split()[-1] == "5"
