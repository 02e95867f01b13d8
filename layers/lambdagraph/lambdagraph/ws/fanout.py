"""The WebSocket sink: a run's events, fanned out to every subscribed connection.

The process executing a run (the worker, or the HTTP process streaming it) gives the
executor one :class:`WebSocketFanout` (built by ``lambdagraph.wiring``). It keeps the
events of this attempt in memory and one :class:`ConnectionSender` per subscriber.
Subscribers are the run item's ``ws_subscribers`` entries ``<connection>#<after>``; the
executor already reads that item every poll interval for the cancel flag and hands it to
:meth:`WebSocketFanout.observe`, so a new subscriber is picked up within one interval.

A new subscriber first gets every event after its ``after`` id — from the event log for
earlier attempts, from memory for this one — then live events. Catch-up and registration
happen without an ``await`` in between, so nothing is lost or sent twice.

The run waits for a subscriber whose sender is over its queue bound (at most the sender's
``max_wait``, for all such subscribers at once); a sender that stays behind detaches its
connection as a slow consumer: it is unsubscribed from the run, and a later ``subscribe``
on the same connection starts afresh after the id the client gives. A run-item read that
was in flight while it was unsubscribed still shows the old entries; they are ignored until
the next read.

When the run ends, the fan-out reads the run item once more (a subscriber may have arrived
after the last poll; the subscribe condition guarantees it was recorded before the final
status), then sends ``run.ended`` to everyone after their last events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event
from lambdagraph.store.app import AppStore
from lambdagraph.store.connections import ConnectionStore, RunRef
from lambdagraph.store.events import EventLog
from lambdagraph.store.records import FINAL_RUN_STATUSES, Run
from lambdagraph.store.schema import is_stream_entry, parse_subscriber_entry, subscriber_entry
from lambdagraph.ws.sender import ConnectionSender, ManagementClient, sender_bounds

logger = logging.getLogger(__name__)


class WebSocketFanout:
    """A :class:`~lambdagraph.engine.sinks.Sink` posting a run's events to its subscribers.

    Args:
        run: the run, as read when its execution started (with its subscribers).
        client: the management API client of the WebSocket stage.
        store: the app store (the final read of the run item).
        connections: connection and subscriber items (removing gone connections).
        log: the event log, for catching up on events of earlier attempts.
        window: the senders' batching window in seconds.
        batch_bytes: the senders' batch size.
        max_queued_bytes: each sender's queue bound (the sender's default when ``None``).
        max_wait: how long the run waits for a sender over its bound (idem).
    """

    def __init__(
        self,
        run: Run,
        client: ManagementClient,
        *,
        store: AppStore,
        connections: ConnectionStore,
        log: EventLog | None = None,
        window: float = 0.05,
        batch_bytes: int | None = None,
        max_queued_bytes: int | None = None,
        max_wait: float | None = None,
    ) -> None:
        self.run = run
        self.client = client
        self.store = store
        self.connections = connections
        self.log = log
        self.window = window
        self.batch_bytes = batch_bytes
        self.bounds = sender_bounds(max_queued_bytes, max_wait)
        self.history: list[Event] = []
        self.senders: dict[str, ConnectionSender] = {}
        self._entries: dict[str, set[str]] = {}
        self._pending = list(run.get("subscribers") or ())
        self._log_cache: list[Event] | None = None
        self._detached: list[ConnectionSender] = []
        self._observations = 0
        self._stale: dict[str, tuple[set[str], int]] = {}  # entries, until which observation
        self.log_adapter = logging.LoggerAdapter(
            logger, {"run_id": run["run_id"], "thread_id": run["thread_id"]}
        )

    async def send(self, events: Sequence[Event]) -> None:
        """Record events and hand them to every live subscriber's sender."""
        self.history.extend(events)
        for sender in self.senders.values():
            sender.add(events)
        if self._pending:  # the run's first subscribers: caught up from history (and the log)
            pending, self._pending = self._pending, []
            await self._add_subscribers(pending)
        behind = [sender for sender in self.senders.values() if not sender.has_room]
        if behind:
            await asyncio.gather(*(sender.wait_for_room() for sender in behind))

    async def observe(self, run: Run) -> None:
        """Pick up subscribers that appeared on the run item since the last look."""
        self._observations += 1
        entries = [e for e in run.get("subscribers") or () if not self._is_stale(e)]
        await self._add_subscribers(entries)

    def _is_stale(self, entry: str) -> bool:
        if is_stream_entry(entry):
            return True
        connection_id, _ = parse_subscriber_entry(entry)
        stale, until = self._stale.get(connection_id, (set(), 0))
        return entry in stale and self._observations <= until

    async def close(self) -> None:
        """Catch up late subscribers, send ``run.ended`` if the run is final, flush everyone."""
        try:
            final = await self.store.read_run(self.run)
        except Exception:
            self.log_adapter.warning("could not read the run at its end", exc_info=True)
            final = None
        if final is not None:
            await self._add_subscribers([*self._pending, *(final.get("subscribers") or ())])
            if final["status"] in FINAL_RUN_STATUSES:
                for sender in self.senders.values():
                    sender.post(
                        ws.run_ended(self.run["run_id"], final["status"], final.get("usage"))
                    )
            else:
                await self._hand_over()
        for sender in [*self.senders.values(), *self._detached]:
            await sender.close()

    async def _hand_over(self) -> None:
        """The run continues in another invocation: record how far each subscriber got."""
        if not self.history:
            return
        last = _seq(self.history[-1])
        for connection_id, sender in self.senders.items():
            if sender.gone:
                continue
            entry = subscriber_entry(connection_id, last)
            stale = self._entries[connection_id] - {entry}
            ref = RunRef(self.run["run_id"], self.run["owner"], self.run["thread_id"])
            try:
                await self.connections.subscribe(ref, connection_id, last)
                await self.connections.unsubscribe(ref.thread_id, ref.run_id, stale)
            except Exception:
                self.log_adapter.warning("could not hand a subscriber over", exc_info=True)

    async def _add_subscribers(self, entries: Sequence[str]) -> None:
        fresh: list[tuple[str, int, str]] = []
        for entry in entries:
            if is_stream_entry(entry):
                continue  # a v2 thread subscription: the ThreadFanout's
            connection_id, after = parse_subscriber_entry(entry)
            if connection_id in self.senders:
                self._entries[connection_id].add(entry)
            elif all(entry != seen for _, _, seen in fresh):
                fresh.append((connection_id, after, entry))
        if not fresh:
            return
        first = _seq(self.history[0]) if self.history else None
        older: list[Event] = []
        if self.log is not None and any(
            first is None or after + 1 < first for _, after, _ in fresh
        ):
            older = await self._logged_before(first)
        for connection_id, after, entry in fresh:  # no await from here on: catch-up, then live
            self._entries.setdefault(connection_id, set()).add(entry)
            if connection_id in self.senders:
                continue
            sender = self._sender(connection_id)
            backlog = [e for e in older if _seq(e) > after]
            backlog += [e for e in self.history if _seq(e) > after]
            sender.add(backlog)
            self.senders[connection_id] = sender
            self.log_adapter.info(
                "subscriber added", extra={"connection_id": connection_id, "after": after}
            )

    async def _logged_before(self, first: int | None) -> list[Event]:
        """Events of earlier attempts (ids below this attempt's first), from the event log."""
        if self._log_cache is None:
            assert self.log is not None
            read = await self.log.read_after(self.run["run_id"], -1)
            self._log_cache = read.events
        return [e for e in self._log_cache if first is None or _seq(e) < first]

    def _sender(self, connection_id: str) -> ConnectionSender:
        options: dict[str, Any] = {
            "window": self.window,
            "on_gone": self._drop,
            "on_detach": self._detach,
            **self.bounds,
        }
        if self.batch_bytes is not None:
            options["batch_bytes"] = self.batch_bytes
        return ConnectionSender(
            connection_id,
            self.client,
            run_id=self.run["run_id"],
            thread_id=self.run["thread_id"],
            **options,
        )

    async def _drop(self, connection_id: str) -> None:
        """API Gateway says the client left: forget it here, on the run and in the table."""
        entries = self._entries.get(connection_id, set())
        await self.connections.unsubscribe(self.run["thread_id"], self.run["run_id"], entries)
        await self.connections.delete_connection(connection_id)
        self.log_adapter.info("gone subscriber removed", extra={"connection_id": connection_id})

    async def _detach(self, connection_id: str) -> None:
        """A sender gave up on a slow client: forget it here and on the run item."""
        sender = self.senders.pop(connection_id, None)
        if sender is not None:
            self._detached.append(sender)  # still to post its slow_consumer message
        entries = self._entries.pop(connection_id, set())
        await self.connections.unsubscribe(self.run["thread_id"], self.run["run_id"], entries)
        # A read in flight now may still show these entries: ignore them in it.
        self._stale[connection_id] = (entries, self._observations + 1)
        self.log_adapter.info("slow subscriber detached", extra={"connection_id": connection_id})


def _seq(event: Event) -> int:
    return int(event.id) if event.id is not None else -1
