"""``auth_mode=jwt`` over the WebSocket API: the local gateway runs the real authorizer on
``?token=``; a bad token never opens a connection, a good one runs as its subject."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest
import websockets
from langgraph_sdk import get_client

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack, running_stack
from lambdagraph_client.websocket import WebSocketClient
from lambdagraph_client.ws_chat import run_chat
from tests.e2e.ws.conftest import Socket, expected_count_text, run_frame, streamed_text
from tests.oidc import AUDIENCE, IssuerServer, forged_tokens, issuer_server
from tests.unit.auth.test_jwt import REFUSALS


@pytest.fixture
def server() -> Iterator[IssuerServer]:
    with issuer_server() as running:
        yield running


@pytest.fixture
def stack(settings: Settings, server: IssuerServer) -> Iterator[LocalStack]:
    jwt = settings.replace(auth_mode="jwt", jwt_issuer=server.issuer.url, jwt_audience=AUDIENCE)
    with running_stack(settings=jwt) as running:
        yield running


async def test_bad_tokens_never_connect(stack: LocalStack, server: IssuerServer) -> None:
    forged = forged_tokens(server)
    for kind in REFUSALS:
        token = forged[kind]
        url = stack.ws_url + (f"?token={token}" if token else "")
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(url)
        # No token: API Gateway's 401; a token the authorizer denies: 403.
        assert refused.value.response.status_code == (401 if token is None else 403), kind


async def test_an_issuer_that_is_down_refuses_the_connection(
    stack: LocalStack, server: IssuerServer
) -> None:
    server.mode = "down"
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(f"{stack.ws_url}?token={server.token()}")
    # A REQUEST authorizer that fails (not "Unauthorized", not a policy) is API Gateway's
    # 500; the authorizer cannot ask it for a 503.
    assert refused.value.response.status_code == 500
    server.mode = "ok"
    connection = await websockets.connect(f"{stack.ws_url}?token={server.token()}")
    await connection.close()


async def test_a_valid_token_runs_as_its_subject(stack: LocalStack, server: IssuerServer) -> None:
    socket = Socket(await websockets.connect(f"{stack.ws_url}?token={server.token('alice')}"))
    try:
        await socket.send(run_frame("count to 4"))
        accepted = await socket.receive_type("run.accepted")
        seen = await socket.until_ended(accepted["run_id"])
    finally:
        await socket.connection.close()
    assert streamed_text([e for m in seen if m["type"] == "events" for e in m["events"]]) == (
        expected_count_text(4)
    )
    thread = f"{stack.url}/threads/{accepted['thread_id']}"
    own = {"Authorization": f"Bearer {server.token('alice')}"}
    other = {"Authorization": f"Bearer {server.token('bob')}"}
    assert httpx.get(thread, headers=own, timeout=10).status_code == 200
    assert httpx.get(thread, headers=other, timeout=10).status_code == 404


async def test_the_python_client_passes_its_token(
    stack: LocalStack, server: IssuerServer
) -> None:
    async with WebSocketClient(stack.ws_url, token=server.token("carol")) as client:
        run = await client.run({"messages": [{"role": "user", "content": "count to 2"}]})
        events = [event async for event in client.events(run.run_id)]
        assert client.status(run.run_id) == "success" and events
    carol = get_client(url=stack.url, headers={"Authorization": f"Bearer {server.token('carol')}"})
    assert [t["thread_id"] for t in await carol.threads.search()] == [run.thread_id]


def test_the_terminal_chat_passes_its_token(
    stack: LocalStack, server: IssuerServer, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(value: object) -> bool:
        raise AssertionError("no approval expected")

    status = run_chat(stack.url, "count to 3", decide=never, out=sys.stdout, token=server.token())
    assert status == 0
    assert "1 2 3" in capsys.readouterr().out
