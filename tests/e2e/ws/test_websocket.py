"""The WebSocket API end to end: ``websockets`` clients against the local gateway emulator,
the real ``ws`` handler, the worker and the sender posting through ``@connections``."""

from __future__ import annotations

import asyncio
import json
import time

import boto3
import httpx
import pytest
import websockets
from langgraph_sdk import get_client

from lambdagraph.settings import Settings
from lambdagraph.store import schema
from lambdagraph.store.events import EventLog
from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth, eventually, user_message
from tests.e2e.ws.conftest import (
    Socket,
    connect,
    events_of,
    expected_count_text,
    run_frame,
    streamed_text,
)


async def test_run_streams_batched_events_that_reassemble(
    stack: LocalStack, alice: Socket, settings: Settings
) -> None:
    await alice.send(run_frame("count to 60"))
    accepted = await alice.receive_type("run.accepted")
    assert accepted["request_id"] == "req-1"
    messages = await alice.until_ended(accepted["run_id"])
    ended = messages[-1]
    usage = ended.pop("usage")
    assert ended == {
        "v": 1,
        "type": "run.ended",
        "run_id": accepted["run_id"],
        "status": "success",
    }
    # The run's totals, as its record holds them: the scripted model's pseudo price.
    http = get_client(url=stack.url, headers=auth("alice"))
    run = await http.runs.get(accepted["thread_id"], accepted["run_id"])
    assert usage == run["usage"] and usage["output_tokens"] > 0 and usage["cost_usd"] > 0
    events = events_of(messages)
    assert events[0]["event"] == "metadata" and events[0]["data"]["run_id"] == accepted["run_id"]
    assert all(
        m["run_id"] == accepted["run_id"] and m["thread_id"] == accepted["thread_id"]
        for m in messages
        if m["type"] == "events"
    )
    assert streamed_text(events) == expected_count_text(60)
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(set(ids))

    logged = (await EventLog(settings.app_table).read_after(accepted["run_id"], -1)).events
    tokens = [e for e in logged if e.event == "messages"]
    frames = [m for m in messages if m["type"] == "events"]
    assert len(tokens) >= 60 and len(frames) < len(tokens) / 3
    assert ids[-1] == int(logged[-1].id)  # the merged events cover the log to its last id


async def test_cancel_ends_the_run_interrupted_and_the_thread_resumes(
    stack: LocalStack, alice: Socket
) -> None:
    await alice.send(run_frame("count to 5000"))
    accepted = await alice.receive_type("run.accepted")
    await alice.receive_type("events")
    sent = time.monotonic()
    await alice.send({"action": "cancel", "run_id": accepted["run_id"]})
    ended = await alice.receive_type("run.ended")
    assert "usage" in ended  # the tokens spent until the cancel
    assert {k: v for k, v in ended.items() if k != "usage"} == {
        "v": 1,
        "type": "run.ended",
        "run_id": accepted["run_id"],
        "status": "interrupted",
    }
    assert time.monotonic() - sent < 2.0  # "within a second", with slack for a busy machine

    http = get_client(url=stack.url, headers=auth("alice"))
    run = await http.runs.get(accepted["thread_id"], accepted["run_id"])
    assert run["status"] == "interrupted"
    await alice.send(run_frame("count to 3", "req-2", thread_id=accepted["thread_id"]))
    again = await alice.receive_type("run.accepted")
    messages = await alice.until_ended(again["run_id"])
    assert messages[-1]["status"] == "success"
    assert streamed_text(events_of(messages)).endswith("1 2 3")
    state = await http.threads.get_state(accepted["thread_id"])
    texts = [m["content"] for m in state["values"]["messages"]]
    assert "count to 5000" in texts and "count to 3" in texts


async def test_reconnect_and_subscribe_resumes_without_loss_or_duplicates(
    stack: LocalStack,
) -> None:
    first = await connect(stack)
    await first.send(run_frame("count to 400"))
    accepted = await first.receive_type("run.accepted")
    seen = events_of([await first.receive_type("events"), await first.receive_type("events")])
    await first.connection.close()  # a tunnel: the app loses its connection mid-run

    second = await connect(stack)
    await second.send(
        {"action": "subscribe", "run_id": accepted["run_id"], "after": seen[-1]["id"]}
    )
    rest = events_of(await second.until_ended(accepted["run_id"]))
    await second.connection.close()
    ids = [int(e["id"]) for e in seen + rest]
    assert ids == sorted(set(ids))  # strictly increasing: nothing twice
    assert streamed_text(seen + rest) == expected_count_text(400)  # nothing lost


async def test_subscribe_to_a_finished_run_replays_the_log(
    stack: LocalStack, alice: Socket
) -> None:
    await alice.send(run_frame("count to 20"))
    accepted = await alice.receive_type("run.accepted")
    live = events_of(await alice.until_ended(accepted["run_id"]))
    late = await connect(stack)
    await late.send({"action": "subscribe", "run_id": accepted["run_id"], "after": live[0]["id"]})
    replay = await late.until_ended(accepted["run_id"])
    await late.connection.close()
    assert replay[-1]["status"] == "success"
    assert streamed_text(events_of(replay)) == expected_count_text(20)
    assert all(int(e["id"]) > int(live[0]["id"]) for e in events_of(replay))


async def test_a_gone_connection_is_dropped_and_the_run_goes_on(
    stack: LocalStack, settings: Settings
) -> None:
    starter = await connect(stack)
    await starter.send(run_frame("count to 300"))
    accepted = await starter.receive_type("run.accepted")
    watcher = await connect(stack, "alice")
    await watcher.send({"action": "subscribe", "run_id": accepted["run_id"]})
    await watcher.receive_type("events")
    await starter.connection.close()  # vanishes; API Gateway now answers 410 for it

    messages = await watcher.until_ended(accepted["run_id"])
    await watcher.connection.close()
    assert messages[-1]["status"] == "success"
    assert streamed_text(events_of(watcher.frames)).endswith(" 300")
    item = boto3.client("dynamodb").get_item(
        TableName=settings.app_table,
        Key=schema.run_key(accepted["thread_id"], accepted["run_id"]),
        ConsistentRead=True,
    )["Item"]
    subscribers = item.get(schema.SUBSCRIBERS_ATTRIBUTE, {}).get("SS", [])
    assert len(subscribers) == 1  # the watcher's entry only: the gone starter was removed


async def test_a_repeated_request_id_starts_nothing_new(stack: LocalStack, alice: Socket) -> None:
    await alice.send(run_frame("count to 3", "same-id"))
    first = await alice.receive_type("run.accepted")
    await alice.until_ended(first["run_id"])
    other = await connect(stack)  # a retry after a reconnect: another connection, same id
    await other.send(run_frame("count to 3", "same-id"))
    second = await other.receive_type("run.accepted")
    await other.connection.close()
    assert (second["run_id"], second["thread_id"]) == (first["run_id"], first["thread_id"])
    runs = await get_client(url=stack.url, headers=auth("alice")).runs.list(first["thread_id"])
    assert [r["run_id"] for r in runs] == [first["run_id"]]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("this is not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ({"action": "dance"}, "unknown_action"),
        ({"nothing": True}, "unknown_action"),
        ({"action": "run", "assistant_id": "agent"}, "invalid_request"),
        (
            {"action": "run", "request_id": "q", "assistant_id": "agent", "stream_mode": ["bogus"]},
            "invalid_request",
        ),
        ({"action": "run", "request_id": "q", "assistant_id": "nope"}, "assistant_not_found"),
        (
            # A well-formed id of no thread (a malformed one is test_same_rules' business).
            {
                "action": "run",
                "request_id": "q",
                "assistant_id": "agent",
                "thread_id": "5b3c1a9e-0000-4000-8000-000000000000",
            },
            "thread_not_found",
        ),
        ({"action": "cancel"}, "invalid_request"),
        ({"action": "cancel", "run_id": "1f000000-0000-6000-8000-000000000000"}, "run_not_found"),
        ({"action": "subscribe", "run_id": 42}, "invalid_request"),
    ],
)
async def test_bad_frames_get_an_error_code_and_the_connection_stays_open(
    alice: Socket, frame: object, code: str
) -> None:
    await alice.send(frame)  # type: ignore[arg-type]
    error = await alice.receive()
    assert error["type"] == "error" and error["code"] == code and error["message"]
    if isinstance(frame, dict) and frame.get("request_id"):
        assert error["request_id"] == frame["request_id"]
    await alice.send({"action": "ping"})
    assert await alice.receive() == {"v": 1, "type": "pong"}


async def test_another_users_run_is_not_found(stack: LocalStack, alice: Socket) -> None:
    await alice.send(run_frame("count to 200"))
    accepted = await alice.receive_type("run.accepted")
    bob = await connect(stack, "bob")
    for action in ("cancel", "subscribe"):
        await bob.send({"action": action, "run_id": accepted["run_id"], "after": "-1"})
        error = await bob.receive()
        assert (error["type"], error["code"]) == ("error", "run_not_found")
    await bob.send({"action": "subscribe", "run_id": accepted["run_id"], "after": "x"})
    assert (await bob.receive())["code"] == "run_not_found"
    await bob.connection.close()
    ended = (await alice.until_ended(accepted["run_id"]))[-1]
    assert ended["status"] == "success"  # bob's cancel did nothing


async def test_a_bad_after_is_invalid_input(stack: LocalStack, alice: Socket) -> None:
    await alice.send(run_frame("count to 2"))
    accepted = await alice.receive_type("run.accepted")
    await alice.send({"action": "subscribe", "run_id": accepted["run_id"], "after": "yesterday"})
    assert (await alice.receive_type("error"))["code"] == "invalid_input"


async def test_interrupted_over_websocket_resumed_over_sse(
    stack: LocalStack, alice: Socket
) -> None:
    await alice.send(run_frame("send an email to bob@example.com"))
    accepted = await alice.receive_type("run.accepted")
    messages = await alice.until_ended(accepted["run_id"])
    interrupts = [
        e for e in events_of(messages) if e["event"] == "updates" and "__interrupt__" in e["data"]
    ]
    assert (
        interrupts and interrupts[0]["data"]["__interrupt__"][0]["value"]["action"] == "send_email"
    )

    http = get_client(url=stack.url, headers=auth("alice"))
    assert (await http.threads.get(accepted["thread_id"]))["status"] == "interrupted"
    parts = [
        part
        async for part in http.runs.stream(
            accepted["thread_id"],
            "agent",
            command={"resume": {"approved": True}},
            stream_mode="values",
        )
    ]
    assert parts[-1].event == "values"
    assert (await http.threads.get(accepted["thread_id"]))["status"] == "idle"


async def test_interrupted_over_sse_resumed_over_websocket(
    stack: LocalStack, alice: Socket
) -> None:
    http = get_client(url=stack.url, headers=auth("alice"))
    thread = await http.threads.create()
    async for _ in http.runs.stream(
        thread["thread_id"],
        "agent",
        input=user_message("send an email to bob@example.com"),
        stream_mode="updates",
    ):
        pass
    assert (await http.threads.get(thread["thread_id"]))["status"] == "interrupted"
    await alice.send(
        {
            "action": "run",
            "request_id": "resume",
            "assistant_id": "agent",
            "thread_id": thread["thread_id"],
            "command": {"resume": {"approved": True}},
        }
    )
    accepted = await alice.receive_type("run.accepted")
    messages = await alice.until_ended(accepted["run_id"])
    assert messages[-1]["status"] == "success"
    assert (await http.threads.get(thread["thread_id"]))["status"] == "idle"
    state = await http.threads.get_state(thread["thread_id"])
    assert any(
        m["type"] == "tool" and m["name"] == "send_email" for m in state["values"]["messages"]
    )


@pytest.mark.parametrize(("query", "status"), [("", 401), ("?token=mallory", 403)])
async def test_the_authorizer_refuses_the_handshake(
    stack: LocalStack, query: str, status: int
) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(stack.ws_url + query)
    assert refused.value.response.status_code == status


async def test_post_to_an_unknown_connection_is_gone(stack: LocalStack) -> None:
    client = boto3.client("apigatewaymanagementapi", endpoint_url=stack.url + "/ws")
    with pytest.raises(client.exceptions.GoneException):
        await asyncio.to_thread(client.post_to_connection, ConnectionId="nobody=", Data=b"{}")
    socket = await connect(stack)
    await socket.send({"action": "ping"})
    await socket.receive()
    [connection_id] = [c for c in _gateway_connections(stack)]
    await asyncio.to_thread(
        client.post_to_connection, ConnectionId=connection_id, Data=b'{"hello": 1}'
    )
    assert json.loads(await socket.connection.recv()) == {"hello": 1}
    info = await asyncio.to_thread(client.get_connection, ConnectionId=connection_id)
    assert info["Identity"]["SourceIp"] == "127.0.0.1"
    with pytest.raises(client.exceptions.PayloadTooLargeException):
        await asyncio.to_thread(
            client.post_to_connection, ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1)
        )
    await asyncio.to_thread(client.delete_connection, ConnectionId=connection_id)
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(socket.connection.recv(), 5)


def _gateway_connections(stack: LocalStack) -> list[str]:
    items = boto3.client("dynamodb").scan(TableName=stack.settings.app_table)["Items"]
    return [i["connection_id"]["S"] for i in items if i["SK"]["S"] == schema.CONNECTION_SK]


async def test_a_client_message_over_128_kb_closes_with_1009(alice: Socket) -> None:
    await alice.send({"action": "ping", "pad": "x" * (128 * 1024)})
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(alice.connection.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_many_runs_at_once_on_one_stack(stack: LocalStack) -> None:
    sockets = [await connect(stack, f"user{i}") for i in range(10)]
    for i, socket in enumerate(sockets):
        await socket.send(run_frame("count to 5", f"many-{i}"))
    for socket in sockets:
        accepted = await socket.receive_type("run.accepted")
        ended = (await socket.until_ended(accepted["run_id"]))[-1]
        assert ended["status"] == "success"
        await socket.connection.close()


async def test_a_deleted_threads_runs_cannot_be_subscribed_to(
    stack: LocalStack, alice: Socket
) -> None:
    await alice.send(run_frame("count to 5"))
    accepted = await alice.receive_type("run.accepted")
    await alice.until_ended(accepted["run_id"])
    sdk = get_client(url=stack.url, headers=auth("alice"))
    tid = accepted["thread_id"]

    await sdk.threads.delete(tid)
    await alice.send({"action": "subscribe", "run_id": accepted["run_id"], "after": "-1"})
    gone = await alice.receive()
    await alice.send(run_frame("hello again", request_id="req-2", thread_id=tid))
    refused = await alice.receive()

    assert (gone["type"], gone["code"]) == ("error", "run_not_found")
    assert (refused["type"], refused["code"]) == ("error", "thread_not_found")

    async def recreated() -> bool:  # the id is free once the erasure is done
        async with httpx.AsyncClient(base_url=stack.url) as http:
            answer = await http.post("/threads", json={"thread_id": tid}, headers=auth("alice"))
        assert answer.status_code in (200, 409)
        return answer.status_code == 200

    await eventually(recreated, "the deleted thread to be erased")
    await alice.send({"action": "subscribe", "run_id": accepted["run_id"], "after": "-1"})
    assert (await alice.receive())["code"] == "run_not_found"
