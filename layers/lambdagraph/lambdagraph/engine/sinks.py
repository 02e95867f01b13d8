"""Sinks: where a run's events go. The executor knows no transport, only this protocol.

A sink is any object with ``async send(events)`` and ``async close()``: the SSE response,
the WebSocket sender and the event log each implement the two methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

from lambdagraph.errors import ConfigurationError
from lambdagraph.protocol.events import Event

if TYPE_CHECKING:
    from lambdagraph.store.records import Run


SLOW_CONSUMER: Final = Event(
    "error",
    {
        "error": "SlowConsumer",
        "message": "The client read the stream too slowly and was detached; the run goes on",
    },
)
"""What a :class:`QueueSink` consumer that fell too far behind receives last."""


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
    """Hands events to one consumer through a bounded queue; ``None`` marks the end.

    The SSE and ``/wait`` responses read it with :meth:`take`. While the queue has room,
    :meth:`send` never waits (the first token pays nothing for the bound). When the
    consumer falls ``max_events`` behind, :meth:`send` waits up to ``wait_seconds`` for it
    to take some; if it does not, the consumer is dropped as too slow: the events still
    queued are discarded, it receives ``slow_notice`` and the end, and every later event is
    dropped, so the run goes on for its other sinks (the event log, from which a resumable
    run can be rejoined). A consumer that went away is detached with :meth:`detach`.

    Args:
        max_events: how many events may wait for the consumer.
        wait_seconds: how long the run waits for room before it drops the consumer.
        slow_notice: what a dropped consumer receives last (an ``error`` event).
    """

    def __init__(
        self,
        *,
        max_events: int,
        wait_seconds: float,
        slow_notice: Event = SLOW_CONSUMER,
    ) -> None:
        if max_events < 1:
            raise ConfigurationError(f"A stream queue needs room for one event, not {max_events}")
        # Unbounded underneath: the bound is enforced by ``send``, so the end marker and the
        # slow-consumer notice always fit.
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.max_events = max_events
        self.wait_seconds = wait_seconds
        self.slow_notice = slow_notice
        self.detached = False
        self.too_slow = False
        self._room = asyncio.Event()

    async def send(self, events: Sequence[Event]) -> None:
        for event in events:
            full = self.queue.qsize() >= self.max_events and not self.detached
            if full and not await self._wait_for_room():
                self._drop_slow_consumer()
            if self.detached:
                return
            self.queue.put_nowait(event)

    async def close(self) -> None:
        if not self.too_slow:
            self.queue.put_nowait(None)

    async def take(self, timeout: float) -> list[Event | None] | None:
        """Every item queued now, waiting up to ``timeout`` seconds for the first one.

        Returns:
            The items in order (``None``, the end, is always last), or ``None`` when
            nothing came within ``timeout``.
        """
        if not self.queue.empty():
            first = self.queue.get_nowait()  # the common case while events flow: no timer
        else:
            try:
                first = await asyncio.wait_for(self.queue.get(), max(0.0, timeout))
            except TimeoutError:
                return None
        batch = [first]
        while first is not None and not self.queue.empty():
            item = self.queue.get_nowait()
            batch.append(item)
            if item is None:
                break
        self._room.set()
        return batch

    def detach(self) -> None:
        """The consumer is gone: drop further events instead of queueing them."""
        self.detached = True
        self._room.set()  # a send waiting for room returns at once

    async def _wait_for_room(self) -> bool:
        self._room.clear()
        try:
            await asyncio.wait_for(self._room.wait(), self.wait_seconds)
        except TimeoutError:
            return False
        return True

    def _drop_slow_consumer(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(self.slow_notice)
        self.queue.put_nowait(None)
        self.too_slow = True
        self.detached = True
