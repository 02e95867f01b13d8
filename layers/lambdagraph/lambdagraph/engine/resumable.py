"""Sinks that make a run resumable: ids on every event, and the event log behind them.

The executor hands events to a :class:`SequencedSink`, which stamps each with the next event
id and passes it on to the event log and to the live transport alike, so the ``id:`` lines a
client sees live are exactly the ids it can later resume from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

from lambdagraph.engine.sinks import Sink, observe_run
from lambdagraph.protocol.events import Event
from lambdagraph.store.events import EventLog, format_event_id
from lambdagraph.store.records import Run

logger = logging.getLogger(__name__)


class SequencedSink:
    """Numbers events (``start``, ``start + 1``, ...) and forwards them to every inner sink.

    Args:
        sinks: where numbered events go, in order (e.g. the event log, then the SSE stream).
        start: the sequence number of the first event; a continuation passes the last
            logged number plus one, so ids continue across invocations.
        drop_metadata: drop the ``metadata`` event a continuation's executor emits again,
            so a client following the run sees one continuous stream.
    """

    def __init__(
        self, sinks: Sequence[Sink], *, start: int = 0, drop_metadata: bool = False
    ) -> None:
        self.sinks = list(sinks)
        self.next_seq = start
        self.drop_metadata = drop_metadata

    async def send(self, events: Sequence[Event]) -> None:
        numbered = []
        for event in events:
            if self.drop_metadata and event.event == "metadata":
                continue
            numbered.append(replace(event, id=format_event_id(self.next_seq)))
            self.next_seq += 1
        if numbered:
            for sink in self.sinks:
                await sink.send(numbered)

    async def observe(self, run: Run) -> None:
        """Pass the polled run item on to inner sinks that observe it."""
        await observe_run(self.sinks, run)

    async def close(self) -> None:
        for sink in self.sinks:
            await sink.close()


class EventLogSink:
    """Buffers a run's events and appends them to the event log once per flush window.

    One write per window (not per token) keeps DynamoDB costs proportional to time, not to
    tokens. Writes happen in order, one at a time; a failed write is logged and does not stop
    the run (the live stream goes on; only resuming loses those events).

    Args:
        log: the event log.
        run_id: whose events these are.
        flush_interval: seconds events may wait in the buffer before they are written.
        max_buffer_bytes: flush at once when buffered event payloads exceed this many bytes.
    """

    def __init__(
        self,
        log: EventLog,
        run_id: str,
        *,
        flush_interval: float = 0.1,
        max_buffer_bytes: int = 256_000,
    ) -> None:
        self.log = log
        self.run_id = run_id
        self.flush_interval = flush_interval
        self.max_buffer_bytes = max_buffer_bytes
        self._buffer: list[Event] = []
        self._buffer_bytes = 0
        self._timer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.flushes = 0

    async def send(self, events: Sequence[Event]) -> None:
        self._buffer.extend(events)
        self._buffer_bytes += sum(len(repr(event.data)) for event in events)
        if self._buffer_bytes >= self.max_buffer_bytes:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.create_task(self._flush_later())

    async def flush(self) -> None:
        """Write everything buffered now, after any write already under way."""
        timer, self._timer = self._timer, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        async with self._lock:
            batch, self._buffer, self._buffer_bytes = self._buffer, [], 0
            if not batch:
                return
            try:
                await self.log.append(self.run_id, batch)
                self.flushes += 1
            except Exception:
                logger.exception(
                    "event log write failed", extra={"run_id": self.run_id, "events": len(batch)}
                )

    async def close(self) -> None:
        await self.flush()

    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(self.flush_interval)
        except asyncio.CancelledError:
            return  # an earlier flush took the buffer; nothing left to time
        self._timer = None
        await self.flush()
