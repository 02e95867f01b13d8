"""The Agent Streaming Protocol over the WebSocket API of the local stack.

The official SDK's ``transport="websocket"`` (commands over HTTP, events on
``ws://…/threads/{tid}/stream/events``, served by the gateway emulator and the real ``ws``
handler), the same SDK pointed at the API Gateway-style endpoint (``/ws?thread_id=``, no
per-thread path) through its transport's ``connect`` option, and plain frames: commands
in-band, subscribe / replay / live across runs, bad frames. The old actions keep working
on the same connections.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.stream.transport import ProtocolWebSocketTransport

from lambdagraph.protocol.agent import CHANNELS
from lambdagraph_client.gateway import gateway_connect
from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth, user_message
from tests.e2e.test_agent_stream import frames_until_end
from tests.e2e.ws.conftest import TIMEOUT, Socket

pytestmark = pytest.mark.timeout(90)

ALL_CHANNELS = sorted(CHANNELS)


def _thread_url(stack: LocalStack, thread_id: str) -> str:
    return "ws" + stack.url.removeprefix("http") + f"/threads/{thread_id}/stream/events"


async def _socket(url: str) -> Socket:
    return Socket(await websockets.connect(url, additional_headers=auth("alice")))


async def _events_until_end(socket: Socket) -> list[dict[str, Any]]:
    """Every event frame up to the root's next terminal lifecycle event."""
    frames: list[dict[str, Any]] = []
    while True:
        message = await socket.receive()
        if message.get("type") != "event":
            continue
        frames.append(message)
        data = message["params"]["data"]
        if (
            message["method"] == "lifecycle"
            and not message["params"]["namespace"]
            and data.get("event") in ("completed", "failed", "interrupted")
        ):
            return frames


async def _answer(socket: Socket, command_id: int) -> dict[str, Any]:
    while True:
        message = await socket.receive()
        if message.get("type") in ("success", "error") and message.get("id") == command_id:
            return message


def _unfolded(live: list[dict[str, Any]], logged: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The logged frames each live frame stands for: itself, or (a folded text delta) the
    log's deltas of its block since the previous live frame, whose texts it joins."""
    by_seq = {f["seq"]: f for f in logged}
    out: list[dict[str, Any]] = []
    previous = live[0]["seq"] - 1
    for frame in live:
        covered = [by_seq[s] for s in range(previous + 1, frame["seq"] + 1) if s in by_seq]
        if len(covered) > 1:
            texts = [f["params"]["data"]["delta"]["text"] for f in covered]
            folded = dict(covered[-1])
            data = {
                **folded["params"]["data"],
                "delta": {"type": "text-delta", "text": "".join(texts)},
            }
            folded["params"] = {**folded["params"], "data": data}
            assert frame == folded, "a folded frame joins the texts of the deltas it stands for"
        else:
            assert covered == [frame]
        out.extend(covered)
        previous = frame["seq"]
    return out


@pytest.fixture
async def thread_id(stack: LocalStack) -> str:
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice")) as http:
        response = await http.post("/threads", json={})
        assert response.status_code == 200
        return str(response.json()["thread_id"])


async def test_the_sdk_thread_stream_over_websocket(stack: LocalStack) -> None:
    client = get_client(url=stack.url, headers=auth("alice"))
    # The handshake carries the stream's headers, not the client's defaults.
    stream = client.threads.stream(
        assistant_id="agent", transport="websocket", headers=auth("alice")
    )
    async with stream as thread:
        assert isinstance(thread._transport, ProtocolWebSocketTransport)
        await thread.run.start(input=user_message("hello there"))
        # Drain the outer iterator first: a message's text completes only as it advances.
        streams = [stream async for stream in thread.messages]
        texts = [await stream.text for stream in streams]
        final = await thread.output
    assert texts == ["You said: hello there"]
    assert final["messages"][-1]["content"][0]["text"] == texts[-1]


def test_the_sync_sdk_thread_stream_over_websocket(stack: LocalStack) -> None:
    client = get_sync_client(url=stack.url, headers=auth("alice"))
    with client.threads.stream(
        assistant_id="agent", transport="websocket", headers=auth("alice")
    ) as thread:
        thread.run.start(input=user_message("sync hello"))
        snapshots = list(thread.values)
        final = thread.output
    assert [m["type"] for m in snapshots[-1]["messages"]] == ["human", "ai"]
    assert final["messages"][-1]["content"][0]["text"] == "You said: sync hello"


async def test_plain_frames_commands_in_band_then_live_frames(
    stack: LocalStack, thread_id: str
) -> None:
    socket = await _socket(_thread_url(stack, thread_id))
    try:
        params = {"channels": ["lifecycle", "messages", "values"]}
        await socket.send({"id": 1, "method": "subscription.subscribe", "params": params})
        subscribed = await _answer(socket, 1)
        assert subscribed["type"] == "success", subscribed
        assert subscribed["result"]["replayed_events"] == 0
        start = {
            "id": 2,
            "method": "run.start",
            "params": {"assistant_id": "agent", "input": user_message("hi")},
        }
        await socket.send(start)
        frames = await _events_until_end(socket)
        seqs = [f["seq"] for f in frames]
        assert seqs == sorted(set(seqs)), "every frame once, in seq order"
        assert {f["method"] for f in frames} <= {"lifecycle", "messages", "values"}
        assert any(f["method"] == "messages" for f in frames)
        started = [m for m in socket.frames if m.get("id") == 2]
        assert started and started[0]["type"] == "success" and started[0]["result"]["run_id"]
        # The ws function reads the thread's state in-band too (its saver only reads).
        await socket.send({"id": 3, "method": "state.get", "params": {}})
        state = await _answer(socket, 3)
        assert state["type"] == "success", state
        last_values = [f for f in frames if f["method"] == "values"][-1]["params"]["data"]
        assert state["result"]["values"]["messages"] == last_values["messages"]
    finally:
        await socket.connection.close()


async def test_a_late_subscriber_gets_the_log_then_the_next_run_without_gaps(
    stack: LocalStack, thread_id: str
) -> None:
    first = await _socket(_thread_url(stack, thread_id))
    try:
        await first.send(
            {"id": 1, "method": "subscription.subscribe", "params": {"channels": ["lifecycle"]}}
        )
        await _answer(first, 1)
        start = {
            "id": 2,
            "method": "run.start",
            "params": {"assistant_id": "agent", "input": user_message("one")},
        }
        await first.send(start)
        earlier = await _events_until_end(first)
    finally:
        await first.connection.close()
    # The deployed shape: the stage URL with the thread in the query string.
    late = await _socket(f"{stack.ws_url}?thread_id={thread_id}")
    try:
        params = {"channels": ALL_CHANNELS}
        await late.send({"id": 1, "method": "subscription.subscribe", "params": params})
        answer = await _answer(late, 1)
        replayed = [m for m in late.frames if m.get("type") == "event"]
        assert answer["result"]["replayed_events"] == len(replayed) > len(earlier)
        start = {
            "id": 2,
            "method": "run.start",
            "params": {"assistant_id": "agent", "input": user_message("two")},
        }
        await late.send(start)
        live = await _events_until_end(late)
        seqs = [m["seq"] for m in replayed]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap, nothing twice
        assert live[0]["seq"] == replayed[-1]["seq"] + 1
        # Live, text deltas queued behind a post may arrive folded: the log has them all.
        logged = await asyncio.to_thread(
            frames_until_end, stack.url, thread_id, since=replayed[-1]["seq"]
        )
        assert _unfolded(live, logged) == logged  # no gap, nothing twice
    finally:
        await late.connection.close()


async def test_bad_frames_answer_errors_and_old_actions_still_work(
    stack: LocalStack, thread_id: str
) -> None:
    socket = await _socket(_thread_url(stack, thread_id))
    try:
        await socket.send("{nope")
        bad = await socket.receive()
        assert bad["type"] == "error" and bad["error"] == "invalid_argument" and bad["id"] is None
        await socket.send({"id": 3, "method": "nope.nope"})
        assert (await _answer(socket, 3))["error"] == "unknown_command"
        await socket.send(
            {"id": 4, "method": "subscription.subscribe", "params": {"channels": ["x"]}}
        )
        assert (await _answer(socket, 4))["error"] == "invalid_argument"
        await socket.send({"action": "ping"})
        assert (await socket.receive_type("pong"))["v"] == 1
    finally:
        await socket.connection.close()


async def test_a_foreign_thread_is_not_found(stack: LocalStack, thread_id: str) -> None:
    socket = Socket(
        await websockets.connect(_thread_url(stack, thread_id), additional_headers=auth("bob"))
    )
    try:
        await socket.send(
            {"id": 1, "method": "subscription.subscribe", "params": {"channels": ["values"]}}
        )
        answer = await _answer(socket, 1)
        assert answer["type"] == "error" and answer["error"] == "no_such_run"
    finally:
        await socket.connection.close()


async def test_the_sdk_transport_pointed_at_the_gateway_endpoint(stack: LocalStack) -> None:
    """How an app reaches a deployed stack: HTTP commands on the function URL, events on
    the WebSocket stage URL (no per-thread path) via the transport's ``connect`` option."""
    thread_id = str(uuid.uuid4())
    connect = gateway_connect(stack.ws_url, query={"token": "alice"})
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice")) as http:
        transport = ProtocolWebSocketTransport(client=http, thread_id=thread_id, connect=connect)
        started = await transport.send_command(
            {
                "id": 1,
                "method": "run.start",
                "params": {"assistant_id": "agent", "input": user_message("hey")},
            }
        )
        assert started is not None and started["type"] == "success", started
        handle = transport.open_event_stream({"channels": ["lifecycle", "messages"], "since": None})
        await asyncio.wait_for(handle.ready, TIMEOUT)
        frames = await asyncio.wait_for(_until_root_end(handle.events), TIMEOUT)
        await handle.close()
        await transport.close()
    assert frames[0]["method"] == "lifecycle" and frames[0]["seq"] == 1
    assert any(f["method"] == "messages" for f in frames)


async def _until_root_end(events: AsyncIterator[Any]) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async for event in events:
        if event.get("type") != "event":
            continue
        frames.append(dict(event))
        data = event["params"]["data"]
        if (
            event["method"] == "lifecycle"
            and not event["params"]["namespace"]
            and data.get("event") in ("completed", "failed", "interrupted")
        ):
            return frames
    raise AssertionError(json.dumps(frames[-3:]))
