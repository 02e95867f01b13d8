"""Sinks: where a run's events go. The executor knows no transport, only this protocol.

A sink is any object with ``async send(events)`` and ``async close()``: the SSE response,
the WebSocket sender and the event log each implement the two methods.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from lambdagraph.protocol.events import Event

if TYPE_CHECKING:
    from lambdagraph.store.records import Run


class Sink(Protocol):
    """Receives a run's events in order; closed once when the run's stream ends."""

    async def send(self, events: Sequence[Event]) -> None:
        """Deliver events, in order. May raise if the consumer is gone."""

    async def close(self) -> None:
        """No more events will come."""


class RunObserver(Protocol):
    """Optional extra face of a sink: sees the run item each time the executor polls it.

    The WebSocket fan-out uses it to pick up new subscribers from the same consistent read
    that checks the cancel flag, instead of polling the run item a second time.
    """

    async def observe(self, run: Run) -> None:
        """The run item as just read (cancel flag, status, subscribers)."""


async def observe_run(sinks: Sequence[Any], run: Run) -> None:
    """Show ``run`` to every sink that has an ``observe`` method (see :class:`RunObserver`)."""
    for sink in sinks:
        observe = getattr(sink, "observe", None)
        if observe is not None:
            await observe(run)


class MemorySink:
    """Collects events in a list; for tests and for ``runs/wait``."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.closed = asyncio.Event()

    async def send(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    async def close(self) -> None:
        self.closed.set()


class QueueSink:
    """Hands events to one consumer through an unbounded queue; ``None`` marks the end.

    The SSE route reads it; the executor never waits on a slow client (events queue up in
    memory instead), and a consumer that went away is detached with :meth:`detach`.
    """

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.detached = False

    async def send(self, events: Sequence[Event]) -> None:
        if self.detached:
            return
        for event in events:
            self.queue.put_nowait(event)

    async def close(self) -> None:
        self.queue.put_nowait(None)

    def detach(self) -> None:
        """The consumer is gone: drop further events instead of queueing them."""
        self.detached = True
