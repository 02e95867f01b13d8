"""The async saver keeps the event loop free while boto3 blocks."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from lambdagraph.store.checkpoint import AsyncDynamoDBSaver

DEADLINE = 5.0


class BlockingClient:
    """A DynamoDB client whose ``query`` blocks until the test releases it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def query(self, **params: Any) -> dict[str, Any]:
        self.entered.set()
        assert self.release.wait(DEADLINE), "the event loop was blocked"
        return {"Items": []}


async def test_a_blocking_call_does_not_block_the_loop() -> None:
    client = BlockingClient()
    saver = AsyncDynamoDBSaver("table", client=client)
    pending = asyncio.create_task(saver.aget_tuple({"configurable": {"thread_id": "t"}}))

    # Only possible while the call blocks a worker thread, not the loop.
    assert await asyncio.to_thread(client.entered.wait, DEADLINE)
    heartbeat = await asyncio.wait_for(asyncio.sleep(0, result="alive"), DEADLINE)
    client.release.set()

    assert heartbeat == "alive"
    assert await asyncio.wait_for(pending, DEADLINE) is None
