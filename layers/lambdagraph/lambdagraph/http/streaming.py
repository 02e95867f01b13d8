"""Where a run's events become an HTTP body: SSE frames for ``/stream``, one JSON for ``/wait``.

The route records the run, hands a bounded :class:`QueueSink` (:func:`response_sink`) to the
executor in a background task (:func:`launch`) and returns a ``StreamingResponse`` over one
of the generators below. Each generator reads the queue, writes a heartbeat whenever the
wire has been silent for the heartbeat interval, and in ``finally`` detaches the sink and
reports a client that left early. Iteration may end by cancellation (the client went away)
or by an exception from ``send``, so ``finally`` only does non-blocking work: slow
follow-ups (cancelling the run) are scheduled, not awaited.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Final

from lambdagraph.engine.sinks import QueueSink
from lambdagraph.errors import LambdagraphError
from lambdagraph.http.context import ApiContext
from lambdagraph.http.deadline import current_deadline
from lambdagraph.protocol.events import Event
from lambdagraph.protocol.sse import dumps, encode_comment, encode_event
from lambdagraph.settings import Settings
from lambdagraph.store.records import Run

logger = logging.getLogger(__name__)

INTERRUPT_KEY: Final = "__interrupt__"
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
SERVER_FAULT: Final = Event(
    "error", {"error": "InternalServerError", "message": "The run failed on the server"}
)


def run_path(run: Run) -> str:
    """Where the run lives in the API (relative, as LangGraph Server's headers give it)."""
    return f"/threads/{run['thread_id']}/runs/{run['run_id']}"


def stream_headers(run: Run) -> dict[str, str]:
    """Headers of a run's SSE response: where to rejoin it and where the run lives."""
    base = run_path(run)
    return {
        "Location": f"{base}/stream",
        "Content-Location": base,
        "Cache-Control": "no-store",
        # nginx and some proxies buffer responses unless told not to.
        "X-Accel-Buffering": "no",
    }


def wait_headers(run: Run) -> dict[str, str]:
    """Headers of a ``/wait`` response, as LangGraph Server sends them."""
    base = run_path(run)
    return {"Location": f"{base}/join", "Content-Location": base}


def response_sink(settings: Settings, *, resumable: bool) -> QueueSink:
    """The bounded queue between a run and the response that streams or awaits it.

    A client that reads too slowly is detached with an ``error`` event; the notice of a
    ``resumable`` run tells it to rejoin, since every event stays in the run's log.
    """
    return QueueSink(
        max_events=settings.stream_queue_events,
        wait_seconds=settings.slow_consumer_seconds,
        slow_notice=SLOW_RESUMABLE if resumable else SLOW_STREAM,
    )


def launch(context: ApiContext, run: Run, sink: QueueSink) -> None:
    """Execute ``run`` in the background, feeding ``sink``; the request may go away first."""
    context.spawn(_execute(context, run, sink), name=f"run-{run['run_id']}")


async def _execute(context: ApiContext, run: Run, sink: QueueSink) -> None:
    try:
        if context.durable is not None and run["kwargs"].get("stream_resumable"):
            # Logged, numbered and leased, so the client can resume it from Last-Event-ID.
            await context.durable.execute_here(run, [sink], deadline=current_deadline())
        elif context.durable is not None:
            # Leased, so a run whose process dies is recovered and frees its thread.
            await context.durable.execute_leased(run, [sink])
        else:
            await context.executor.execute(run, [sink])
    except Exception:
        # The executor turns graph errors into events itself; reaching here is a server fault.
        logger.exception("executor failed on run %s", run["run_id"])
        await sink.send([SERVER_FAULT])
        await sink.close()


def cancel_when_gone(context: ApiContext, owner: str, run: Run) -> Callable[[], None]:
    """A callback for ``on_disconnect="cancel"``: schedule cancelling the run."""

    async def cancel() -> None:
        try:
            await context.store.cancel_run(owner, run["thread_id"], run["run_id"])
        except LambdagraphError as exc:
            # Already finished or gone: nothing left to cancel.
            logger.info("cancel on disconnect skipped for run %s: %s", run["run_id"], exc)

    def schedule() -> None:
        context.spawn(cancel(), name=f"cancel-{run['run_id']}")

    return schedule


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


class RunResult:
    """Folds a run's events into the body ``/wait`` returns, as LangGraph Server does.

    The body is the last ``values``, or ``{"__interrupt__": [...]}`` when the run stopped
    at interrupts, or ``{"__error__": {"error", "message"}}`` when it failed.
    """

    def __init__(self) -> None:
        self.latest: Any = None
        self.interrupts: list[Any] = []
        self.errored = False

    def absorb(self, event: Event) -> None:
        """Take one event into account."""
        if event.event == "error":
            self.latest = {"__error__": event.data}
            self.errored = True
        elif event.event in ("values", "updates"):
            data = event.data
            if isinstance(data, dict) and isinstance(data.get(INTERRUPT_KEY), list):
                self.interrupts.extend(data[INTERRUPT_KEY])
            elif event.event == "values":
                self.latest = data

    def body(self) -> Any:
        """The result, or ``None`` when the run sent nothing to build one from."""
        if self.interrupts and not self.errored:
            return {INTERRUPT_KEY: self.interrupts}
        return self.latest


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
