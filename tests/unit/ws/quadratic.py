"""The batcher as it was before it became linear: the reference its output must equal.

For every token it adds the chunks with LangChain (``merge_events``) and re-encodes the
merged event to measure it, so a message of n tokens costs O(n²). Unit tests compare the
real :class:`~lambdagraph.ws.batching.Batcher` with it byte for byte; ``make bench`` times
both in the same run.
"""

from __future__ import annotations

from collections.abc import Sequence

from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event
from lambdagraph.ws.batching import DEFAULT_BATCH_BYTES
from lambdagraph.ws.merging import merge_events


class QuadraticBatcher:
    """Same interface and wire output as ``Batcher``; merges and re-encodes per token."""

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

    def add(self, events: Sequence[Event]) -> list[bytes]:
        ready: list[bytes] = []
        for event in events:
            ready.extend(self._add_one(event))
        return ready

    def drain(self) -> list[bytes]:
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
            too_large = ws.encode(ws.error("event_too_large", "", run_id=self.run_id))
            return [*self.drain(), too_large]
        ready: list[bytes] = []
        separator = 1 if self._events else 0
        if self._events and self._size + separator + len(item) > self.batch_bytes:
            ready = self.drain()
            separator = 0
        self._events.append(event)
        self._items.append(item)
        self._size += separator + len(item)
        if self._size > self.batch_bytes:
            ready.extend(self.drain())
        return ready
