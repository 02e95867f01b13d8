"""Threads and runs in the app table (single-table design, keys in :mod:`store.schema`).

Every method takes the caller's user id. Ownership is checked in each write's condition and
on each read, and another user's thread or run is reported exactly like a missing one.
Methods are async and offload each boto3 call to a worker thread, so the event loop never
blocks on DynamoDB.

Starting a run is one conditional transaction on the thread item (``active_run_id``): two
runs never execute on one thread at once. A run that cannot start at once waits ``pending``
in the thread's ``queue``; the executor of the active run hands the thread to the head of the
queue when it finishes (:meth:`AppStore.finish_run`).

Deleting a thread is one conditional write that turns its item into a tombstone
(:meth:`AppStore.delete_thread`); runs are read together with their thread, so a deleted
thread's runs are not found either, and ``lambdagraph.engine.erase`` erases the rest. The
thread methods (create, read, update, search, count, delete, TTL) are in
:mod:`store.threads`.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Literal

from botocore.exceptions import ClientError
from langgraph.checkpoint.base.id import uuid6

from lambdagraph.errors import Conflict, RunNotFound, ThreadBusy, ThreadNotFound
from lambdagraph.settings import Settings
from lambdagraph.store import items, schema
from lambdagraph.store.dynamo import call, error_code, get_s, s, translate_errors
from lambdagraph.store.leases import reserve_put
from lambdagraph.store.records import (
    FINAL_RUN_STATUSES,
    CancelAction,
    MultitaskStrategy,
    Run,
    RunKwargs,
)
from lambdagraph.store.scheduling import ATTEMPTS, RunScheduler
from lambdagraph.store.table import ConditionFailed
from lambdagraph.store.threads import ThreadStore, expired

_WAIT_POLL = 0.25


class AppStore(ThreadStore, RunScheduler):
    """Threads and runs of every user, in one DynamoDB table.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client; one is built when omitted.
        bucket: the checkpoint bucket; run kwargs too large for an item are stored there.

    Example:
        >>> store = AppStore.from_settings(Settings.from_env())
        >>> run = await store.create_run("alice", thread_id=tid, assistant_id="agent",
        ...                              kwargs={"input": {...}, "stream_mode": ["values"]})
    """

    @classmethod
    def from_settings(cls, settings: Settings) -> AppStore:
        """A store on ``settings.app_table`` (large run input to the checkpoint bucket), with
        the per-user limits the settings give."""
        return cls(
            settings.app_table,
            bucket=settings.checkpoint_bucket,
            max_active_runs=settings.max_active_runs_per_user,
            requests_per_minute=settings.requests_per_minute_per_user,
        )

    # --- runs ------------------------------------------------------------------------

    async def create_run(
        self,
        owner: str,
        *,
        thread_id: str | None,
        assistant_id: str,
        kwargs: RunKwargs,
        graph_id: str | None = None,
        multitask_strategy: MultitaskStrategy = "enqueue",
        if_not_exists: Literal["reject", "create"] = "reject",
        metadata: dict[str, Any] | None = None,
        thread_missing: bool = False,
        lease_hold: float | None = None,
    ) -> Run:
        """Record a run with one conditional transaction on its thread.

        The run is created ``running`` when the thread is idle (so the executor needs no
        further write before the graph starts), else per ``multitask_strategy``: ``reject``
        raises ``ThreadBusy``; ``enqueue`` records it ``pending`` behind the active run;
        ``interrupt``/``rollback`` also flag the active run (and any waiting ones) for
        cancellation. ``thread_id=None`` makes a temporary thread for a stateless run.

        Raises:
            ThreadNotFound: unknown or another user's thread (unless ``if_not_exists="create"``).
            ThreadBusy: the thread is busy and the strategy is ``reject``.

        ``thread_missing``: the caller has just read that no thread has this id; with
        ``if_not_exists="create"`` the thread is created first (one transaction, not a
        failed start and then a create). Both are conditional, so a thread created
        meanwhile is still found and started on.

        ``lease_hold``: also reserve the run's worker lease (``RunLeases.reserve``, held
        this many seconds) in the same transaction, saving the hand-over its own write.
        """
        now = items.now_iso()
        run: Run = {
            "run_id": str(uuid6()),
            "thread_id": thread_id or str(uuid.uuid4()),
            "assistant_id": assistant_id,
            "graph_id": graph_id or assistant_id,
            "created_at": now,
            "updated_at": now,
            "status": "running",
            "metadata": dict(metadata or {}),
            "multitask_strategy": multitask_strategy,
            "kwargs": kwargs,
            "owner": owner,
        }
        await self._offload_kwargs(run)
        if thread_id is None:
            run["temporary"] = True
            await self._create_thread_with_run(run, temporary=True)
            return run
        extra = []
        if lease_hold is not None:
            extra.append(reserve_put(self.table_name, run["run_id"], lease_hold))
        created = thread_missing and if_not_exists == "create"
        if created and await self._create_thread_with_run(run, temporary=False, extra=extra):
            return run
        for _ in range(ATTEMPTS):
            old = await self._try_start(run, extra)
            if old is None:
                return run
            if not old:  # no thread by that id
                if if_not_exists != "create":
                    raise ThreadNotFound(thread_id)
                if await self._create_thread_with_run(run, temporary=False, extra=extra):
                    return run
                continue
            if get_s(old, "owner") != owner or expired(old):
                raise ThreadNotFound(thread_id)
            active = get_s(old, "active_run_id")
            if multitask_strategy == "reject":
                raise ThreadBusy(thread_id)
            if await self._queue_behind(run, old, active, extra):
                return run
        raise Conflict(f"Thread {thread_id} changed too often; try again")

    async def get_run(self, owner: str, thread_id: str, run_id: str) -> Run:
        """The run (a consistent read), or ``RunNotFound`` (also for another user's run).

        The run and its thread are read together (one ``BatchGetItem``): a run of a deleted
        thread is not found from the moment of the delete, before the erase job reaches it.
        """
        run_key, thread_key = schema.run_key(thread_id, run_id), schema.thread_key(thread_id)
        found = await self._get_many([run_key, thread_key])
        item, thread = found.get(_key_of(run_key)), found.get(_key_of(thread_key))
        if item is None or get_s(item, "owner") != owner:
            raise RunNotFound(run_id)
        if thread is None or get_s(thread, "owner") != owner:
            raise RunNotFound(run_id)
        return await self._run_from_item(item)

    async def list_runs(
        self, owner: str, thread_id: str, *, limit: int = 10, offset: int = 0
    ) -> list[Run]:
        """The thread's runs, newest first (``ThreadNotFound`` for a foreign thread)."""
        _, runs = await self._read_partition(owner, thread_id, limit=offset + limit)
        return runs[offset : offset + limit]

    async def cancel_run(
        self, owner: str, thread_id: str, run_id: str, action: CancelAction = "interrupt"
    ) -> Run:
        """Cancel a run: flag a running one for its executor; end a pending one at once.

        A run already in a final status is returned unchanged.
        """
        for _ in range(ATTEMPTS):
            run = await self.get_run(owner, thread_id, run_id)
            if run["status"] in FINAL_RUN_STATUSES:
                return run
            values = {":action": s(action), ":now": s(items.now_iso()), ":owner": s(owner)}
            if run["status"] == "running":
                condition = f"{schema.OWNED} AND {schema.RUN_IS_RUNNING}"
                values[":running"] = s("running")
                try:
                    out = await self._update(
                        schema.run_key(thread_id, run_id), schema.SET_CANCEL, condition, values
                    )
                except ConditionFailed:
                    continue
                return await self._run_from_item(out)
            if await self._cancel_pending(run, action):
                run["status"] = "interrupted"
                run["cancel"] = action
                return run
        raise Conflict(f"Run {run_id} changed too often; try again")

    async def delete_run(self, owner: str, thread_id: str, run_id: str) -> None:
        """Delete a run that has ended (one conditional delete of its item).

        Raises:
            RunNotFound: unknown or another user's run (or its thread is deleted).
            Conflict: the run is pending or running (cancel it first).
        """
        await self.get_run(owner, thread_id, run_id)
        values = {":owner": s(owner), ":pending": s("pending"), ":running": s("running")}
        try:
            with translate_errors():
                await call(
                    self.client.delete_item,
                    TableName=self.table_name,
                    Key=schema.run_key(thread_id, run_id),
                    ConditionExpression=schema.RUN_HAS_ENDED,
                    **schema.expression_attributes(schema.RUN_HAS_ENDED, values=values),
                )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            run = await self.get_run(owner, thread_id, run_id)  # RunNotFound once it is gone
            raise Conflict(
                f"Run {run_id} is {run['status']}; cancel it before deleting it"
            ) from exc

    async def wait_for_run(
        self, owner: str, thread_id: str, run_id: str, *, timeout: float | None
    ) -> Run:
        """Return once the run reaches a final status, or as it is when ``timeout`` passes."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        run = await self.get_run(owner, thread_id, run_id)
        while True:
            if run["status"] in FINAL_RUN_STATUSES:
                return run
            if deadline is not None and loop.time() >= deadline:
                return run
            pause = _WAIT_POLL if deadline is None else min(_WAIT_POLL, deadline - loop.time())
            await asyncio.sleep(max(pause, 0))
            # The thread was checked above; if it is deleted meanwhile, the erase job cancels
            # the run, so the run item alone tells when the wait is over.
            run = await self.read_run(run)

    async def active_runs(self, owner: str) -> list[Run]:
        """The runs holding the user's active-run entries (per-user limits), pending or
        running; entries of runs that ended or are gone (an erased thread) are freed here.

        The runs come without offloaded kwargs: this is for checking on them, not for
        executing them.
        """
        refs = await self.limits.active(owner)
        keys = [schema.run_key(thread_id, run_id) for thread_id, run_id in refs]
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(keys), 100):  # BatchGetItem reads at most 100 keys
            found.update(await self._get_many(keys[start : start + 100]))
        live: list[Run] = []
        ended: list[tuple[str, str]] = []
        for ref, key in zip(refs, keys, strict=True):
            item = found.get(_key_of(key))
            run = items.run_from_item(item) if item is not None else None
            if run is None or run["owner"] != owner or run["status"] in FINAL_RUN_STATUSES:
                ended.append(ref)
            else:
                live.append(run)
        await self.limits.release(owner, ended)
        return live

    # --- used by the executor --------------------------------------------------------

    async def read_run(self, run: Run) -> Run:
        """A fresh consistent copy of ``run`` (cancel flag, status): the run item alone.

        Pollers of a run they already hold use this; a deleted thread's runs are cancelled by
        its erase job, and a run whose item is gone raises ``RunNotFound``. Kwargs never
        change after creation: offloaded ones are taken from ``run`` rather than read from S3
        again on every poll.
        """
        item = await self._get(schema.run_key(run["thread_id"], run["run_id"]))
        if item is None or get_s(item, "owner") != run["owner"]:
            raise RunNotFound(run["run_id"])
        if items.offloaded_kwargs_key(item) is None:
            return items.run_from_item(item)
        return {**items.run_from_item(item), "kwargs": run["kwargs"]}


def _key_of(key: dict[str, dict[str, str]]) -> tuple[str, str]:
    return key["PK"]["S"], key["SK"]["S"]


__all__ = ["AppStore"]
