"""The package's WebSocket client and ``lambdagraph chat --ws`` against the local stack."""

from __future__ import annotations

import logging

import pytest

from lambdagraph_client.cli import main
from lambdagraph_client.local.server import LocalStack
from lambdagraph_client.websocket import WebSocketClient, WebSocketError
from lambdagraph_client.ws_chat import websocket_url
from tests.e2e.ws.conftest import expected_count_text


def text_of(events: list) -> str:  # type: ignore[type-arg]
    return "".join(
        e.data[0]["content"]
        for e in events
        if e.event == "messages" and e.data[0]["type"] == "AIMessageChunk"
    )


async def test_client_runs_and_resumes_after_losing_its_connection(stack: LocalStack) -> None:
    async with WebSocketClient(stack.ws_url, token="alice") as client:
        await client.ping()
        run = await client.run({"messages": [{"role": "user", "content": "count to 300"}]})
        events = []
        async for event in client.events(run.run_id):
            events.append(event)
            if len(events) == 3:
                assert client.connection is not None
                await client.connection.close()  # the tunnel
        assert client.reconnects == 1
        assert client.status(run.run_id) == "success"
    ids = [int(e.id) for e in events]
    assert ids == sorted(set(ids))
    assert text_of(events) == expected_count_text(300)


async def test_client_cancel_and_errors(stack: LocalStack) -> None:
    async with WebSocketClient(stack.ws_url, token="alice") as client:
        with pytest.raises(WebSocketError) as error:
            await client.run(None, assistant_id="nope")
        assert error.value.code == "assistant_not_found"
        run = await client.run({"messages": [{"role": "user", "content": "count to 5000"}]})
        async for event in client.events(run.run_id):
            if event.event == "messages":
                await client.cancel(run.run_id)
        assert client.status(run.run_id) == "interrupted"


@pytest.fixture(autouse=True)
def keep_logging_config(monkeypatch: pytest.MonkeyPatch) -> None:
    # main() configures the root logger on the captured stderr, which closes with the test
    # while the stack's threads may still log; leave logging as pytest set it up.
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)


def test_chat_over_websocket_approves_the_email(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "chat",
            "--ws",
            "--url",
            stack.url,
            "--token",
            "alice",
            "--yes",
            "send an email to bob@example.com",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "approval needed: send_email" in out and "approved" in out
    assert "<- send_email" in out


def test_websocket_url() -> None:
    assert websocket_url("http://127.0.0.1:8000") == "ws://127.0.0.1:8000/ws"
    assert websocket_url("https://x.example/") == "wss://x.example/ws"
    assert (
        websocket_url("wss://abc.execute-api.us-east-1.amazonaws.com/v1")
        == "wss://abc.execute-api.us-east-1.amazonaws.com/v1"
    )


def test_chat_refused_says_why(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--ws", "--url", stack.url, "--no", "hi"]) == 1
    assert "401" in capsys.readouterr().err
