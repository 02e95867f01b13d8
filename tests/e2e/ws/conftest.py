"""The local stack with its WebSocket gateway, and a raw ``websockets`` helper for tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.auth import TokenIsUser
from tests.conftest import Tables
from tests.e2e.conftest import stack_settings

TIMEOUT = 20.0




@pytest.fixture
def settings(tables: Tables) -> Settings:
    return stack_settings(tables, scripted_delay_ms=5)


@pytest.fixture
def stack(settings: Settings) -> Iterator[LocalStack]:
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


class Socket:
    """A raw WebSocket connection speaking JSON frames, with deadlines on every receive."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[dict[str, Any]] = []

    async def send(self, frame: Any) -> None:
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def receive(self) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), TIMEOUT)
        message: dict[str, Any] = json.loads(raw)
        self.frames.append(message)
        return message

    async def receive_type(self, kind: str) -> dict[str, Any]:
        """The next message of ``kind`` (others are kept in ``frames``)."""
        while True:
            message = await self.receive()
            if message["type"] == kind:
                return message

    async def until_ended(self, run_id: str) -> list[dict[str, Any]]:
        """Every message up to and including this run's ``run.ended``."""
        seen = []
        while True:
            message = await self.receive()
            seen.append(message)
            if message["type"] == "run.ended" and message["run_id"] == run_id:
                return seen


async def connect(stack: LocalStack, user: str = "alice") -> Socket:
    return Socket(await websockets.connect(f"{stack.ws_url}?token={user}"))


@pytest.fixture
async def alice(stack: LocalStack) -> AsyncIterator[Socket]:
    socket = await connect(stack)
    yield socket
    await socket.connection.close()


def run_frame(text: str, request_id: str = "req-1", **fields: Any) -> dict[str, Any]:
    return {
        "action": "run",
        "request_id": request_id,
        "assistant_id": "agent",
        "input": {"messages": [{"role": "user", "content": text}]},
        **fields,
    }


def events_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for m in messages if m["type"] == "events" for event in m["events"]]


def streamed_text(events: list[dict[str, Any]]) -> str:
    """The AI text of the ``messages`` events (tool calls and other messages skipped)."""
    return "".join(
        e["data"][0]["content"]
        for e in events
        if e["event"] == "messages"
        and e["data"][0]["type"] == "AIMessageChunk"
        and isinstance(e["data"][0]["content"], str)
    )


def expected_count_text(n: int) -> str:
    return "1" + "".join(f" {i}" for i in range(2, n + 1))
