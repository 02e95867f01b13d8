"""The Python WebSocket client answers ``slow_consumer`` by subscribing again after its last id."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import websockets
from websockets.asyncio.server import ServerConnection

from lambdagraph.protocol import ws
from lambdagraph.ws.sender import slow_consumer
from lambdagraph_client.websocket import WebSocketClient


def events_message(ids: range) -> bytes:
    items = [{"id": str(i), "event": "custom", "data": i} for i in ids]
    return ws.encode({"v": 1, "type": "events", "run_id": "r1", "thread_id": "t1", "events": items})


async def test_a_detached_client_subscribes_again_and_misses_nothing() -> None:
    subscribes: list[dict[str, Any]] = []

    async def server(connection: ServerConnection) -> None:
        async for raw in connection:
            subscribes.append(orjson.loads(raw))
            if len(subscribes) == 1:  # the first subscription falls behind and is detached
                await connection.send(events_message(range(3)).decode())
                await connection.send(ws.encode(slow_consumer("r1", 1_000)).decode())
            else:
                await connection.send(events_message(range(3, 5)).decode())
                await connection.send(ws.encode(ws.run_ended("r1", "success")).decode())

    async with websockets.serve(server, "127.0.0.1", 0) as gateway:
        port = next(iter(gateway.sockets)).getsockname()[1]
        async with asyncio.timeout(10), WebSocketClient(f"ws://127.0.0.1:{port}") as client:
            await client.subscribe("r1")
            received = [int(event.id or -1) async for event in client.events("r1")]
    assert received == [0, 1, 2, 3, 4] and client.status("r1") == "success"
    assert [s.get("after") for s in subscribes] == [None, "2"]
    assert client.reconnects == 0
