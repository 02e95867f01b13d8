"""Where a run's events become an HTTP body: SSE frames for ``/stream``, one JSON for ``/wait``.

The route asks the run service to stream a run into a :class:`QueueSink` and returns a
``StreamingResponse`` over one of the generators below. Each generator reads the queue, keeps the connection alive while the run is quiet, and in
``finally`` detaches the sink and reports a client that left early. Iteration may end by
cancellation (the client went away) or by an exception from ``send``, so ``finally`` only
does non-blocking work: slow follow-ups (cancelling the run) are scheduled, not awaited.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from lambdagraph.engine import QueueSink, RunResult
from lambdagraph.protocol.events import Event
from lambdagraph.protocol.sse import dumps, encode_comment, encode_event
from lambdagraph.store.records import Run

logger = logging.getLogger(__name__)


def run_path(run: Run) -> str:
    """Where the run lives in the API (relative, as LangGraph Server's headers give it)."""
    return f"/threads/{run['thread_id']}/runs/{run['run_id']}"


def _located(run: Run, rejoin: str) -> dict[str, str]:
    # A stateless run's records go with its temporary thread: there is nothing to rejoin,
    # so no Location; Content-Location still names the run while it runs (the SDK reads it).
    base = run_path(run)
    located = {"Content-Location": base}
    if not run.get("temporary"):
        located["Location"] = f"{base}/{rejoin}"
    return located


def stream_headers(run: Run) -> dict[str, str]:
    """Headers of a run's SSE response: where to rejoin it and where the run lives."""
    return {
        **_located(run, "stream"),
        "Cache-Control": "no-store",
        # nginx and some proxies buffer responses unless told not to.
        "X-Accel-Buffering": "no",
    }


def wait_headers(run: Run) -> dict[str, str]:
    """Headers of a ``/wait`` response, as LangGraph Server sends them."""
    return _located(run, "join")


async def _next_events(sink: QueueSink, heartbeat: float) -> list[Event | None] | None:
    """Every event queued now (waiting up to ``heartbeat`` for one); ``None`` on silence."""
    try:
        first = await asyncio.wait_for(sink.queue.get(), heartbeat)
    except TimeoutError:
        return None
    batch = [first]
    while first is not None and not sink.queue.empty():
        item = sink.queue.get_nowait()
        batch.append(item)
        if item is None:
            break
    return batch


async def sse_body(
    sink: QueueSink, *, heartbeat: float, on_gone: Callable[[], None] | None = None
) -> AsyncIterator[bytes]:
    """SSE frames for every event the run sends, ``: heartbeat`` comments while it is quiet.

    Args:
        sink: the run's queue; ``None`` in it marks the end of the run's stream.
        heartbeat: longest silence, in seconds, before a heartbeat comment.
        on_gone: called (without blocking) when the client leaves before the run's end.
    """
    finished = False
    try:
        while not finished:
            batch = await _next_events(sink, heartbeat)
            if batch is None:
                yield encode_comment("heartbeat")
                continue
            frames = []
            for event in batch:
                if event is None:
                    finished = True
                    break
                frames.append(encode_event(event))
            if frames:
                yield b"".join(frames)
    finally:
        sink.detach()
        if not finished and on_gone is not None:
            on_gone()


async def wait_body(
    sink: QueueSink,
    *,
    heartbeat: float,
    fallback: Callable[[], Awaitable[Any]],
    on_gone: Callable[[], None] | None = None,
) -> AsyncIterator[bytes]:
    """The run's result as one JSON document, preceded by newlines while the run works.

    Leading whitespace keeps proxies from idling the connection out and is ignored by JSON
    parsers. When the run sent no values (cancelled early), ``fallback`` supplies the
    thread's current values.
    """
    result = RunResult()
    finished = False
    try:
        while not finished:
            batch = await _next_events(sink, heartbeat)
            if batch is None:
                yield b"\n"
                continue
            for event in batch:
                if event is None:
                    finished = True
                    break
                result.absorb(event)
        body = result.body()
        if body is None:
            body = await fallback()
        yield dumps(body)
    finally:
        sink.detach()
        if not finished and on_gone is not None:
            on_gone()
