"""WebSocket envelopes: pure functions from protocol events and answers to message bytes.

Every server → client message is one JSON object ``{"v": 1, "type": ..., ...}``:

* ``run.accepted {request_id, run_id, thread_id}`` — a ``run`` action was recorded;
* ``events {run_id, thread_id, events: [{id, event, data}, ...]}`` — protocol events, the
  same triples an SSE stream carries;
* ``run.ended {run_id, status, usage}`` — the run reached a final status; ``usage`` is its
  totals (tokens and ``cost_usd``), null when none were recorded;
* ``error {request_id?, code, message, ...}`` — the action failed; the connection stays open;
* ``pong`` — the answer to ``ping``.

The ``events`` envelope is assembled from pre-encoded event items so a batcher can measure
and cut batches without re-encoding them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal, NotRequired, TypedDict

from lambdagraph.protocol.events import Event
from lambdagraph.protocol.sse import dumps

VERSION: Final = 1

FRAME_BYTES: Final = 32 * 1024
"""API Gateway's WebSocket frame size; a message is billed per started 32 KB."""

MESSAGE_BYTES: Final = 128 * 1024
"""API Gateway's WebSocket message limit: a larger message closes the connection (1009)."""

MessageType = Literal["run.accepted", "events", "run.ended", "error", "pong"]


class EventItem(TypedDict):
    """One protocol event inside an ``events`` envelope."""

    id: str | None
    event: str
    data: Any


class EventsMessage(TypedDict):
    """``events``: a batch of a run's protocol events, in order."""

    v: int
    type: Literal["events"]
    run_id: str
    thread_id: str
    events: list[EventItem]


class RunAcceptedMessage(TypedDict):
    """``run.accepted``: the run is recorded and handed to a worker."""

    v: int
    type: Literal["run.accepted"]
    request_id: str
    run_id: str
    thread_id: str


class RunEndedMessage(TypedDict):
    """``run.ended``: the run reached a final status."""

    v: int
    type: Literal["run.ended"]
    run_id: str
    status: str
    usage: NotRequired[dict[str, Any] | None]


class ErrorMessage(TypedDict):
    """``error``: an action failed (the connection stays open)."""

    v: int
    type: Literal["error"]
    code: str
    message: str
    request_id: NotRequired[str]
    run_id: NotRequired[str]
    event_id: NotRequired[str]


class PongMessage(TypedDict):
    """``pong``: the answer to ``ping``."""

    v: int
    type: Literal["pong"]


def encode(message: Any) -> bytes:
    """Compact JSON bytes of any envelope."""
    return dumps(message)


def event_item(event: Event) -> bytes:
    """The encoded ``{id, event, data}`` item of ``event``, ready for :func:`events_message`."""
    return dumps({"id": event.id, "event": event.event, "data": event.data})


def events_head(run_id: str, thread_id: str) -> bytes:
    """Everything of an ``events`` envelope before its first item."""
    head = dumps({"v": VERSION, "type": "events", "run_id": run_id, "thread_id": thread_id})
    return head[:-1] + b',"events":['


EVENTS_TAIL: Final = b"]}"


def events_message(run_id: str, thread_id: str, items: Sequence[bytes]) -> bytes:
    """An ``events`` envelope holding pre-encoded items (see :func:`event_item`)."""
    return events_head(run_id, thread_id) + b",".join(items) + EVENTS_TAIL


def events_overhead(run_id: str, thread_id: str, count: int) -> int:
    """Bytes an ``events`` envelope adds around ``count`` items."""
    return len(events_head(run_id, thread_id)) + len(EVENTS_TAIL) + max(0, count - 1)


def run_accepted(request_id: str, run_id: str, thread_id: str) -> RunAcceptedMessage:
    """The ``run.accepted`` answer."""
    return {
        "v": VERSION,
        "type": "run.accepted",
        "request_id": request_id,
        "run_id": run_id,
        "thread_id": thread_id,
    }


def run_ended(run_id: str, status: str, usage: Any = None) -> RunEndedMessage:
    """The ``run.ended`` message, with the run's totals (``usage``)."""
    return {"v": VERSION, "type": "run.ended", "run_id": run_id, "status": status, "usage": usage}


def error(code: str, message: str, *, request_id: str | None = None, **extra: str) -> ErrorMessage:
    """An ``error`` message; ``request_id`` echoes the client's when the action had one."""
    out: dict[str, Any] = {"v": VERSION, "type": "error", "code": code, "message": message}
    if request_id is not None:
        out["request_id"] = request_id
    out.update(extra)
    return out  # type: ignore[return-value]


def pong() -> PongMessage:
    """The ``pong`` answer."""
    return {"v": VERSION, "type": "pong"}
