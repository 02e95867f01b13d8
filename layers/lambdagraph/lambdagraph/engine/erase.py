"""Erasing a deleted thread: everything it owned, in bounded batches, resumable.

``DELETE /threads/{tid}`` answers after one conditional write (``AppStore.delete_thread``
turns the thread item into a tombstone: from then on the thread, its runs, state and history
read as not found, no run starts on it and its id cannot be created again) and hands the
erasure to a worker invocation (``{"kind": "erase", "owner", "thread_id"}``); where no worker
is configured, to a task in this process. The job (:meth:`ThreadEraser.handle`):

1. claims the tombstone's erase lease: a duplicated invocation finds it held and stops;
2. stops the runs that were live at the delete, as LangGraph Server does: the active run is
   cancelled (its executor stops within a poll and records it ``interrupted``), queued ones
   end at once; then waits until they stopped (or their process is known gone), so no
   executor writes after the erasure;
3. deletes the checkpoints of every namespace, their pending writes and S3 payloads;
4. deletes each run's partition (event log, worker lease, WebSocket index), then the run items;
5. sweeps what the stopped runs wrote while stopping, then deletes the tombstone: only then
   can the id be created again (``POST /threads`` answers 409 until then).

Every step deletes a bounded page read afresh, so a job that dies anywhere is continued by
the next one from whatever is left. Each page renews the lease; before the Lambda deadline
the job hands the tombstone over and invokes itself, like a run's continuation. A job that
died without handing over (its retries exhausted) leaves a lapsed lease: the next
``DELETE`` of the id or attempt to create it again dispatches the erasure anew.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from lambdagraph.engine.invoker import ErasePayload, Invoker
from lambdagraph.errors import ThreadNotFound
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore
from lambdagraph.store.erasure import MAX_BATCH_WRITE, ThreadErasure, Tombstone
from lambdagraph.store.leases import RunLeases
from lambdagraph.store.records import FINAL_RUN_STATUSES

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

logger = logging.getLogger(__name__)

SETTLE_SECONDS: Final = 2.0
"""After live runs stopped: time for what they write while stopping (their last event-log
batch and end marker) to land before the erasure, which sweeps once more after."""


@runtime_checkable
class BatchedThreadDelete(Protocol):
    """A saver that deletes a thread in bounded steps (``AsyncDynamoDBSaver`` does)."""

    async def adelete_thread_batch(self, thread_id: str, *, max_items: int = ...) -> bool:
        """Delete a bounded part of the thread; True once nothing of it is left."""
        ...


class _LeaseLost(Exception):
    """Another job took the tombstone over (this one stalled past its lease)."""


@dataclass
class _Job:
    thread_id: str
    holder: str
    deadline: float | None
    renew: Callable[[], Coroutine[Any, Any, bool]]

    async def keep(self) -> bool:
        """Before the next page: False when time is up (hand over), else renew the lease.

        Renewing before every page means a job that stalled past its lease (and was taken
        over, maybe finished, the id re-created) deletes nothing more: it stops here.
        """
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return False
        if not await self.renew():
            raise _LeaseLost(self.thread_id)
        return True


class ThreadEraser:
    """Deletes threads at once and erases what they owned in the background.

    Args:
        store: threads and runs (the tombstone write).
        erasure: the app-table side of the erasure.
        checkpointer: the saver holding the threads' checkpoints.
        leases: run worker leases (to tell a stopped run's process is gone).
        invoker: starts worker invocations; ``None``: erase in this process.
        lease_seconds: how long a job's claim holds (renewed before every page).
        handoff_seconds: how long a handed-over erasure may wait for its worker.
        deadline_margin: seconds before the Lambda deadline at which a job hands over.
        batch_items: items read and deleted per page.
        settle_seconds: see :data:`SETTLE_SECONDS`.
        poll_interval: seconds between reads of the live runs while they stop.
        stop_timeout: longest wait for live runs to stop (3 leases by default).
    """

    def __init__(
        self,
        store: AppStore,
        erasure: ThreadErasure,
        checkpointer: BaseCheckpointSaver[Any],
        leases: RunLeases,
        invoker: Invoker | None,
        *,
        lease_seconds: float = 30.0,
        handoff_seconds: float = 300.0,
        deadline_margin: float = 60.0,
        batch_items: int = 500,
        settle_seconds: float = SETTLE_SECONDS,
        poll_interval: float = 0.25,
        stop_timeout: float | None = None,
    ) -> None:
        self.store = store
        self.erasure = erasure
        self.checkpointer = checkpointer
        self.leases = leases
        self.invoker = invoker
        self.lease_seconds = lease_seconds
        self.handoff_seconds = handoff_seconds
        self.deadline_margin = deadline_margin
        self.batch_items = batch_items
        self.settle_seconds = settle_seconds
        self.poll_interval = poll_interval
        self.stop_timeout = 3 * lease_seconds if stop_timeout is None else stop_timeout
        self._tasks: set[asyncio.Task[str]] = set()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        store: AppStore,
        checkpointer: BaseCheckpointSaver[Any],
        invoker: Invoker | None,
    ) -> ThreadEraser:
        """An eraser on ``settings.app_table``, sharing ``store``'s client."""
        return cls(
            store,
            ThreadErasure(settings.app_table, client=store.client),
            checkpointer,
            RunLeases(
                settings.app_table, client=store.client, lease_seconds=settings.run_lease_seconds
            ),
            invoker,
            lease_seconds=settings.run_lease_seconds,
            deadline_margin=settings.deadline_margin_ms / 1000,
            poll_interval=settings.cancel_poll_interval,
        )

    async def delete(self, owner: str, thread_id: str) -> None:
        """Delete the thread now (one conditional write) and start erasing what it owned.

        Raises:
            ThreadNotFound: unknown, already deleted, or another user's thread.
        """
        try:
            await self.store.delete_thread(owner, thread_id, hold=self.handoff_seconds)
        except ThreadNotFound:
            await self.revive(thread_id)  # deleted before, and its erasure stopped?
            raise
        await self._dispatch(owner, thread_id)

    async def sweep_expired(self, now: float | None = None) -> int:
        """Handle every thread whose TTL ran out by ``now``; how many were handled.

        ``delete`` threads are deleted as ``DELETE /threads/{tid}`` deletes them (tombstone,
        then the erase job); ``keep_latest`` ones keep their newest checkpoint per namespace
        and lose the TTL. Stale expiry entries (a thread deleted, or moved by a PATCH) are
        dropped. Run on a schedule by the worker (``{"kind": "sweep"}``) and by the local
        stack; a sweep that dies is finished by the next (every step is idempotent).
        """
        handled = 0
        due = await self.store.due_expiries(time.time() if now is None else now)
        for thread_id, expires_at in due:
            found = await self.store.expiring_thread(thread_id, expires_at)
            if found is not None:
                owner, strategy = found
                if strategy == "keep_latest":
                    await self.checkpointer.aprune([thread_id], strategy="keep_latest")
                    await self.store.clear_ttl(owner, thread_id, expires_at)
                else:
                    with contextlib.suppress(ThreadNotFound):  # deleted meanwhile
                        await self.delete(owner, thread_id)
                handled += 1
            await self.store.drop_expiry(thread_id, expires_at)
        return handled

    async def revive(self, thread_id: str) -> bool:
        """Dispatch again an erasure whose job died (its lease lapsed); False if none did."""
        deleted_by = await self.erasure.revive_stale(thread_id, hold=self.handoff_seconds)
        if deleted_by is None:
            return False
        _log(thread_id).warning("The erasure of this thread had stopped; dispatching it again")
        await self._dispatch(deleted_by, thread_id)
        return True

    async def handle(
        self, payload: ErasePayload, remaining_ms: Callable[[], int] | None, holder: str
    ) -> str:
        """Erase the payload's thread (a worker invocation, or a task of this process).

        Args:
            payload: the ``erase`` payload.
            remaining_ms: the Lambda context's ``get_remaining_time_in_millis``; ``None``
                for no deadline.
            holder: the invocation's request id, recorded on the erase lease.

        Returns:
            ``erased``, ``continued`` (handed to a new invocation before the deadline), or
            ``skipped`` (nothing to erase, or another job holds the thread).
        """
        thread_id = payload["thread_id"]
        tombstone = await self.erasure.claim(thread_id, holder, hold=self.lease_seconds)
        if tombstone is None:
            return "skipped"
        deadline = None
        if remaining_ms is not None:
            deadline = time.monotonic() + remaining_ms() / 1000 - self.deadline_margin

        async def renew() -> bool:
            return await self.erasure.renew(thread_id, holder, hold=self.lease_seconds)

        job = _Job(thread_id, holder, deadline, renew)
        try:
            if await self._erase(job, tombstone):
                if not await self.erasure.delete_tombstone(thread_id, holder):
                    return "skipped"
                _log(thread_id).info("Thread erased")
                return "erased"
        except _LeaseLost:
            _log(thread_id).warning("Another job took this erasure over; stopping")
            return "skipped"
        if not await self.erasure.hand_off(thread_id, holder, hold=self.handoff_seconds):
            return "skipped"
        await self._dispatch(payload["owner"], thread_id)
        _log(thread_id).info("Erasure handed to a new invocation before the deadline")
        return "continued"

    async def aclose(self) -> None:
        """Cancel erasures still running in this process (their leases lapse; see above)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    # --- the job ---------------------------------------------------------------------

    async def _erase(self, job: _Job, tombstone: Tombstone) -> bool:
        """Erase everything but the tombstone; False if time ran out first."""
        live = tombstone.live_run_ids
        if live:
            await self.erasure.stop_runs(job.thread_id, live)
            if not await self._wait_stopped(job, live):
                return False
            await asyncio.sleep(self.settle_seconds)
        if not await self._erase_checkpoints(job):
            return False
        while run_ids := await self.erasure.run_ids(job.thread_id, limit=MAX_BATCH_WRITE):
            for run_id in run_ids:
                if not await self._erase_partition(job, run_id):
                    return False
            await self.erasure.delete_runs(job.thread_id, run_ids)
            if not await job.keep():
                return False
        for run_id in live:  # what the stopped runs wrote while stopping
            if not await self._erase_partition(job, run_id):
                return False
        if not await self._erase_thread_log(job):
            return False
        return not live or await self._erase_checkpoints(job)

    async def _wait_stopped(self, job: _Job, run_ids: tuple[str, ...]) -> bool:
        started = time.monotonic()
        waiting = list(run_ids)
        while True:
            statuses = await self.erasure.run_statuses(job.thread_id, waiting)
            waiting = [
                run_id
                for run_id in waiting
                if statuses[run_id] not in (None, *FINAL_RUN_STATUSES)
                and not await self._process_gone(run_id, waited=time.monotonic() - started)
            ]
            if not waiting:
                return True
            if time.monotonic() - started > self.stop_timeout:
                _log(job.thread_id).warning("Runs %s did not stop; erasing anyway", waiting)
                return True
            if not await job.keep():
                return False
            await asyncio.sleep(self.poll_interval)

    async def _process_gone(self, run_id: str, *, waited: float) -> bool:
        """Whether no process executes the run: its lease lapsed, or no worker ever claimed
        it (a worker that picks it up now finds the thread deleted and does nothing)."""
        lease = await self.leases.get(run_id)
        if lease is None:  # a streamed run claims its lease beside execution: give it time
            return waited > self.lease_seconds
        return lease["attempt"] == 0 or lease["lease_until"] < time.time()

    async def _erase_checkpoints(self, job: _Job) -> bool:
        saver = self.checkpointer
        if not isinstance(saver, BatchedThreadDelete):
            await saver.adelete_thread(job.thread_id)  # a saver without bounded deletes
            return True
        while not await saver.adelete_thread_batch(job.thread_id, max_items=self.batch_items):
            if not await job.keep():
                return False
        return True

    async def _erase_partition(self, job: _Job, run_id: str) -> bool:
        while await self.erasure.delete_run_page(run_id, limit=self.batch_items) == (
            self.batch_items
        ):
            if not await job.keep():
                return False
        return True

    async def _erase_thread_log(self, job: _Job) -> bool:
        delete = self.erasure.delete_thread_log_page
        while await delete(job.thread_id, limit=self.batch_items) == self.batch_items:
            if not await job.keep():
                return False
        return True

    async def _dispatch(self, owner: str, thread_id: str) -> None:
        payload: ErasePayload = {"kind": "erase", "owner": owner, "thread_id": thread_id}
        if self.invoker is not None:
            try:
                await self.invoker.invoke(payload)
                return
            except Exception:  # noqa: BLE001 - whatever failed, the erasure must still run
                _log(thread_id).exception("Could not invoke the worker; erasing in this process")
        task = asyncio.get_running_loop().create_task(
            self.handle(payload, None, f"local-{uuid.uuid4()}"), name=f"erase-{thread_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[str]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("erasure task %s failed", task.get_name(), exc_info=exc)


def _log(thread_id: str) -> logging.LoggerAdapter[logging.Logger]:
    return logging.LoggerAdapter(logger, {"thread_id": thread_id})


__all__ = ["BatchedThreadDelete", "ThreadEraser"]
