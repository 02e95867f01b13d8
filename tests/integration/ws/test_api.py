"""The ``ws`` handler on captured API Gateway events, over moto tables, with a fake
management client and a fake worker starter."""

from __future__ import annotations

import copy
import json
import time
from typing import Any, cast

import boto3
import pytest

from lambdagraph.settings import Settings
from lambdagraph.store import schema
from lambdagraph.store.records import Run
from lambdagraph.wiring import build_ws_api
from lambdagraph.ws.api import WebSocketApi
from tests.conftest import Tables, load_event
from tests.unit.ws.fakes import FakeManagementClient


class FakeStarter:
    def __init__(self) -> None:
        self.started: list[Run] = []

    async def start_background(self, run: Run) -> None:
        self.started.append(run)


@pytest.fixture
def client() -> FakeManagementClient:
    return FakeManagementClient()


@pytest.fixture
def starter() -> FakeStarter:
    return FakeStarter()


@pytest.fixture
def api(tables: Tables, client: FakeManagementClient, starter: FakeStarter) -> WebSocketApi:
    settings = Settings(
        app_table=tables.app, checkpoint_table=tables.checkpoints, worker_function="worker"
    )
    built = build_ws_api(settings, client_factory=lambda endpoint: client)
    cast(Any, built.runs).hand_to_worker = starter.start_background
    return built


def message(body: str, route_key: str = "$default", **context: Any) -> dict[str, Any]:
    event = load_event("ws_message")
    event["body"] = body
    event["requestContext"].update(routeKey=route_key, **context)
    return event


def connection_id() -> str:
    return str(load_event("ws_message")["requestContext"]["connectionId"])


def connection_item(table: str) -> dict[str, Any] | None:
    out = boto3.client("dynamodb").get_item(
        TableName=table, Key=schema.connection_key(connection_id()), ConsistentRead=True
    )
    item: dict[str, Any] | None = out.get("Item")
    return item


async def test_connect_records_the_user_and_posts_nothing(
    api: WebSocketApi, tables: Tables, client: FakeManagementClient
) -> None:
    event = load_event("ws_connect")
    event["requestContext"]["authorizer"] = {"principalId": "alice", "user_id": "alice"}
    assert await api.handle(event) == {"statusCode": 200}
    item = connection_item(tables.app)
    assert item is not None and item["owner"]["S"] == "alice"
    ttl = int(item[schema.TTL_ATTRIBUTE]["N"]) - time.time()
    assert 2 * 3600 < ttl <= 2 * 3600 + 900
    assert client.attempts == 0

    disconnect = load_event("ws_disconnect")
    assert await api.handle(disconnect) == {"statusCode": 200}
    assert connection_item(tables.app) is None


async def test_connect_without_an_authorizer_user_is_refused(
    api: WebSocketApi, tables: Tables
) -> None:
    event = load_event("ws_connect")
    event["requestContext"].pop("authorizer", None)
    assert (await api.handle(event))["statusCode"] == 401
    assert connection_item(tables.app) is None


async def test_ping_answers_pong(api: WebSocketApi, client: FakeManagementClient) -> None:
    assert await api.handle(load_event("ws_message")) == {"statusCode": 200}
    assert client.messages(connection_id()) == [{"v": 1, "type": "pong"}]


async def test_default_route_with_text_is_bad_json(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    await api.handle(load_event("ws_default"))
    [error] = client.messages(connection_id())
    assert error["type"] == "error" and error["code"] == "bad_json"


async def test_unknown_route_key_answers_an_error(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    await api.handle(message("{}", route_key="chat"))
    [error] = client.messages(connection_id())
    assert error["code"] == "unknown_route"


async def test_a_message_without_a_user_is_unauthorized(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    event = message(json.dumps({"action": "ping"}), route_key="ping")
    event["requestContext"].pop("authorizer")
    await api.handle(event)
    assert client.messages(connection_id())[0]["code"] == "unauthorized"


async def test_run_is_recorded_once_per_request_id(
    api: WebSocketApi, client: FakeManagementClient, starter: FakeStarter, tables: Tables
) -> None:
    body = json.dumps(
        {
            "action": "run",
            "request_id": "r-1",
            "assistant_id": "agent",
            "input": {"messages": [{"role": "user", "content": "hi"}]},
        }
    )
    first = message(body, route_key="run")
    retry = copy.deepcopy(first)
    retry["requestContext"]["messageId"] = "another-message-id"  # API Gateway's id changes
    await api.handle(first)
    await api.handle(retry)
    accepted = client.messages(connection_id())
    assert [m["type"] for m in accepted] == ["run.accepted", "run.accepted"]
    assert accepted[0] == accepted[1]
    [run] = starter.started
    assert run["run_id"] == accepted[0]["run_id"] and run["kwargs"]["stream_mode"] == [
        "messages-tuple",
        "updates",
    ]
    records = boto3.client("dynamodb").query(
        TableName=tables.app,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": schema.IDEMPOTENCY_PK}},
    )["Items"]
    assert len(records) == 1 and records[0]["status"]["S"] == "COMPLETED"


async def test_another_user_reusing_a_request_id_gets_its_own_run(
    api: WebSocketApi, client: FakeManagementClient, starter: FakeStarter
) -> None:
    body = json.dumps(
        {"action": "run", "request_id": "r-1", "assistant_id": "agent", "input": None}
    )
    await api.handle(message(body, route_key="run"))
    await api.handle(
        message(body, route_key="run", authorizer={"principalId": "bob", "user_id": "bob"})
    )
    assert len(starter.started) == 2
    assert {r["owner"] for r in starter.started} == {"alice", "bob"}


async def test_a_deleted_threads_run_is_gone_for_every_action(
    api: WebSocketApi, client: FakeManagementClient, starter: FakeStarter
) -> None:
    first = {"action": "run", "request_id": "r-1", "assistant_id": "agent", "input": None}
    await api.handle(message(json.dumps(first), route_key="run"))
    [accepted] = client.messages(connection_id())
    run_id, thread_id = accepted["run_id"], accepted["thread_id"]
    await api.runs.store.delete_thread("alice", thread_id)  # what DELETE /threads/{tid} writes

    frames = [
        {"action": "cancel", "run_id": run_id},
        {"action": "cancel", "run_id": run_id, "thread_id": thread_id},
        {"action": "subscribe", "run_id": run_id},
        {"action": "subscribe", "run_id": run_id, "thread_id": thread_id},
        {**first, "request_id": "r-2", "thread_id": thread_id},
        {**first, "request_id": "r-3", "thread_id": thread_id, "if_not_exists": "create"},
    ]
    for frame in frames:
        await api.handle(message(json.dumps(frame), route_key=str(frame["action"])))

    answers = client.messages(connection_id())[1:]
    assert [(m["type"], m["code"]) for m in answers] == [("error", "run_not_found")] * 4 + [
        ("error", "thread_not_found")
    ] * 2
    assert len(starter.started) == 1  # only the first run, from before the delete
