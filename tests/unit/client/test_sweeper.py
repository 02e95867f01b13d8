"""The local stack's thread-expiry sweeper: it sweeps while the server lives, then stops."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from lambdagraph_client.local.sweeper import ThreadSweeper


async def test_sweeps_repeatedly_from_startup_until_shutdown_and_survives_a_failure() -> None:
    sweeps: list[int] = []
    third = asyncio.Event()

    async def sweep() -> int:
        sweeps.append(len(sweeps))
        if len(sweeps) == 1:
            raise RuntimeError("DynamoDB said no")  # the next interval tries again
        if len(sweeps) == 3:
            third.set()
        return 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    inbox: asyncio.Queue[Message] = asyncio.Queue()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await inbox.put({"type": "lifespan.startup"})
    served = asyncio.create_task(
        ThreadSweeper(app, sweep, interval=0.001)({"type": "lifespan"}, inbox.get, send)
    )
    await asyncio.wait_for(third.wait(), timeout=10)
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(served, timeout=10)

    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert len(sweeps) >= 3
    assert [t for t in asyncio.all_tasks() if t.get_name() == "lambdagraph-thread-sweeper"] == []


async def test_other_requests_pass_straight_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def never() -> int:
        raise AssertionError("no sweep outside the lifespan")

    async def receive() -> Message:
        return {}

    async def send(message: Message) -> None:
        return None

    await ThreadSweeper(app, never, interval=0.001)({"type": "http"}, receive, send)

    assert seen == ["http"]
