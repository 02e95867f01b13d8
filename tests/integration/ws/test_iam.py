"""IAM auth on the WebSocket ``$connect`` route: no authorizer function runs, so the ``ws``
function reads the caller from ``$connect``'s ``requestContext.identity``, records it with
the connection, and later events (which carry no authorizer context) are that user."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from lambdagraph.settings import Settings
from lambdagraph.store.records import Run
from lambdagraph.wiring import build_ws_api
from lambdagraph.ws.api import WebSocketApi
from tests.conftest import Tables, load_event
from tests.iam_contexts import user_arn, websocket_identity
from tests.unit.ws.fakes import FakeManagementClient

ALICE, BOB = user_arn("alice"), user_arn("bob")


@pytest.fixture
def client() -> FakeManagementClient:
    return FakeManagementClient()


@pytest.fixture
def started() -> list[Run]:
    return []


@pytest.fixture
def api(tables: Tables, client: FakeManagementClient, started: list[Run]) -> WebSocketApi:
    settings = Settings(
        auth_mode="iam",
        app_table=tables.app,
        checkpoint_table=tables.checkpoints,
        worker_function="worker",
    )
    built = build_ws_api(settings, client_factory=lambda endpoint: client)

    async def hand_to_worker(run: Run) -> None:
        started.append(run)

    cast(Any, built.runs).hand_to_worker = hand_to_worker
    return built


def connect(arn: str | None, connection_id: str) -> dict[str, Any]:
    """A ``$connect`` event of a route with ``AuthorizationType: AWS_IAM``."""
    event = load_event("ws_connect")
    event.pop("queryStringParameters")
    event.pop("multiValueQueryStringParameters")
    context = event["requestContext"]
    context.pop("authorizer")
    context.update(connectionId=connection_id, identity=websocket_identity(arn))
    return event


def message(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    """A later frame: API Gateway sends no authorizer context and no IAM identity."""
    event = load_event("ws_message")
    event["body"] = json.dumps(frame)
    context = event["requestContext"]
    context.pop("authorizer")
    context.update(
        connectionId=connection_id, routeKey=str(frame["action"]), identity=websocket_identity(None)
    )
    return event


async def test_an_iam_connection_is_its_signer_for_every_later_frame(
    api: WebSocketApi, client: FakeManagementClient, started: list[Run]
) -> None:
    assert await api.handle(connect(ALICE, "conn-a")) == {"statusCode": 200}
    assert await api.connections.get_connection_owner("conn-a") == ALICE
    assert client.attempts == 0  # nothing is posted from $connect

    await api.handle(message({"action": "ping"}, "conn-a"))
    run = {"action": "run", "request_id": "r-1", "assistant_id": "agent", "input": None}
    await api.handle(message(run, "conn-a"))
    pong, accepted = client.messages("conn-a")
    assert pong == {"v": 1, "type": "pong"} and accepted["type"] == "run.accepted"
    assert [r["owner"] for r in started] == [ALICE]

    assert await api.handle(connect(BOB, "conn-b")) == {"statusCode": 200}
    await api.handle(message({"action": "cancel", "run_id": accepted["run_id"]}, "conn-b"))
    [refused] = client.messages("conn-b")
    assert refused["code"] == "run_not_found"  # another signer's run does not exist for bob


async def test_an_unsigned_connect_is_refused_and_records_nothing(api: WebSocketApi) -> None:
    assert (await api.handle(connect(None, "conn-x")))["statusCode"] == 401
    assert await api.connections.get_connection_owner("conn-x") is None


async def test_a_frame_from_an_unrecorded_connection_is_unauthorized(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    await api.handle(message({"action": "ping"}, "never-connected"))
    [error] = client.messages("never-connected")
    assert error["code"] == "unauthorized"


async def test_disconnect_forgets_the_connection(api: WebSocketApi) -> None:
    await api.handle(connect(ALICE, "conn-a"))
    disconnect = load_event("ws_disconnect")
    disconnect["requestContext"].pop("authorizer", None)
    disconnect["requestContext"]["connectionId"] = "conn-a"
    assert await api.handle(disconnect) == {"statusCode": 200}
    assert await api.connections.get_connection_owner("conn-a") is None


async def test_without_iam_mode_an_identity_block_is_not_trusted(
    tables: Tables, client: FakeManagementClient
) -> None:
    settings = Settings(
        app_table=tables.app, checkpoint_table=tables.checkpoints, worker_function="worker"
    )
    api = build_ws_api(settings, client_factory=lambda endpoint: client)
    assert (await api.handle(connect(ALICE, "conn-a")))["statusCode"] == 401
