"""Threads and runs in the app table (single-table design, keys in :mod:`store.schema`).

Every method takes the caller's user id. Ownership is checked in each write's condition and
on each read, and another user's thread or run is reported exactly like a missing one.
Methods are async and offload each boto3 call to a worker thread, so the event loop never
blocks on DynamoDB.

Starting a run is one conditional transaction on the thread item (``active_run_id``): two
runs never execute on one thread at once. A run that cannot start at once waits ``pending``
in the thread's ``queue``; the executor of the active run hands the thread to the head of the
queue when it finishes (:meth:`AppStore.finish_run`).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any, Literal, Mapping, cast

import boto3
from botocore.exceptions import ClientError
from langgraph.checkpoint.base.id import uuid6

from lambdagraph.errors import Conflict, RunNotFound, ThreadBusy, ThreadNotFound, Unavailable
from lambdagraph.settings import Settings
from lambdagraph.store import items, schema
from lambdagraph.store.dynamo import call, error_code, j, n, s, string_list, translate_errors
from lambdagraph.store.records import (
    FINAL_RUN_STATUSES,
    CancelAction,
    MultitaskStrategy,
    Run,
    RunKwargs,
    RunStatus,
    Thread,
    ThreadStatus,
    Usage,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

_ATTEMPTS = 8  # optimistic retries when another writer changed the thread between our steps
_WAIT_POLL = 0.25


class AppStore:
    """Threads and runs of every user, in one DynamoDB table.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client; one is built when omitted.

    Example:
        >>> store = AppStore.from_settings(Settings.from_env())
        >>> run = await store.create_run("alice", thread_id=tid, assistant_id="agent",
        ...                              kwargs={"input": {...}, "stream_mode": ["values"]})
    """

    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self.client = client if client is not None else boto3.client("dynamodb")

    @classmethod
    def from_settings(cls, settings: Settings) -> AppStore:
        """A store on ``settings.app_table`` with a default client."""
        return cls(settings.app_table)

    # --- threads ---------------------------------------------------------------------

    async def create_thread(
        self,
        owner: str,
        *,
        thread_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        if_exists: Literal["raise", "do_nothing"] = "raise",
    ) -> Thread:
        """Create a thread owned by ``owner``.

        Raises:
            Conflict: ``thread_id`` is taken and ``if_exists="raise"``.
            ThreadNotFound: ``thread_id`` is another user's (with ``do_nothing``).
        """
        now = items.now_iso()
        thread: Thread = {
            "thread_id": thread_id or str(uuid.uuid4()),
            "created_at": now,
            "updated_at": now,
            "metadata": dict(metadata or {}),
            "status": "idle",
            "values": None,
            "interrupts": {},
            "owner": owner,
        }
        try:
            await self._put(items.thread_item(thread), schema.THREAD_IS_NEW)
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                with translate_errors():
                    raise
            if if_exists == "do_nothing":
                return await self.get_thread(owner, thread["thread_id"])
            raise Conflict(f"Thread {thread['thread_id']} already exists") from exc
        return thread

    async def get_thread(self, owner: str, thread_id: str) -> Thread:
        """The thread, or ``ThreadNotFound`` (also for another user's thread)."""
        item = await self._get(schema.thread_key(thread_id))
        if item is None or items.get_s(item, "owner") != owner:
            raise ThreadNotFound(thread_id)
        return items.thread_from_item(item)

    async def delete_thread(self, owner: str, thread_id: str) -> None:
        """Delete the thread and its runs (graph checkpoints are the saver's to delete)."""
        thread, runs = await self._read_partition(owner, thread_id, limit=None)
        keys = [schema.run_key(thread_id, r["run_id"]) for r in runs]
        keys.append(schema.thread_key(thread_id))
        for start in range(0, len(keys), 25):  # BatchWriteItem takes at most 25 requests
            batch = [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]
            request: dict[str, Any] = {self.table_name: batch}
            while request:
                with translate_errors():
                    out = await call(self.client.batch_write_item, RequestItems=request)
                request = out.get("UnprocessedItems") or {}

    async def search_threads(
        self,
        owner: str,
        *,
        metadata: dict[str, Any] | None = None,
        status: ThreadStatus | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[Thread]:
        """The owner's threads, newest first, whose metadata contains ``metadata``."""
        found: list[Thread] = []
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": schema.GSI1,
            "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": s(schema.owner_gsi1pk(owner)),
                ":prefix": s("THREAD#"),
            },
            "ScanIndexForward": False,
        }
        while len(found) < offset + limit:
            with translate_errors():
                out = await call(self.client.query, **request)
            for item in out.get("Items", []):
                thread = items.thread_from_item(item)
                if status is not None and thread["status"] != status:
                    continue
                if metadata and any(thread["metadata"].get(k) != v for k, v in metadata.items()):
                    continue
                found.append(thread)
            if "LastEvaluatedKey" not in out:
                break
            request["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        return found[offset : offset + limit]

    # --- runs ------------------------------------------------------------------------

    async def create_run(
        self,
        owner: str,
        *,
        thread_id: str | None,
        assistant_id: str,
        kwargs: RunKwargs,
        multitask_strategy: MultitaskStrategy = "enqueue",
        if_not_exists: Literal["reject", "create"] = "reject",
        metadata: dict[str, Any] | None = None,
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
        """
        now = items.now_iso()
        run: Run = {
            "run_id": str(uuid6()),
            "thread_id": thread_id or str(uuid.uuid4()),
            "assistant_id": assistant_id,
            "created_at": now,
            "updated_at": now,
            "status": "running",
            "metadata": dict(metadata or {}),
            "multitask_strategy": multitask_strategy,
            "kwargs": kwargs,
            "owner": owner,
        }
        if thread_id is None:
            run["temporary"] = True
            await self._create_thread_with_run(run, temporary=True)
            return run
        for _ in range(_ATTEMPTS):
            old = await self._try_start(run)
            if old is None:
                return run
            if not old:  # no thread by that id
                if if_not_exists != "create":
                    raise ThreadNotFound(thread_id)
                if await self._create_thread_with_run(run, temporary=False):
                    return run
                continue
            if items.get_s(old, "owner") != owner:
                raise ThreadNotFound(thread_id)
            active = items.get_s(old, "active_run_id")
            if multitask_strategy == "reject":
                raise ThreadBusy(thread_id)
            if await self._queue_behind(run, old, active):
                return run
        raise Conflict(f"Thread {thread_id} changed too often; try again")

    async def get_run(self, owner: str, thread_id: str, run_id: str) -> Run:
        """The run (a consistent read), or ``RunNotFound`` (also for another user's run)."""
        item = await self._get(schema.run_key(thread_id, run_id))
        if item is None or items.get_s(item, "owner") != owner:
            raise RunNotFound(run_id)
        return items.run_from_item(item)

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
        for _ in range(_ATTEMPTS):
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
                except _ConditionFailed:
                    continue
                return items.run_from_item(out)
            if await self._cancel_pending(run, action):
                run.update(status="interrupted", cancel=action)
                return run
        raise Conflict(f"Run {run_id} changed too often; try again")

    async def wait_for_run(
        self, owner: str, thread_id: str, run_id: str, *, timeout: float | None
    ) -> Run:
        """Return once the run reaches a final status, or as it is when ``timeout`` passes."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            run = await self.get_run(owner, thread_id, run_id)
            if run["status"] in FINAL_RUN_STATUSES:
                return run
            if deadline is not None and loop.time() >= deadline:
                return run
            pause = _WAIT_POLL if deadline is None else min(_WAIT_POLL, deadline - loop.time())
            await asyncio.sleep(max(pause, 0))

    # --- used by the executor --------------------------------------------------------

    async def read_run(self, run: Run) -> Run:
        """A fresh consistent copy of ``run`` (cancel flag, status)."""
        return await self.get_run(run["owner"], run["thread_id"], run["run_id"])

    async def finish_run(
        self,
        run: Run,
        status: RunStatus,
        *,
        usage: Usage | None = None,
        thread_status: ThreadStatus = "idle",
        values: Any = None,
        interrupts: Mapping[str, Any] | None = None,
    ) -> None:
        """Record a run's final status and hand its thread to the next waiting run, if any.

        A temporary (stateless) run's thread and runs are deleted instead.
        """
        if run.get("temporary"):
            await self.delete_thread(run["owner"], run["thread_id"])
            return
        run_update = {
            "Update": {
                "TableName": self.table_name,
                "Key": schema.run_key(run["thread_id"], run["run_id"]),
                "UpdateExpression": schema.FINISH_RUN,
                **schema.expression_attributes(
                    schema.FINISH_RUN,
                    values={":status": s(status), ":now": s(items.now_iso()), ":usage": j(usage)},
                ),
            }
        }
        summary = {":values": j(values), ":interrupts": j(dict(interrupts or {}))}
        for _ in range(_ATTEMPTS):
            item = await self._get(schema.thread_key(run["thread_id"]))
            if item is None or items.get_s(item, "active_run_id") != run["run_id"]:
                await self._transact([run_update])  # thread deleted meanwhile
                return
            queue = items.thread_queue(item)
            now = s(items.now_iso())
            if queue:
                update = (
                    "SET active_run_id = :next, #status = :busy, updated_at = :now, "
                    "values_json = :values, interrupts_json = :interrupts REMOVE #queue[0]"
                )
                condition = f"{schema.THREAD_ACTIVE_IS_ME} AND {schema.THREAD_QUEUE_HEAD_IS}"
                values = {":next": s(queue[0]), ":busy": s("busy"), ":now": now, **summary}
                start_next = {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": schema.run_key(run["thread_id"], queue[0]),
                        "UpdateExpression": schema.START_QUEUED_RUN,
                        "ConditionExpression": schema.RUN_IS_PENDING,
                        **schema.expression_attributes(
                            schema.START_QUEUED_RUN,
                            schema.RUN_IS_PENDING,
                            values={":running": s("running"), ":pending": s("pending"), ":now": now},
                        ),
                    }
                }
                extra = [start_next]
            else:
                update = (
                    "SET #status = :status, updated_at = :now, values_json = :values, "
                    "interrupts_json = :interrupts REMOVE active_run_id"
                )
                condition = f"{schema.THREAD_ACTIVE_IS_ME} AND {schema.THREAD_QUEUE_EMPTY}"
                values = {":status": s(thread_status), ":now": now, ":zero": n(0), **summary}
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
                await self._transact([run_update, thread_update, *extra])
                return
            except _ConditionFailed as failed:
                if queue and failed.reasons[2:] and failed.reasons[2].get("Code") != "None":
                    await self._drop_queue_head(run["thread_id"], queue[0])
        raise Conflict(f"Thread {run['thread_id']} changed too often; try again")

    # --- internals -------------------------------------------------------------------

    async def _try_start(self, run: Run) -> dict[str, Any] | None:
        """Start ``run`` on an idle thread. None: started; else the thread's item ({} if none)."""
        values = {
            ":owner": s(run["owner"]),
            ":zero": n(0),
            ":run_id": s(run["run_id"]),
            ":busy": s("busy"),
            ":now": s(run["created_at"]),
        }
        try:
            await self._transact(
                [
                    self._thread_update(run, schema.START_RUN, schema.THREAD_IDLE, values),
                    self._put_run(run),
                ]
            )
        except _ConditionFailed as failed:
            return cast(dict[str, Any], failed.reasons[0].get("Item") or {})
        return None

    async def _create_thread_with_run(self, run: Run, *, temporary: bool) -> bool:
        """Create the run's thread, busy with it; False if the id was taken meanwhile."""
        thread: Thread = {
            "thread_id": run["thread_id"],
            "created_at": run["created_at"],
            "updated_at": run["created_at"],
            "metadata": {},
            "status": "busy",
            "owner": run["owner"],
            "active_run_id": run["run_id"],
        }
        put_thread = {
            "Put": {
                "TableName": self.table_name,
                "Item": items.thread_item(thread, temporary=temporary),
                "ConditionExpression": schema.THREAD_IS_NEW,
            }
        }
        try:
            await self._transact([put_thread, self._put_run(run)])
        except _ConditionFailed as exc:
            if temporary:  # a fresh uuid4 collided: practically impossible
                raise Conflict("Could not create a temporary thread; retry") from exc
            return False
        return True

    async def _queue_behind(self, run: Run, old: Mapping[str, Any], active: str | None) -> bool:
        """Record ``run`` pending behind the active run; False if the thread changed."""
        run["status"] = "pending"
        values: dict[str, Any] = {
            ":owner": s(run["owner"]),
            ":now": s(run["created_at"]),
            ":run_ids": string_list([run["run_id"]]),
            ":empty": string_list([]),
        }
        if active is None:  # idle but runs still queued (a hand-off in progress)
            condition = "attribute_exists(PK) AND #owner = :owner AND attribute_not_exists(active_run_id)"
        else:
            condition = schema.THREAD_ACTIVE_IS
            values[":active"] = s(active)
        ops: list[dict[str, Any]] = []
        if run["multitask_strategy"] in ("interrupt", "rollback"):
            waiting = items.thread_queue(old)
            condition += " AND " + (
                "#queue = :old_queue" if waiting else schema.THREAD_QUEUE_EMPTY
            )
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
            await self._transact(ops)
        except _ConditionFailed:
            run["status"] = "running"
            return False
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
        try:
            await self._transact(ops)
        except _ConditionFailed:
            return False
        return True

    async def _drop_queue_head(self, thread_id: str, run_id: str) -> None:
        """Remove a queued run that was cancelled while it waited."""
        try:
            await self._update(
                schema.thread_key(thread_id),
                "REMOVE #queue[0]",
                schema.THREAD_QUEUE_HEAD_IS,
                {":next": s(run_id)},
            )
        except _ConditionFailed:
            pass

    async def _read_partition(
        self, owner: str, thread_id: str, *, limit: int | None
    ) -> tuple[Thread, list[Run]]:
        """The thread and its newest runs in one query (the thread item sorts last)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": s(schema.thread_pk(thread_id))},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if limit is not None:
            request["Limit"] = limit + 1
        with translate_errors():
            out = await call(self.client.query, **request)
        found = out.get("Items", [])
        if not found or not items.is_thread_item(found[0]) or items.get_s(found[0], "owner") != owner:
            raise ThreadNotFound(thread_id)
        thread = items.thread_from_item(found[0])
        runs = [items.run_from_item(i) for i in found[1:]]
        while limit is None and "LastEvaluatedKey" in out:
            request["ExclusiveStartKey"] = out["LastEvaluatedKey"]
            with translate_errors():
                out = await call(self.client.query, **request)
            runs.extend(items.run_from_item(i) for i in out.get("Items", []))
        return thread, runs

    def _thread_update(
        self, run: Run, update: str, condition: str, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": schema.thread_key(run["thread_id"]),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                **schema.expression_attributes(update, condition, values=values),
            }
        }

    def _run_update(
        self, run: Run, run_id: str, update: str, condition: str | None, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        op: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": schema.run_key(run["thread_id"], run_id),
            "UpdateExpression": update,
            **schema.expression_attributes(update, condition or "", values=values),
        }
        if condition:
            op["ConditionExpression"] = condition
        return {"Update": op}

    def _put_run(self, run: Run) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": items.run_item(run),
                "ConditionExpression": schema.RUN_IS_NEW,
            }
        }

    async def _get(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        with translate_errors():
            out = await call(
                self.client.get_item, TableName=self.table_name, Key=key, ConsistentRead=True
            )
        return cast(dict[str, Any] | None, out.get("Item"))

    async def _put(self, item: Mapping[str, Any], condition: str) -> None:
        await call(
            self.client.put_item,
            TableName=self.table_name,
            Item=item,
            ConditionExpression=condition,
        )

    async def _update(
        self, key: Mapping[str, Any], update: str, condition: str, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        try:
            with translate_errors():
                out = await call(
                    self.client.update_item,
                    TableName=self.table_name,
                    Key=key,
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ReturnValues="ALL_NEW",
                    **schema.expression_attributes(update, condition, values=values),
                )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise _ConditionFailed([{"Code": "ConditionalCheckFailed"}]) from exc
        return cast(dict[str, Any], out["Attributes"])

    async def _transact(self, ops: list[dict[str, Any]]) -> None:
        try:
            with translate_errors():
                await call(self.client.transact_write_items, TransactItems=ops)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
            if not any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                # Cancelled by a concurrent transaction on the same items: retryable.
                raise Unavailable("The thread is being changed concurrently; retry") from exc
            raise _ConditionFailed(reasons) from exc


class _ConditionFailed(Exception):
    """A conditional write lost: the item was not in the state the caller expected."""

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        super().__init__("condition failed")
        self.reasons = reasons


__all__ = ["AppStore"]
