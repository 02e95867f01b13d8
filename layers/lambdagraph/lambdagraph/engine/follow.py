"""Following a run through its event log: replay after an event id, then live, to the end.

Every transport that lets a client rejoin a run (the HTTP join stream, a WebSocket
``subscribe`` of a finished run) reads it through :class:`RunFollower`, so replay, recovery
of a run whose process died, and the end of a run that kept no events work the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Final

from lambdagraph.engine.durable import DurableRuns
from lambdagraph.errors import NotFound
from lambdagraph.protocol.events import Event
from lambdagraph.store.records import FINAL_RUN_STATUSES, Run

logger = logging.getLogger(__name__)

UNKEPT_FAILURE: Final = {
    "error": "RunFailed",
    "message": "The run failed. It was streamed without stream_resumable, so its events "
    "were not kept; the thread keeps its last checkpoint.",
}

FOLLOW_POLL_SECONDS: Final = 0.1
"""How often a follower reads the event log while the run is quiet."""

# A logged run that is over but has no end marker this long after was cut short between its
# last batch and the marker (a crash, a lost batch): stop following, skipping any gap.
_UNLOGGED_GRACE: Final = 2.0
# How long a replay of a just-finished run waits for its last batches to reach the log.
_REPLAY_SETTLE: Final = 5.0


class RunFollower:
    """Reads runs' event logs for followers.

    Args:
        durable: the durable-run machinery (event log, leases, recovery).
    """

    def __init__(self, durable: DurableRuns) -> None:
        self.durable = durable

    async def last_event_seq(self, run_id: str) -> int:
        """The id of the run's last logged event (``-1``: none yet)."""
        return await self.durable.log.last_seq(run_id)

    async def follow(
        self, run: Run, after: int, *, poll: float = FOLLOW_POLL_SECONDS
    ) -> AsyncIterator[list[Event]]:
        """Every logged event of ``run`` after ``after``, then live ones, until its log ends.

        Yields each read's events; an empty list while the run is quiet (one per ``poll``),
        so the caller can keep its connection alive. Checks the run now and then: one whose
        process died is recovered (the follower gets its ``error`` event and the end). A run
        that was never logged (streamed without ``stream_resumable``) kept no events: once
        it is over the follower gets its outcome instead, the thread's final ``values`` (and
        an ``error`` event if it failed).
        """
        loop = asyncio.get_running_loop()
        last_check = -float("inf")
        final_since: float | None = None
        logged = False
        seen_log = after >= 0  # the caller saw logged events of this run already
        leases = self.durable.leases
        while True:
            late = final_since is not None and loop.time() - final_since > _UNLOGGED_GRACE
            read = await self.durable.log.read_after(run["run_id"], after, skip_gaps=late)
            if read.events:
                after = int(read.events[-1].id or after)
                seen_log = True
            yield read.events
            if read.ended:
                return
            now = loop.time()
            # Logged runs are checked about twice per lease (a dead worker shows within one
            # and a half leases); unlogged ones often, since only their status tells.
            check_every = min(leases.lease_seconds / 2, 5.0) if logged else 5 * poll
            if not read.events and now - last_check >= check_every:
                last_check = now
                logged = logged or await leases.get(run["run_id"]) is not None
                try:
                    run = await self.durable.recover(await self.durable.store.read_run(run))
                    final = run["status"] in FINAL_RUN_STATUSES
                except NotFound:
                    final = True  # a stateless run's records go with its temporary thread
                if final and final_since is None:
                    final_since = now
            if final_since is not None and (not logged or late):
                if not seen_log:
                    yield await self._outcome(run)
                return  # over, and nothing (more) will be logged
            if not read.events:
                await asyncio.sleep(poll)

    async def _outcome(self, run: Run) -> list[Event]:
        """What is left of a run whose events were not kept: the thread's final values."""
        events: list[Event] = []
        try:
            thread = await self.durable.store.get_thread(run["owner"], run["thread_id"])
        except NotFound:
            thread = None  # a stateless run's thread goes with it
        if thread is not None and thread.get("values") is not None:
            events.append(Event("values", thread.get("values")))
        if run["status"] == "error":
            events.append(Event("error", UNKEPT_FAILURE))
        return events

    async def replay(
        self, run_id: str, after: int, *, poll: float = FOLLOW_POLL_SECONDS
    ) -> list[Event]:
        """A finished run's logged events after ``after``.

        Waits briefly for a just-finished run's last batches; a log that stays incomplete
        (a crash between two batches) is replayed as it is.
        """
        log = self.durable.log
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _REPLAY_SETTLE
        while True:
            read = await log.read_after(run_id, after)
            if read.ended or (read.end_seq is None and not read.gap and loop.time() >= deadline):
                return read.events
            if loop.time() >= deadline:
                logger.warning("event log of run %s incomplete; replaying what is there", run_id)
                return (await log.read_after(run_id, after, skip_gaps=True)).events
            await asyncio.sleep(poll)
