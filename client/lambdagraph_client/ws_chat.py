"""``lambdagraph chat --ws``: the terminal chat over the WebSocket API.

Same output and approval flow as the SSE chat (:mod:`lambdagraph_client.chat`), but runs go
through ``run`` actions and events arrive batched in ``events`` envelopes; a dropped
connection is resumed with ``subscribe`` by :class:`~lambdagraph_client.websocket.WebSocketClient`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from lambdagraph_client.chat import (
    STREAM_MODES,
    Decide,
    RunPrinter,
    connect,
    converse,
    pending_interrupts,
)
from lambdagraph_client.websocket import WebSocketClient


def websocket_url(url: str) -> str:
    """``http://host:port`` (the local stack's HTTP URL) → ``ws://host:port/ws``; a
    ``ws://``/``wss://`` URL is used as given."""
    if url.startswith(("ws://", "wss://")):
        return url
    scheme = "wss" if url.startswith("https://") else "ws"
    return f"{scheme}://{url.split('://', 1)[-1].rstrip('/')}/ws"


def http_url(url: str) -> str:
    """The HTTP API beside a WebSocket URL: ``ws://host:port/ws`` → ``http://host:port`` (the
    local stack serves both on one origin); an ``http(s)://`` URL is used as given."""
    if not url.startswith(("ws://", "wss://")):
        return url
    scheme = "https" if url.startswith("wss://") else "http"
    return f"{scheme}://{url.split('://', 1)[-1].rstrip('/').removesuffix('/ws')}"


async def stream_over_websocket(
    url: str,
    request: dict[str, Any],
    *,
    out: TextIO,
    token: str | None = None,
    thread_id: str | None = None,
    assistant_id: str = "agent",
) -> tuple[str, RunPrinter, str | None]:
    """Start one run over the WebSocket API and print its events until it ends.

    Returns:
        The run's thread id, the printer that saw its events, and its final status.
    """
    async with WebSocketClient(websocket_url(url), token=token) as client:
        run = await client.run(
            assistant_id=assistant_id, thread_id=thread_id, stream_mode=STREAM_MODES, **request
        )
        if thread_id is None:
            out.write(f"thread {run.thread_id}\n")
        printer = RunPrinter(out)
        async for event in client.events(run.run_id):
            printer.consume([event])
        return run.thread_id, printer, client.status(run.run_id)


def run_chat(
    url: str,
    message: str | None,
    *,
    decide: Decide,
    out: TextIO,
    token: str | None = None,
    thread_id: str | None = None,
    assistant_id: str = "agent",
) -> int:
    """The chat over WebSocket, as the SSE chat behaves: the exit status.

    Each run gets a connection of its own and the approval prompt runs outside the event
    loop, so Ctrl-C there is a plain ``KeyboardInterrupt`` (asyncio would only cancel a
    task blocked in ``input()``). The WebSocket API has no state action, so a pending
    approval on ``thread_id`` is read from the HTTP API beside it (:func:`http_url`).
    """
    pending: Sequence[Mapping[str, object]] = []
    if thread_id is not None:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        pending = pending_interrupts(connect(http_url(url), headers=headers), thread_id)
        out.write(f"thread {thread_id}\n")
    current = {"thread_id": thread_id}

    def stream(request: dict[str, Any]) -> int | dict[str, Any]:
        tid, printer, status = asyncio.run(
            stream_over_websocket(
                url, request, out=out, token=token,
                thread_id=current["thread_id"], assistant_id=assistant_id,
            )
        )
        current["thread_id"] = tid
        failed = status not in ("success", "interrupted", None)
        return printer.finish(decide, failure=status if failed else None)

    def again() -> str | None:
        tid = current["thread_id"]
        return None if tid is None else f"lambdagraph chat --ws --thread {tid}"

    return converse(message, pending, stream, decide=decide, out=out, again=again)
