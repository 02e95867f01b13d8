"""IAM mode through the real HTTP app: the function URL's request context as the Lambda
Web Adapter forwards it (``x-amzn-request-context``), and the HTTP API event through
Mangum, as the ``api`` function serves it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from mangum import Mangum

from lambdagraph.settings import Settings
from lambdagraph.wiring import build_http_app
from tests.conftest import Tables
from tests.iam_contexts import function_url_context, http_api_event, user_arn

ALICE, BOB = user_arn("alice"), user_arn("bob")


@pytest.fixture
def app(tables: Tables) -> FastAPI:
    settings = Settings(
        auth_mode="iam",
        app_table=tables.app,
        checkpoint_table=tables.checkpoints,
        checkpoint_bucket=tables.bucket,
        worker_function="lg-worker",
        scripted_delay_ms=0,
    )
    return build_http_app(settings)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fn-url") as client:
        yield client


def signed_by(arn: str | None, path: str = "/threads") -> dict[str, str]:
    """The header the Web Adapter adds: the function URL event's requestContext as JSON."""
    return {"x-amzn-request-context": json.dumps(function_url_context(arn, path))}


async def test_the_signer_owns_what_they_create_and_nobody_else_sees_it(
    http: httpx.AsyncClient,
) -> None:
    created = await http.post("/threads", json={}, headers=signed_by(ALICE))
    assert created.status_code == 200, created.text
    thread_id = created.json()["thread_id"]
    path = f"/threads/{thread_id}"
    assert (await http.get(path, headers=signed_by(ALICE, path))).status_code == 200
    foreign = await http.get(path, headers=signed_by(BOB, path))
    assert foreign.status_code == 404
    listed = await http.post("/threads/search", json={}, headers=signed_by(BOB, "/threads/search"))
    assert listed.status_code == 200 and listed.json() == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        signed_by(None),
        {"x-amzn-request-context": "not json"},
        {"authorization": "Bearer alice"},
    ],
    ids=["nothing", "unsigned-function-url", "garbled-context", "a-bearer-token"],
)
async def test_a_request_without_an_iam_principal_is_401(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await http.post("/threads", json={}, headers=headers)
    assert response.status_code == 401
    assert "SigV4" in response.json()["detail"]
    assert (await http.get("/ok")).status_code == 200  # health checks stay open


def invoke(handler: Mangum, event: dict[str, Any]) -> dict[str, Any]:
    return handler(event, _Context())  # type: ignore[arg-type]


class _Context:
    function_name = "lg-api"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def test_the_http_api_iam_authorizer_context_reaches_the_app_through_mangum(app: FastAPI) -> None:
    handler = Mangum(app, lifespan="off")
    created = invoke(handler, http_api_event(ALICE, "POST", "/threads", "{}"))
    assert created["statusCode"] == 200, created
    thread_id = json.loads(created["body"])["thread_id"]
    path = f"/threads/{thread_id}"
    assert invoke(handler, http_api_event(ALICE, "GET", path))["statusCode"] == 200
    assert invoke(handler, http_api_event(BOB, "GET", path))["statusCode"] == 404
    assert invoke(handler, http_api_event(None, "GET", path))["statusCode"] == 401


def test_agent_stream_commands_answer_through_mangum_as_the_api_function_serves_them(
    app: FastAPI,
) -> None:
    handler = Mangum(app, lifespan="off")
    created = invoke(handler, http_api_event(ALICE, "POST", "/threads", "{}"))
    thread_id = json.loads(created["body"])["thread_id"]
    path = f"/threads/{thread_id}/commands"
    command = json.dumps({"id": 7, "method": "state.get", "params": {}})

    answered = invoke(handler, http_api_event(ALICE, "POST", path, command))
    foreign = invoke(handler, http_api_event(BOB, "POST", path, command))
    garbage = invoke(handler, http_api_event(ALICE, "POST", path, "{not json"))

    assert answered["statusCode"] == 200, answered
    body = json.loads(answered["body"])
    assert (body["type"], body["id"], body["result"]["values"]) == ("success", 7, {})
    assert json.loads(foreign["body"])["error"] == "no_such_run"
    assert garbage["statusCode"] == 400
