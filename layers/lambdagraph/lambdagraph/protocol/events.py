"""One event model for every transport: ``(id, event, data)`` as LangGraph Server defines it.

SSE writes an :class:`Event` as a frame; the WebSocket carries the same triples in JSON
envelopes. ``event`` is the SSE event name (``metadata``, ``values``, ``updates``,
``messages``, ``custom``, ``tasks``, ``checkpoints``, ``debug``, ``events``, ``error``, and
our extension ``usage``); ``data`` is JSON-serialisable; ``id`` is set when the run is
resumable (its events are in the event log) and strictly increases within a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

StreamMode = Literal[
    "values",
    "updates",
    "messages",
    "messages-tuple",
    "custom",
    "events",
    "debug",
    "tasks",
    "checkpoints",
    "usage",
]
"""Stream modes a client may request (``messages-tuple`` produces events named ``messages``)."""

STREAM_MODES: Final[frozenset[str]] = frozenset(get_args(StreamMode))


@dataclass(frozen=True, slots=True)
class Event:
    """One protocol event.

    Attributes:
        event: the event name, e.g. ``"messages"`` or ``"error"``.
        data: the JSON-serialisable payload.
        id: the event id within its run, or ``None`` when the run is not resumable.
    """

    event: str
    data: Any
    id: str | None = None
