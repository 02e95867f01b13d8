"""The v2 WebSocket sink: a run's protocol frames, posted to its thread's subscribers.

The worker executing a v2 run gets one :class:`ThreadFanout` (built by ``lambdagraph.wiring``
with the thread's subscriptions, read when the run's execution starts). Each subscribed
connection gets one :class:`~lambdagraph.ws.sender.ConnectionSender`; every frame that
matches any of the connection's subscriptions is posted to it once, as its own message, in
``seq`` order (the clients parse one frame per message: nothing is batched; only text
deltas still queued behind a post are folded, see :mod:`lambdagraph.ws.stream_frames`).

Who sends which frames (``ws.agent`` registers a subscription only under one of these two
conditions, so each frame reaches a connection exactly once):

* a subscription found when the run starts was registered while the thread was idle, after
  its connection got the whole log: the run posts its own frames, from its first;
* a subscription made while this run is active is announced on the run item (a stream
  entry with ``after``, the last seq its connection got from the log); the executor's poll
  shows it within one interval (:meth:`ThreadFanout.observe`), or the final read at the end
  does. The subscription then gets the run's frames after its own ``after`` (from the thread
  log for earlier attempts, from memory for this one), then live ones, with no ``await``
  between catch-up and registration. Each subscription keeps its own cursor: a client that
  subscribes a channel at a time replays the log as far as it was flushed each time.

If the run continues in another invocation, each connection's last seq is announced on the
run item, so the next attempt carries on after it. A connection API Gateway reports gone is
forgotten with its subscriptions; one that falls too far behind is closed (the management
API's ``DELETE``), so its client reconnects with ``since`` and loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdagraph.protocol.agent import ProtocolError, Subscription, parse_subscription
from lambdagraph.protocol.events import Event
from lambdagraph.store import schema
from lambdagraph.store.app import AppStore
from lambdagraph.store.connections import ConnectionStore, StreamSubscription
from lambdagraph.store.events import EventLog
from lambdagraph.store.records import FINAL_RUN_STATUSES, Run
from lambdagraph.ws.sender import ConnectionSender, ManagementClient, sender_bounds

logger = logging.getLogger(__name__)

Frame = dict[str, Any]


@dataclass
class _Target:
    """One subscribed connection: its sender and its subscriptions (by id)."""

    sender: ConnectionSender
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    last_seq: int = -1

    def wants(self, frame: Frame) -> bool:
        return any(sub.matches(frame) for sub in self.subscriptions.values())

    def deliver(self, frames: Iterable[Frame]) -> None:
        for frame in frames:
            if self.wants(frame):
                self.sender.post_frame(frame)
            self.last_seq = max(self.last_seq, _seq(frame))

    def catch_up(self, frames: Iterable[Frame], afters: Mapping[str, int | None]) -> None:
        """Post each frame, once, that some subscription wants and has not had: one after
        that subscription's own cursor (``None``: it takes live frames only)."""
        for frame in frames:
            seq = _seq(frame)
            if any(
                after is not None and seq > after and self.subscriptions[sid].matches(frame)
                for sid, after in afters.items()
            ):
                self.sender.post_frame(frame)
            self.last_seq = max(self.last_seq, seq)


class ThreadFanout:
    """A :class:`~lambdagraph.engine.sinks.Sink` posting a v2 run's frames to its thread's
    WebSocket subscribers.

    Args:
        run: the run, as read when its execution started (with its stream entries).
        client: the management API client of the WebSocket stage.
        store: the app store (the final read of the run item).
        connections: subscriptions and connections (reading new ones, forgetting gone ones).
        log: the thread log (frames of earlier attempts, for late subscribers).
        subscriptions: the thread's subscriptions when the run's execution started.
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
        log: EventLog,
        subscriptions: Sequence[StreamSubscription] = (),
        max_queued_bytes: int | None = None,
        max_wait: float | None = None,
    ) -> None:
        self.run = run
        self.client = client
        self.store = store
        self.connections = connections
        self.log = log
        self.bounds = sender_bounds(max_queued_bytes, max_wait)
        self.history: list[Frame] = []
        self.targets: dict[str, _Target] = {}
        self._detached: list[ConnectionSender] = []
        self._found = [s for s in subscriptions if s.owner == run["owner"]]
        self._seen: set[str] = set()
        self._started = False
        self._lock = asyncio.Lock()
        self.log_adapter = logging.LoggerAdapter(
            logger, {"run_id": run["run_id"], "thread_id": run["thread_id"]}
        )

    async def send(self, events: Sequence[Event]) -> None:
        """Post each frame to every connection that subscribed to it."""
        if not self._started:
            await self.observe(self.run)
        frames = [event.data for event in events if isinstance(event.data, dict)]
        self.history.extend(frames)
        for target in list(self.targets.values()):
            target.deliver(frames)
        behind = [t.sender for t in self.targets.values() if not t.sender.has_room]
        if behind:
            await asyncio.gather(*(sender.wait_for_room() for sender in behind))

    async def observe(self, run: Run) -> None:
        """Pick up stream entries that appeared on the run item since the last look."""
        async with self._lock:
            if not self._started:
                await self._start()
            fresh = [
                entry
                for entry in run.get("subscribers") or ()
                if schema.is_stream_entry(entry) and entry not in self._seen
            ]
            by_connection: dict[str, list[str]] = {}
            for entry in fresh:
                by_connection.setdefault(schema.parse_stream_entry(entry)[0], []).append(entry)
            for connection_id, entries in by_connection.items():
                changes = [schema.parse_stream_entry(e)[1:] for e in entries]
                await self._apply(connection_id, changes)
                # Only now: the executor cancels its poll (and this look) when the run ends,
                # and the final look must then apply what this one did not finish.
                self._seen.update(entries)

    async def close(self) -> None:
        """Catch late subscribers, hand over if the run goes on elsewhere, flush everyone."""
        try:
            final = await self.store.read_run(self.run)
        except Exception:
            self.log_adapter.warning("could not read the run at its end", exc_info=True)
            final = None
        if final is not None:
            await self.observe(final)
            if final["status"] not in FINAL_RUN_STATUSES:
                await self._hand_over()
        for sender in [*(t.sender for t in self.targets.values()), *self._detached]:
            await sender.close()

    async def _start(self) -> None:
        """The subscribers the run starts with: found at start, or announced on the run."""
        announced: dict[str, dict[str, int]] = {}
        entries = [e for e in self.run.get("subscribers") or () if schema.is_stream_entry(e)]
        for entry in entries:
            connection_id, subscription_id, after = schema.parse_stream_entry(entry)
            if after != schema.STREAM_UNSUBSCRIBED:
                cursors = announced.setdefault(connection_id, {})
                cursors[subscription_id] = max(after, cursors.get(subscription_id, -1))
        found: dict[str, list[StreamSubscription]] = {}
        for sub in self._found:
            found.setdefault(sub.connection_id, []).append(sub)
        for connection_id in sorted(set(found) | set(announced)):
            subs = found.get(connection_id)
            if subs is None:
                subs = await self._subscriptions_of(connection_id)
            cursors = announced.get(connection_id, {})
            handover = cursors.get(schema.STREAM_HANDOVER)
            afters: dict[str, int | None] = {}
            for sub in subs:
                own = cursors.get(sub.subscription_id)
                if handover is not None:  # an earlier attempt posted everything up to it
                    afters[sub.subscription_id] = max(handover, -1 if own is None else own)
                elif own is not None or connection_id in found:
                    afters[sub.subscription_id] = own  # None: registered while idle
            await self._add(connection_id, subs, afters)
        self._seen.update(entries)  # after: a cancelled start is started again
        self._started = True

    async def _apply(self, connection_id: str, changes: list[tuple[str, int]]) -> None:
        """New or ended subscriptions of one connection, as the run item announced them."""
        subs = await self._subscriptions_of(connection_id)
        # A subscription is taken on when its own entry is seen, from its own cursor: one
        # made after the run item was read is in ``subs`` already, its entry not yet.
        afters = {sid: after for sid, after in changes if after != schema.STREAM_UNSUBSCRIBED}
        target = self.targets.get(connection_id)
        if target is None:
            await self._add(connection_id, subs, afters)
            return
        current = {sub.subscription_id: sub for sub in subs}
        for subscription_id in [s for s in target.subscriptions if s not in current]:
            del target.subscriptions[subscription_id]
        for subscription_id, sub in current.items():
            if subscription_id in target.subscriptions or subscription_id not in afters:
                continue
            parsed = _parse(sub)
            if parsed is None:
                continue
            # As LangGraph Server does: a new subscription on a connection that already
            # follows the thread gets its own catch-up (the client deduplicates by event_id).
            target.subscriptions[subscription_id] = parsed
            target.catch_up(self.history, {subscription_id: afters[subscription_id]})

    async def _add(
        self,
        connection_id: str,
        subs: Sequence[StreamSubscription],
        afters: Mapping[str, int | None],
    ) -> None:
        """Start posting to a connection: for each subscription in ``afters``, the run's
        frames after its cursor (``None``: from this attempt's first frame), then live ones.
        A subscription not in ``afters`` waits for its entry (a later look)."""
        parsed = {
            s.subscription_id: p
            for s in subs
            if s.subscription_id in afters and (p := _parse(s)) is not None
        }
        if not parsed or connection_id in self.targets:
            return
        cursors = {sid: afters[sid] for sid in parsed}
        known = [after for after in cursors.values() if after is not None]
        after = min(known, default=None)
        older: list[Frame] = []
        first = _seq(self.history[0]) if self.history else None
        if after is not None and (first is None or after + 1 < first):
            read = await self.log.read_after(self.run["thread_id"], after, skip_gaps=False)
            older = [e.data for e in read.events if isinstance(e.data, dict)]
        # No await from here on: catch-up, then registration.
        first = _seq(self.history[0]) if self.history else None
        backlog = [f for f in older if first is None or _seq(f) < first]
        backlog += self.history
        target = _Target(self._sender(connection_id), parsed, max(known, default=-1))
        target.catch_up(backlog, cursors)
        self.targets[connection_id] = target
        self.log_adapter.info(
            "stream subscriber added", extra={"connection_id": connection_id, "after": after}
        )

    async def _subscriptions_of(self, connection_id: str) -> list[StreamSubscription]:
        subs = await self.connections.stream_subscriptions(self.run["thread_id"], connection_id)
        return [s for s in subs if s.owner == self.run["owner"]]

    async def _hand_over(self) -> None:
        """The run continues in another invocation: record how far each connection got."""
        entries = [
            schema.stream_entry(connection_id, schema.STREAM_HANDOVER, target.last_seq)
            for connection_id, target in self.targets.items()
            if not target.sender.stopped and target.last_seq >= 0
        ]
        try:
            await self.connections.announce(self.run["thread_id"], self.run["run_id"], entries)
        except Exception:
            self.log_adapter.warning("could not hand stream subscribers over", exc_info=True)

    def _sender(self, connection_id: str) -> ConnectionSender:
        return ConnectionSender(
            connection_id,
            self.client,
            run_id=self.run["run_id"],
            thread_id=self.run["thread_id"],
            on_gone=self._drop,
            on_detach=self._detach,
            **self.bounds,
        )

    async def _drop(self, connection_id: str) -> None:
        """API Gateway says the client left: forget it and its subscriptions."""
        self.targets.pop(connection_id, None)
        await self.connections.delete_connection(connection_id)
        self.log_adapter.info("gone subscriber removed", extra={"connection_id": connection_id})

    async def _detach(self, connection_id: str) -> None:
        """A sender gave up on a slow client: close its connection so it reconnects."""
        target = self.targets.pop(connection_id, None)
        if target is not None:
            self._detached.append(target.sender)  # closed with the others, at the end
        close = getattr(self.client, "delete_connection", None)
        if close is not None:
            try:
                await asyncio.to_thread(close, ConnectionId=connection_id)
            except Exception:  # gone already, or throttled: its client still times out
                self.log_adapter.warning("could not close a slow connection", exc_info=True)
        self.log_adapter.info("slow subscriber closed", extra={"connection_id": connection_id})


def _parse(sub: StreamSubscription) -> Subscription | None:
    try:
        return parse_subscription(sub.params)
    except ProtocolError:  # validated when made; a corrupt one is skipped
        logger.warning("unreadable stream subscription %s", sub.subscription_id)
        return None


def _seq(frame: Frame) -> int:
    seq = frame.get("seq")
    return seq if isinstance(seq, int) else -1
