"""API Gateway's size limits on the emulator: a frame over 32 KB or a message over 128 KB
closes the connection with 1009; a larger message split into 32 KB frames goes through."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from lambdagraph.protocol.ws import FRAME_BYTES, MESSAGE_BYTES
from lambdagraph_client.local.server import LocalStack
from lambdagraph_client.websocket import WebSocketClient
from tests.e2e.ws.conftest import Socket, expected_count_text


def _ping(size: int) -> str:
    """A ``ping`` frame of exactly ``size`` bytes."""
    frame = json.dumps({"action": "ping", "pad": ""})
    return json.dumps({"action": "ping", "pad": "x" * (size - len(frame))})


def _fragments(text: str) -> list[str]:
    return [text[i : i + FRAME_BYTES] for i in range(0, len(text), FRAME_BYTES)]


async def _close_code(alice: Socket) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(alice.connection.recv(), 5)
    return None if closed.value.rcvd is None else closed.value.rcvd.code


async def test_a_40_kb_frame_closes_with_1009_though_the_message_is_allowed(
    alice: Socket,
) -> None:
    await alice.connection.send(_ping(40 * 1024))

    assert await _close_code(alice) == 1009


async def test_a_frame_of_32_kb_is_answered(alice: Socket) -> None:
    await alice.connection.send(_ping(FRAME_BYTES))

    assert (await alice.receive())["type"] == "pong"


async def test_a_message_in_32_kb_frames_is_answered_up_to_128_kb(alice: Socket) -> None:
    await alice.connection.send(_fragments(_ping(MESSAGE_BYTES)))

    assert (await alice.receive())["type"] == "pong"


async def test_a_message_over_128_kb_in_32_kb_frames_closes_with_1009(alice: Socket) -> None:
    await alice.connection.send(_fragments(_ping(MESSAGE_BYTES + 1)))

    assert await _close_code(alice) == 1009


async def test_the_python_client_sends_a_100_kb_run_in_fragments(stack: LocalStack) -> None:
    text = "count to 3 " + "." * (100 * 1024)
    async with WebSocketClient(stack.ws_url, token="alice") as client:
        run = await client.run({"messages": [{"role": "user", "content": text}]})
        tokens = [
            e.data[0]["content"]
            async for e in client.events(run.run_id)
            if e.event == "messages" and e.data[0]["type"] == "AIMessageChunk"
        ]

    assert client.status(run.run_id) == "success"
    assert "".join(tokens) == expected_count_text(3)
