"""Batching a run's events into WebSocket messages: merge, measure, cut. No I/O.

API Gateway bills every message per started 32 KB and closes a connection that receives a
message over 128 KB, and a token per message is slow and costly. A :class:`Batcher` turns
events into as few messages as possible:

* consecutive ``messages`` chunks of one message (same message ``id``) are merged the way
  LangChain adds chunks (content and tool-call argument fragments concatenated, usage
  summed), keeping the ``[chunk, metadata]`` shape; the merged event carries the id of the
  last event it absorbed, so a client resuming ``after`` that id misses nothing. The text
  of later chunks is buffered and the merged event encoded once, when its batch is cut
  (:class:`~lambdagraph.ws.merging.MessageRun`), so the cost is linear in the tokens;
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
from collections.abc import Sequence
from typing import Final

from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event
from lambdagraph.ws.merging import MessageRun, is_mergeable_chunk, merge_events

__all__ = ["DEFAULT_BATCH_BYTES", "Batcher", "merge_events"]

logger = logging.getLogger(__name__)

DEFAULT_BATCH_BYTES: Final = 32_000
"""Cut batches here: one 32 KB frame, with room for the envelope's framing."""


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
        self._items: list[bytes] = []  # encoded, final
        self._open: MessageRun | None = None  # the last item, still absorbing chunks
        self._last: Event | None = None  # the last item's event when it is final
        self._size = ws.events_overhead(run_id, thread_id, 0)
        self._overhead = self._size

    def __len__(self) -> int:
        return len(self._items) + (self._open is not None)

    def add(self, events: Sequence[Event]) -> list[bytes]:
        """Buffer ``events``; returns the messages that are complete already (maybe none)."""
        ready: list[bytes] = []
        for event in events:
            ready.extend(self._add_one(event))
        return ready

    def drain(self) -> list[bytes]:
        """Everything buffered, as messages (at most one); the batcher is empty after."""
        self._close_open()
        if not self._items:
            return []
        message = ws.events_message(self.run_id, self.thread_id, self._items)
        self._items, self._last = [], None
        self._size = self._overhead
        return [message]

    def _add_one(self, event: Event) -> list[bytes]:
        if self._merged(event):
            return []
        self._close_open()
        run = MessageRun(event) if is_mergeable_chunk(event) else None
        item = run.item() if run is not None else ws.event_item(event)
        if self._overhead + len(item) > self.max_message_bytes:
            return [*self.drain(), self._too_large(event, len(item))]
        ready: list[bytes] = []
        separator = 1 if self._items else 0
        if self._items and self._size + separator + len(item) > self.batch_bytes:
            ready = self.drain()
            separator = 0
        if run is not None:
            self._open, self._last = run, None
        else:
            self._items.append(item)
            self._last = event
        self._size += separator + len(item)
        if self._size > self.batch_bytes:  # a lone event between one frame and the limit
            ready.extend(self.drain())
        return ready

    def _merged(self, event: Event) -> bool:
        """Whether ``event`` merged into the last item (within the batch size)."""
        if self._open is not None:
            others = self._size - self._open.size
            if not self._open.absorb(event, self.batch_bytes - others):
                return False
            self._size = others + self._open.size
            return True
        if self._last is None:
            return False
        merged = merge_events(self._last, event)  # a newer messages/partial snapshot
        if merged is None:
            return False
        item = ws.event_item(merged)
        grown = self._size - len(self._items[-1]) + len(item)
        if grown > self.batch_bytes:
            return False
        self._items[-1], self._last, self._size = item, merged, grown
        return True

    def _close_open(self) -> None:
        """Encode the open merged event: nothing more can join it."""
        if self._open is None:
            return
        others = self._size - self._open.size
        self._items.append(self._open.item())  # may be smaller than its size bound
        self._size = others + len(self._items[-1])
        self._open = None

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
