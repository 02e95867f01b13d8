"""``lambdagraph chat --ws``: the terminal chat over the WebSocket API.

Same output and approval flow as the SSE chat (:mod:`lambdagraph_client.chat`), but runs go
through ``run`` actions and events arrive batched in ``events`` envelopes; a dropped
connection is resumed with ``subscribe`` by :class:`~lambdagraph_client.websocket.WebSocketClient`.
"""

from __future__ import annotations

import asyncio
from typing import Any, TextIO

from lambdagraph_client.chat import STREAM_MODES, Decide, RunPrinter
from lambdagraph_client.websocket import WebSocketClient


def websocket_url(url: str) -> str:
    """``http://host:port`` (the local stack's HTTP URL) → ``ws://host:port/ws``; a
    ``ws://``/``wss://`` URL is used as given."""
    if url.startswith(("ws://", "wss://")):
        return url
    scheme = "wss" if url.startswith("https://") else "ws"
    return f"{scheme}://{url.split('://', 1)[-1].rstrip('/')}/ws"


async def chat_over_websocket(
    url: str,
    message: str,
    *,
    decide: Decide,
    out: TextIO,
    token: str | None = None,
    thread_id: str | None = None,
    assistant_id: str = "agent",
) -> int:
    """Send ``message``, print the reply as it streams, handle approvals; the exit status."""
    request: dict[str, Any] = {"input": {"messages": [{"role": "user", "content": message}]}}
    async with WebSocketClient(websocket_url(url), token=token) as client:
        while True:
            run = await client.run(
                assistant_id=assistant_id, thread_id=thread_id, stream_mode=STREAM_MODES, **request
            )
            if thread_id is None:
                out.write(f"thread {run.thread_id}\n")
            thread_id = run.thread_id
            printer = RunPrinter(out)
            async for event in client.events(run.run_id):
                printer.consume([event])
            status = client.status(run.run_id)
            failed = status not in ("success", "interrupted", None)
            outcome = printer.finish(decide, failure=status if failed else None)
            if isinstance(outcome, int):
                return outcome
            request = outcome


def run_chat(url: str, message: str, **options: Any) -> int:
    """Synchronous wrapper for the CLI."""
    return asyncio.run(chat_over_websocket(url, message, **options))
