"""The local stack's stand-in for the deployed thread-expiry schedule.

In the cloud an EventBridge schedule invokes the worker with ``{"kind": "sweep"}`` every few
minutes (``template.yaml``); locally :class:`ThreadSweeper` runs the same sweep
(``ThreadEraser.sweep_expired``) every ``settings.thread_sweep_seconds`` on the server's
event loop, from startup to shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)


class ThreadSweeper:
    """ASGI wrapper that sweeps expired threads periodically while the server runs.

    Args:
        app: the app to serve.
        sweep: one sweep (returns how many threads it handled).
        interval: seconds between sweeps.
    """

    def __init__(self, app: ASGIApp, sweep: Callable[[], Awaitable[int]], interval: float) -> None:
        self.app = app
        self.sweep = sweep
        self.interval = interval

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        task = asyncio.create_task(self._loop(), name="lambdagraph-thread-sweeper")

        async def until_shutdown() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            return message

        try:
            await self.app(scope, until_shutdown, send)
        finally:
            task.cancel()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Exception:  # a failed sweep is retried by the next one
                logger.exception("The thread-expiry sweep failed; retrying next interval")
