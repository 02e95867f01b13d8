"""Who runs on a thread, and when: starting, queueing, cancelling and handing over runs.

The thread item's ``active_run_id`` is the lock: a run starts only through a conditional
write that sets it, so two runs never execute on one thread at once. Runs that must wait are
``pending`` in the thread's ``queue`` (oldest first); the executor of the active run hands
the thread to the head of the queue when it finishes (:meth:`RunScheduler.finish_run`).
Every step is optimistic: when another writer changed the thread in between, re-read and
retry (a few times, then ``Conflict``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from lambdagraph.errors import Conflict
from lambdagraph.store import items, schema
from lambdagraph.store.dynamo import call, get_s, j, n, s, string_list, translate_errors
from lambdagraph.store.records import (
    CancelAction,
    Run,
    RunStatus,
    Thread,
    ThreadStatus,
    Usage,
    run_graph_id,
)
from lambdagraph.store.table import AppTable, ConditionFailed

ATTEMPTS: Final = 8
# Keep the thread's values summary well inside DynamoDB's 400 KB item limit; the full state
# is always in the checkpoints.
SUMMARY_LIMIT: Final = 200_000


class RunScheduler(AppTable):
    """The run-lifecycle writes of :class:`~lambdagraph.store.app.AppStore`."""

    async def finish_run(
        self,
        run: Run,
        status: RunStatus,
        *,
        usage: Usage | None = None,
        aws: dict[str, Any] | None = None,
        thread_status: ThreadStatus = "idle",
        summary: tuple[Any, Mapping[str, Any]] | None = None,
    ) -> None:
        """Record a run's final status and hand its thread to the next waiting run, if any.

        Args:
            run: the run that ended.
            status: its final status.
            usage: its token counts and cost, also added to the thread's cumulative ones
                (an atomic ``ADD`` in the thread's update).
            aws: its AWS resource use.
            thread_status: the thread's status if no run is waiting.
            summary: the thread's latest ``(values, interrupts)``; None keeps the stored ones.
                Values too large to keep beside the thread are stored as null.

        A temporary (stateless) run's thread and runs are deleted instead. Either way the
        run's active entry (per-user limits) is freed.
        """
        ref = (run["thread_id"], run["run_id"])
        if run.get("temporary"):
            _, runs = await self._read_partition(run["owner"], run["thread_id"], limit=None)
            await self._delete_partition(run["thread_id"], runs)
            await self.limits.release(run["owner"], [ref])
            return
        release = self.limits.release_op(run["owner"], [ref])
        freed = [release] if release is not None else []
        run_update = {
            "Update": {
                "TableName": self.table_name,
                "Key": schema.run_key(run["thread_id"], run["run_id"]),
                "UpdateExpression": schema.FINISH_RUN,
                # An update would otherwise create a stub item for a run deleted meanwhile.
                "ConditionExpression": schema.EXISTS,
                **schema.expression_attributes(
                    schema.FINISH_RUN,
                    values={
                        ":status": s(status),
                        ":now": s(items.now_iso()),
                        ":usage": j(usage),
                        ":aws": j(aws),
                    },
                ),
            }
        }
        summary_set, summary_values = "", {}
        if summary is not None:
            values_attr = j(summary[0])
            if len(values_attr["S"]) > SUMMARY_LIMIT:
                values_attr = j(None)
            summary_set = ", values_json = :values, interrupts_json = :interrupts"
            summary_values = {":values": values_attr, ":interrupts": j(dict(summary[1]))}
        usage_clause, usage_values = items.usage_add(usage)
        for _ in range(ATTEMPTS):
            item = await self._get(schema.thread_key(run["thread_id"]))
            if (
                item is None
                or items.is_tombstone(item)
                or get_s(item, "active_run_id") != run["run_id"]
            ):
                # The thread was deleted (or handed on) meanwhile: record the run alone.
                with contextlib.suppress(ConditionFailed):
                    await self._transact([run_update, *freed])
                return
            queue = items.thread_queue(item)
            now = s(items.now_iso())
            if queue:
                update = (
                    f"SET active_run_id = :next, #status = :busy, updated_at = :now{summary_set}"
                    f" REMOVE #queue[0]{usage_clause}"
                )
                condition = (
                    f"{schema.THREAD_ACTIVE_IS_ME} AND {schema.THREAD_QUEUE_HEAD_IS}"
                    f" AND {schema.THREAD_LIVE}"
                )
                values = {
                    ":next": s(queue[0]),
                    ":busy": s("busy"),
                    ":now": now,
                    **summary_values,
                    **usage_values,
                }
                start_next = {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": schema.run_key(run["thread_id"], queue[0]),
                        "UpdateExpression": schema.START_QUEUED_RUN,
                        "ConditionExpression": schema.RUN_IS_PENDING,
                        **schema.expression_attributes(
                            schema.START_QUEUED_RUN,
                            schema.RUN_IS_PENDING,
                            values={
                                ":running": s("running"),
                                ":pending": s("pending"),
                                ":now": now,
                            },
                        ),
                    }
                }
                extra = [start_next]
            else:
                update = (
                    f"SET #status = :status, updated_at = :now{summary_set} REMOVE active_run_id"
                    f"{usage_clause}"
                )
                condition = (
                    f"{schema.THREAD_ACTIVE_IS_ME} AND {schema.THREAD_QUEUE_EMPTY}"
                    f" AND {schema.THREAD_LIVE}"
                )
                values = {
                    ":status": s(thread_status),
                    ":now": now,
                    ":zero": n(0),
                    **summary_values,
                    **usage_values,
                }
                extra = []
            values[":run_id"] = s(run["run_id"])
            thread_update = {
                "Update": {
                    "TableName": self.table_name,
                    "Key": schema.thread_key(run["thread_id"]),
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    **schema.expression_attributes(update, condition, values=values),
                }
            }
            try:
                # The release goes last: the reasons checked below keep their places.
                await self._transact([run_update, thread_update, *extra, *freed])
                return
            except ConditionFailed as failed:
                if failed.reasons[0].get("Code") != "None":
                    return  # the run item is gone: nothing left to record
                if queue and failed.reasons[2:] and failed.reasons[2].get("Code") != "None":
                    await self._drop_queue_head(run["thread_id"], queue[0])
        raise Conflict(f"Thread {run['thread_id']} changed too often; try again")

    async def active_run_refs(self, owner: str) -> list[tuple[str, str]]:
        """``(thread_id, run_id)`` of every run holding or waiting for one of the user's
        threads, read from the threads themselves (one query of the user's threads).

        Unlike the per-user limits' set, this needs no limit to be on; it costs a read of
        each of the user's threads, which only bulk cancellation pays.
        """
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": schema.GSI1,
            "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": s(schema.owner_gsi1pk(owner)),
                ":prefix": s(schema.THREAD_GSI1SK_PREFIX),
            },
        }
        refs: list[tuple[str, str]] = []
        while True:
            with translate_errors():
                out = await call(self.client.query, **request)
            for item in out.get("Items", []):
                thread_id = get_s(item, "thread_id")
                if thread_id is None:
                    continue
                waiting = [get_s(item, "active_run_id"), *items.thread_queue(item)]
                refs.extend((thread_id, run_id) for run_id in waiting if run_id)
            if "LastEvaluatedKey" not in out:
                return refs
            request["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    async def _try_start(
        self, run: Run, extra: Sequence[dict[str, Any]] = ()
    ) -> dict[str, Any] | None:
        """Start ``run`` on an idle thread. None: started; else the thread's item ({} if none).

        ``extra``: more operations of the same transaction, after the limits' (the run's
        lease reservation, see ``AppStore.create_run``).
        """
        values = {
            ":owner": s(run["owner"]),
            ":zero": n(0),
            ":run_id": s(run["run_id"]),
            ":busy": s("busy"),
            ":now": s(run["created_at"]),
            ":graph": s(run_graph_id(run)),
            ":assistant": s(run["assistant_id"]),
        }
        ops = [
            self._thread_update(run, schema.START_RUN, schema.THREAD_IDLE, values),
            self._put_run(run),
        ]
        try:
            await self._transact([*ops, *self._admit(run), *extra])
        except ConditionFailed as failed:
            if failed.reasons[0].get("Code") == "None":  # else the busy thread decides first
                self.limits.raise_if_refused(failed.reasons[len(ops) :])
            return cast(dict[str, Any], failed.reasons[0].get("Item") or {})
        return None

    def _admit(self, run: Run, *, cancels: int = 0) -> list[dict[str, Any]]:
        """The per-user limit operations of a create (its active entry, its request)."""
        return self.limits.run_ops(run["owner"], (run["thread_id"], run["run_id"]), cancels=cancels)

    async def _create_thread_with_run(
        self, run: Run, *, temporary: bool, extra: Sequence[dict[str, Any]] = ()
    ) -> bool:
        """Create the run's thread, busy with it; False if the id was taken meanwhile.

        ``extra``: as :meth:`_try_start`'s.
        """
        thread: Thread = {
            "thread_id": run["thread_id"],
            "created_at": run["created_at"],
            "updated_at": run["created_at"],
            # As on LangGraph Server, a thread a run creates starts with the run's metadata
            # (so an auth handler's `owner` stamp on the run lands on the thread too).
            "metadata": dict(run["metadata"]),
            "status": "busy",
            "owner": run["owner"],
            "active_run_id": run["run_id"],
        }
        item = items.thread_item(thread, temporary=temporary)
        item[schema.STAMP_GRAPH_ID] = s(run_graph_id(run))
        item[schema.STAMP_ASSISTANT_ID] = s(run["assistant_id"])
        put_thread = {
            "Put": {
                "TableName": self.table_name,
                "Item": item,
                "ConditionExpression": schema.THREAD_IS_NEW,
            }
        }
        try:
            await self._transact([put_thread, self._put_run(run), *self._admit(run), *extra])
        except ConditionFailed as exc:
            if exc.reasons[0].get("Code") == "None":  # else the id was taken: try again
                self.limits.raise_if_refused(exc.reasons[2:])
            if temporary:  # a fresh uuid4 collided: practically impossible
                raise Conflict("Could not create a temporary thread; retry") from exc
            return False
        return True

    async def _queue_behind(
        self,
        run: Run,
        old: Mapping[str, Any],
        active: str | None,
        extra: Sequence[dict[str, Any]] = (),
    ) -> bool:
        """Record ``run`` pending behind the active run; False if the thread changed.

        ``extra``: as :meth:`_try_start`'s.
        """
        run["status"] = "pending"
        values: dict[str, Any] = {
            ":owner": s(run["owner"]),
            ":now": s(run["created_at"]),
            ":run_ids": string_list([run["run_id"]]),
            ":empty": string_list([]),
        }
        if active is None:  # idle but runs still queued (a hand-off in progress)
            condition = f"{schema.OWNED} AND attribute_not_exists(active_run_id)"
        else:
            condition = schema.THREAD_ACTIVE_IS
            values[":active"] = s(active)
        ops: list[dict[str, Any]] = []
        waiting: list[str] = []
        cancels = 0  # runs this write cancels: they keep their active entries until they stop
        if run["multitask_strategy"] in ("interrupt", "rollback"):
            waiting = items.thread_queue(old)
            cancels = len(waiting) + (active is not None)
            condition += " AND " + ("#queue = :old_queue" if waiting else schema.THREAD_QUEUE_EMPTY)
            values.update({":old_queue": string_list(waiting), ":zero": n(0)})
            ops.append(self._thread_update(run, schema.REPLACE_QUEUE, condition, values))
            cancel_values = {
                ":action": s(run["multitask_strategy"]),
                ":now": s(run["created_at"]),
                ":interrupted": s("interrupted"),
                ":pending": s("pending"),
            }
            if active is not None:
                ops.append(self._run_update(run, active, schema.SET_CANCEL, None, cancel_values))
            for waiting_id in waiting:
                ops.append(
                    self._run_update(
                        run, waiting_id, schema.CANCEL_PENDING_RUN, None, cancel_values
                    )
                )
        else:
            ops.append(self._thread_update(run, schema.ENQUEUE_RUN, condition, values))
        ops.append(self._put_run(run))
        try:
            await self._transact([*ops, *self._admit(run, cancels=cancels), *extra])
        except ConditionFailed as failed:
            run["status"] = "running"
            if all(reason.get("Code") == "None" for reason in failed.reasons[: len(ops)]):
                self.limits.raise_if_refused(failed.reasons[len(ops) :])
            return False
        if waiting:  # ended here, never executed: nothing else frees their entries
            await self.limits.release(run["owner"], [(run["thread_id"], w) for w in waiting])
        return True

    async def _cancel_pending(self, run: Run, action: CancelAction) -> bool:
        """End a pending run and take it out of its thread's queue; False if it changed."""
        item = await self._get(schema.thread_key(run["thread_id"]))
        queue = items.thread_queue(item or {})
        now = s(items.now_iso())
        values = {":interrupted": s("interrupted"), ":action": s(action), ":now": now}
        ops = [
            self._run_update(
                run,
                run["run_id"],
                schema.CANCEL_PENDING_RUN,
                schema.RUN_IS_PENDING,
                {**values, ":pending": s("pending")},
            )
        ]
        if run["run_id"] in queue:
            index = queue.index(run["run_id"])
            update = f"REMOVE #queue[{index}] SET updated_at = :now"
            condition = f"#queue[{index}] = :next"
            thread_values = {":now": now, ":next": s(run["run_id"])}
            ops.append(self._thread_update(run, update, condition, thread_values))
        release = self.limits.release_op(run["owner"], [(run["thread_id"], run["run_id"])])
        if release is not None:
            ops.append(release)
        try:
            await self._transact(ops)
        except ConditionFailed:
            return False
        return True

    async def _drop_queue_head(self, thread_id: str, run_id: str) -> None:
        """Remove a queued run that was cancelled while it waited."""
        # A failed condition means the run is no longer the head: nothing left to drop.
        with contextlib.suppress(ConditionFailed):
            await self._update(
                schema.thread_key(thread_id),
                "REMOVE #queue[0]",
                schema.THREAD_QUEUE_HEAD_IS,
                {":next": s(run_id)},
            )
