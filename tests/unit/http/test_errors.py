"""Error mapping: our errors → status and detail; server faults → a generic 500, logged."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from lambdagraph.errors import (
    ConfigurationError,
    InvalidInput,
    ThreadBusy,
    ThreadNotFound,
    Unauthorized,
    Unavailable,
)
from lambdagraph.http.errors import (
    BodyLimitMiddleware,
    ServerFaultMiddleware,
    describe_validation_errors,
    install_error_handlers,
    status_for,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("x"), 422),
        (Unauthorized("x"), 401),
        (ThreadNotFound("t"), 404),
        (ThreadBusy("t"), 409),
        (Unavailable("x"), 503),
        (ConfigurationError("x"), 500),
    ],
)
def test_status_for_maps_each_error_family(error: Exception, status: int) -> None:
    assert status_for(error) == status  # type: ignore[arg-type]


def test_validation_errors_read_as_one_line_without_union_noise() -> None:
    errors = [
        {"type": "literal_error", "loc": ("body", "interrupt_before", "literal['*']"),
         "msg": "Input should be '*'"},
        {"type": "value_error", "loc": ("body",), "msg": "Value error, Provide either"},
        {"type": "missing", "loc": ("body", "assistant_id"), "msg": "Field required"},
    ]

    assert describe_validation_errors(errors) == (
        "interrupt_before: Input should be '*'; Provide either; assistant_id: Field required"
    )


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/missing")
    async def missing() -> None:
        raise ThreadNotFound("abc")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    @app.post("/echo")
    async def echo(body: dict[str, int]) -> dict[str, int]:
        return body

    app.add_middleware(BodyLimitMiddleware, limit=64)
    app.add_middleware(ServerFaultMiddleware)
    return app


def test_our_errors_become_their_status_with_a_detail() -> None:
    response = TestClient(_app()).get("/missing")

    assert response.status_code == 404
    assert response.json() == {"detail": "Thread abc not found"}


def test_a_server_fault_is_logged_and_answered_without_internal_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="lambdagraph.http.errors"):
        response = TestClient(_app()).get("/boom")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert "secret" not in response.text
    assert any(record.exc_info for record in caplog.records)


def test_bodies_over_the_limit_get_413_declared_or_chunked() -> None:
    client = TestClient(_app())

    declared = client.post("/echo", content=b"{" + b" " * 100 + b"}",
                           headers={"content-type": "application/json"})
    chunked = client.post("/echo", content=iter([b"{", b" " * 100, b"}"]),
                          headers={"content-type": "application/json"})

    assert declared.status_code == 413
    assert chunked.status_code == 413
    assert "limit of 64 bytes" in chunked.json()["detail"]


def test_unknown_routes_answer_in_the_same_shape() -> None:
    response = TestClient(_app()).get("/nowhere")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_a_client_that_leaves_while_its_body_is_read_is_no_server_fault(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def reads_body(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()  # the client is gone: ClientDisconnect

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/threads/t/stream/events",
                    "headers": []}
    with caplog.at_level(logging.INFO, logger="lambdagraph.http.errors"):
        await ServerFaultMiddleware(reads_body)(scope, receive, send)

    assert sent == []  # nothing written to a connection that is gone
    assert [r.levelno for r in caplog.records] == [logging.INFO]

