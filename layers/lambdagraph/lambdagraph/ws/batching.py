"""Batching a run's events into WebSocket messages: merge, measure, cut. No I/O.

API Gateway bills every message per started 32 KB and closes a connection that receives a
message over 128 KB, and a token per message is slow and costly. A :class:`Batcher` turns
events into as few messages as possible:

* consecutive ``messages`` chunks of one message (same message ``id``) are merged the way
  LangChain adds chunks (content and tool-call argument fragments concatenated, usage
  summed), keeping the ``[chunk, metadata]`` shape; the merged event carries the id of the
  last event it absorbed, so a client resuming ``after`` that id misses nothing;
* consecutive ``messages/partial`` events of one message (each already the whole message
  so far) keep only the latest;
* a batch is cut before it would exceed ``batch_bytes`` (default just under one 32 KB frame);
* an event too large for one message on its own becomes an ``error`` message
  (``event_too_large``) rather than a message that would close the connection.

The caller decides *when* to flush (the sender's 50 ms window); the batcher only decides
*where* to cut.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

from langchain_core.messages import (
    AIMessageChunk,
    BaseMessageChunk,
    ChatMessageChunk,
    FunctionMessageChunk,
    HumanMessageChunk,
    SystemMessageChunk,
    ToolMessageChunk,
)

from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event

logger = logging.getLogger(__name__)

DEFAULT_BATCH_BYTES: Final = 32_000
"""Cut batches here: one 32 KB frame, with room for the envelope's framing."""

_CHUNK_TYPES: Final[Mapping[str, type[BaseMessageChunk]]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        AIMessageChunk,
        HumanMessageChunk,
        SystemMessageChunk,
        ToolMessageChunk,
        ChatMessageChunk,
        FunctionMessageChunk,
    )
}


def merge_events(first: Event, second: Event) -> Event | None:
    """``first`` and ``second`` as one event, or ``None`` when they must stay apart.

    Merges two ``messages`` chunks of the same message (same event name, so the same
    subgraph, and same message id), or two ``messages/partial`` snapshots of one message.
    """
    if first.event != second.event:
        return None
    kind = first.event.split("|", 1)[0]
    if kind == "messages":
        return _merge_chunks(first, second)
    if kind == "messages/partial" and _partial_id(first) is not None:
        return second if _partial_id(first) == _partial_id(second) else None
    return None


def _merge_chunks(first: Event, second: Event) -> Event | None:
    a, b = _chunk_of(first), _chunk_of(second)
    if a is None or b is None or a.get("id") is None or a.get("id") != b.get("id"):
        return None
    cls = _CHUNK_TYPES.get(str(a.get("type")))
    if cls is None or b.get("type") != a.get("type"):
        return None
    try:
        merged = cls.model_validate(a) + cls.model_validate(b)
    except (ValueError, TypeError):
        # A chunk LangChain itself cannot add (e.g. clashing fields): send both as they are.
        logger.debug("chunks of message %s not mergeable", a.get("id"), exc_info=True)
        return None
    return Event(first.event, [merged.model_dump(), first.data[1]], second.id)


def _chunk_of(event: Event) -> dict[str, Any] | None:
    data = event.data
    if isinstance(data, (list, tuple)) and len(data) == 2 and isinstance(data[0], dict):
        return data[0]
    return None


def _partial_id(event: Event) -> Any:
    data = event.data
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        return data[0].get("id")
    return None


class Batcher:
    """Accumulates one connection's events and cuts them into ``events`` messages.

    Args:
        run_id: the run the events belong to.
        thread_id: its thread.
        batch_bytes: cut a batch before its encoded message would exceed this.
        max_message_bytes: the hard message limit; a lone event above it becomes an error.
    """

    def __init__(
        self,
        run_id: str,
        thread_id: str,
        *,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        max_message_bytes: int = ws.MESSAGE_BYTES,
    ) -> None:
        self.run_id = run_id
        self.thread_id = thread_id
        self.batch_bytes = min(batch_bytes, max_message_bytes)
        self.max_message_bytes = max_message_bytes
        self._events: list[Event] = []
        self._items: list[bytes] = []
        self._size = ws.events_overhead(run_id, thread_id, 0)
        self._overhead = self._size

    def __len__(self) -> int:
        return len(self._events)

    def add(self, events: Sequence[Event]) -> list[bytes]:
        """Buffer ``events``; returns the messages that are complete already (maybe none)."""
        ready: list[bytes] = []
        for event in events:
            ready.extend(self._add_one(event))
        return ready

    def drain(self) -> list[bytes]:
        """Everything buffered, as messages (at most one); the batcher is empty after."""
        if not self._events:
            return []
        message = ws.events_message(self.run_id, self.thread_id, self._items)
        self._events, self._items = [], []
        self._size = self._overhead
        return [message]

    def _add_one(self, event: Event) -> list[bytes]:
        if self._events:
            merged = merge_events(self._events[-1], event)
            if merged is not None:
                item = ws.event_item(merged)
                grown = self._size - len(self._items[-1]) + len(item)
                if grown <= self.batch_bytes:
                    self._events[-1], self._items[-1], self._size = merged, item, grown
                    return []
        item = ws.event_item(event)
        if self._overhead + len(item) > self.max_message_bytes:
            return [*self.drain(), self._too_large(event, len(item))]
        ready: list[bytes] = []
        separator = 1 if self._events else 0
        if self._events and self._size + separator + len(item) > self.batch_bytes:
            ready = self.drain()
            separator = 0
        self._events.append(event)
        self._items.append(item)
        self._size += separator + len(item)
        if self._size > self.batch_bytes:  # a lone event between one frame and the limit
            ready.extend(self.drain())
        return ready

    def _too_large(self, event: Event, size: int) -> bytes:
        logger.warning(
            "event too large for a WebSocket message",
            extra={"run_id": self.run_id, "event": event.event, "bytes": size},
        )
        extra = {"run_id": self.run_id}
        if event.id is not None:
            extra["event_id"] = event.id
        return ws.encode(
            ws.error(
                "event_too_large",
                f"The {event.event!r} event is {size} bytes, over the WebSocket message limit "
                f"of {self.max_message_bytes} bytes; read the thread's state over HTTP instead "
                f"(GET /threads/{self.thread_id}/state).",
                **extra,
            )
        )
