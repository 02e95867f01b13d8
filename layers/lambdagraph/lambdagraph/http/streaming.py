"""Where a run's events become an HTTP body: SSE frames for ``/stream``, one JSON for ``/wait``.

The route builds a bounded :class:`QueueSink` (:func:`response_sink`), asks the run service
to stream a run into it and returns a ``StreamingResponse`` over one of the generators
below. Each generator reads the queue, writes a heartbeat whenever the wire has been silent
for the heartbeat interval, and in ``finally`` detaches the sink and reports a client that
left early. Iteration may end by cancellation (the client went away) or by an exception
from ``send``, so ``finally`` only does non-blocking work: slow follow-ups (cancelling the
run) are scheduled, not awaited.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Final

from lambdagraph.engine import SLOW_CONSUMER, QueueSink, RunResult
from lambdagraph.protocol.events import Event
from lambdagraph.protocol.sse import dumps, encode_comment, encode_event
from lambdagraph.settings import Settings
from lambdagraph.store.records import Run

logger = logging.getLogger(__name__)

SLOW_STREAM: Final = Event(
    "error",
    {
        "error": "SlowConsumer",
        "message": "The client read the stream too slowly and was detached; the run goes on. "
        "Its outcome is at the Content-Location header; stream_resumable=true makes a run "
        "rejoinable",
    },
)
SLOW_RESUMABLE: Final = Event(
    "error",
    {
        "error": "SlowConsumer",
        "message": "The client read the stream too slowly and was detached; the run goes on. "
        "Rejoin at the Location header with Last-Event-ID to receive the rest",
    },
)


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


def response_sink(settings: Settings, *, resumable: bool, stateless: bool = False) -> QueueSink:
    """The bounded queue between a run and the response that streams or awaits it.

    A client that reads too slowly is detached with an ``error`` event; the notice of a
    ``resumable`` run tells it to rejoin, since every event stays in the run's log. A
    ``stateless`` run's records go with its temporary thread, so its notice names no place
    to look.
    """
    if stateless:
        notice = SLOW_CONSUMER
    elif resumable:
        notice = SLOW_RESUMABLE
    else:
        notice = SLOW_STREAM
    return QueueSink(
        max_events=settings.stream_queue_events,
        wait_seconds=settings.slow_consumer_seconds,
        slow_notice=notice,
    )


class _WireSilence:
    """How long the response has written nothing, for heartbeats that depend on the wire
    alone: a ``/wait`` forwards no events, so run events say nothing about the wire."""

    def __init__(self, heartbeat: float) -> None:
        self._loop = asyncio.get_running_loop()
        self.heartbeat = heartbeat
        self.since = self._loop.time()

    def left(self) -> float:
        """Seconds before a heartbeat is due (0 or less: due now)."""
        return self.since + self.heartbeat - self._loop.time()

    def wrote(self) -> None:
        """Bytes just went out."""
        self.since = self._loop.time()


async def sse_body(
    sink: QueueSink, *, heartbeat: float, on_gone: Callable[[], None] | None = None
) -> AsyncGenerator[bytes, None]:
    """SSE frames for every event the run sends, ``: heartbeat`` comments while it is quiet.

    Args:
        sink: the run's queue; ``None`` in it marks the end of the run's stream.
        heartbeat: longest silence on the wire, in seconds, before a heartbeat comment.
        on_gone: called (without blocking) when the client leaves before the run's end.
    """
    finished = False
    silence = _WireSilence(heartbeat)
    try:
        while not finished:
            batch = await sink.take(silence.left())
            if batch is None:
                yield encode_comment("heartbeat")
                silence.wrote()
                continue
            frames = []
            for event in batch:
                if event is None:
                    finished = True
                    break
                frames.append(encode_event(event))
            if frames:
                yield b"".join(frames)
                silence.wrote()
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
) -> AsyncGenerator[bytes, None]:
    """The run's result as one JSON document, preceded by newlines while the run works.

    A newline goes out whenever ``heartbeat`` seconds passed without a write, however
    many events the run sends meanwhile: leading whitespace keeps proxies from idling the
    connection out and is ignored by JSON parsers. When the run sent no values (cancelled
    early), ``fallback`` supplies the thread's current values.
    """
    result = RunResult()
    finished = False
    silence = _WireSilence(heartbeat)
    try:
        while not finished:
            for event in await sink.take(silence.left()) or ():
                if event is None:
                    finished = True
                    break
                result.absorb(event)
            if not finished and silence.left() <= 0:
                # Due whatever the run sends: none of its events reach this response's wire.
                yield b"\n"
                silence.wrote()
        body = result.body()
        if body is None:
            body = await fallback()
        yield dumps(body)
    finally:
        sink.detach()
        if not finished and on_gone is not None:
            on_gone()
