"""The app-table side of erasing a deleted thread: its erase lease, its runs, their partitions.

``AppStore.delete_thread`` turns the thread item into a tombstone; the erase job
(``lambdagraph.engine.erase``) then uses :class:`ThreadErasure` to take the tombstone's erase
lease, stop the runs that were live, and delete what the thread owned here in bounded pages:
each run's ``RUN#`` partition (event log, worker lease, WebSocket index), the run items, and
last the tombstone itself. Every step is idempotent: a page is always read afresh, so a job
that dies anywhere is continued by the next one from whatever is left.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from lambdagraph.errors import Unavailable
from lambdagraph.store import items, schema
from lambdagraph.store.dynamo import call, error_code, get_s, n, s, translate_errors
from lambdagraph.store.records import RunStatus
from lambdagraph.store.table import AppTable, ConditionFailed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

MAX_BATCH_WRITE: Final = 25
"""BatchWriteItem takes at most 25 requests."""

_RETRIES: Final = 8


@dataclass(frozen=True)
class Tombstone:
    """A deleted thread whose erasure is under way.

    Attributes:
        thread_id: the thread.
        deleted_by: the user who deleted it.
        live_run_ids: the runs active or queued when it was deleted (to stop first).
    """

    thread_id: str
    deleted_by: str
    live_run_ids: tuple[str, ...]


class ThreadErasure(AppTable):
    """Erase-lease and bulk-delete operations on the app table.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client; one is built when omitted.
        clock: seconds since the epoch, for the erase lease (tests pass a fake).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(table_name, client=client)
        self.clock = clock

    # --- the erase lease -------------------------------------------------------------

    async def claim(self, thread_id: str, holder: str, *, hold: float) -> Tombstone | None:
        """Take the tombstone's erase lease for ``hold`` seconds.

        Returns:
            The tombstone, or ``None`` when there is none (erased already) or another job
            holds a lease that has not lapsed.
        """
        values = {
            ":handoff": s(schema.ERASE_HANDOFF),
            ":holder": s(holder),
            ":next": s(holder),
            ":now": n(self.clock()),
            ":until": n(round(self.clock() + hold, 3)),
        }
        try:
            item = await self._update(
                schema.thread_key(thread_id), schema.HOLD_ERASE, schema.CLAIM_ERASE, values
            )
        except ConditionFailed:
            return None
        live = [r for r in [get_s(item, "active_run_id")] if r] + items.thread_queue(item)
        return Tombstone(thread_id, get_s(item, "deleted_by") or "", tuple(dict.fromkeys(live)))

    async def renew(self, thread_id: str, holder: str, *, hold: float) -> bool:
        """Extend ``holder``'s lease; False if it no longer holds the tombstone."""
        return await self._hold(thread_id, holder, schema.ERASE_HELD, holder=holder, hold=hold)

    async def hand_off(self, thread_id: str, holder: str, *, hold: float) -> bool:
        """Release the lease to the next invocation (which gets ``hold`` seconds to claim it)."""
        return await self._hold(
            thread_id, schema.ERASE_HANDOFF, schema.ERASE_HELD, holder=holder, hold=hold
        )

    async def revive_stale(self, thread_id: str, *, hold: float) -> str | None:
        """Hand a tombstone whose erase job died (lease lapsed) to a new job.

        Returns:
            The user who deleted the thread if the erasure must be dispatched again, else
            ``None`` (no tombstone, or its job is alive).
        """
        values = {
            ":next": s(schema.ERASE_HANDOFF),
            ":now": n(self.clock()),
            ":until": n(round(self.clock() + hold, 3)),
        }
        try:
            item = await self._update(
                schema.thread_key(thread_id), schema.HOLD_ERASE, schema.ERASE_STALE, values
            )
        except ConditionFailed:
            return None
        return get_s(item, "deleted_by") or ""

    async def delete_tombstone(self, thread_id: str, holder: str) -> bool:
        """Remove the tombstone (the id can be created again); False if not ``holder``'s."""
        try:
            with translate_errors():
                await call(
                    self.client.delete_item,
                    TableName=self.table_name,
                    Key=schema.thread_key(thread_id),
                    ConditionExpression=schema.ERASE_HELD,
                    ExpressionAttributeValues={":holder": s(holder)},
                )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    # --- the runs that were live -----------------------------------------------------

    async def stop_runs(self, thread_id: str, run_ids: Sequence[str]) -> None:
        """Cancel live runs as a user's cancel does: flag a running one (its executor stops
        and records it ``interrupted``), end a pending one at once."""
        common = {":action": s("interrupt"), ":now": s(items.now_iso())}
        attempts = (
            (schema.SET_CANCEL, schema.RUN_IS_RUNNING, {":running": s("running")}),
            (
                schema.CANCEL_PENDING_RUN,
                schema.RUN_IS_PENDING,
                {":pending": s("pending"), ":interrupted": s("interrupted")},
            ),
        )
        for run_id in run_ids:
            key = schema.run_key(thread_id, run_id)
            for update, condition, values in attempts:
                try:
                    await self._update(key, update, condition, {**common, **values})
                except ConditionFailed:
                    continue  # not in that status (or gone): try the other, else nothing to do
                break

    async def run_statuses(
        self, thread_id: str, run_ids: Sequence[str]
    ) -> dict[str, RunStatus | None]:
        """Each run's status (``None`` for a run whose item is gone), consistently read."""
        keys = [schema.run_key(thread_id, run_id) for run_id in run_ids]
        found: dict[str, RunStatus | None] = {run_id: None for run_id in run_ids}
        for start in range(0, len(keys), 100):  # BatchGetItem reads at most 100 keys
            for item in (await self._get_many(keys[start : start + 100])).values():
                found[str(get_s(item, "run_id"))] = items.run_from_item(item)["status"]
        return found

    # --- bulk deletes ----------------------------------------------------------------

    async def run_ids(self, thread_id: str, *, limit: int) -> list[str]:
        """Up to ``limit`` of the thread's remaining run ids (oldest first)."""
        keys = await self._keys_page(
            schema.thread_pk(thread_id), limit=limit, sk_prefix=schema.RUN_SK_PREFIX
        )
        return [key["SK"]["S"].removeprefix(schema.RUN_SK_PREFIX) for key in keys]

    async def delete_runs(self, thread_id: str, run_ids: Sequence[str]) -> None:
        """Delete run items (after their partitions: a run item left means work left)."""
        await self._batch_delete([schema.run_key(thread_id, run_id) for run_id in run_ids])

    async def delete_run_page(self, run_id: str, *, limit: int) -> int:
        """Delete up to ``limit`` items of the run's ``RUN#`` partition; how many there were."""
        return await self._delete_page(schema.events_pk(run_id), limit=limit)

    async def delete_thread_log_page(self, thread_id: str, *, limit: int) -> int:
        """Delete up to ``limit`` items of the thread's protocol-frame log; how many there were."""
        return await self._delete_page(schema.thread_events_pk(thread_id), limit=limit)

    async def _delete_page(self, pk: str, *, limit: int) -> int:
        keys = await self._keys_page(pk, limit=limit)
        await self._batch_delete(keys)
        return len(keys)

    async def _keys_page(
        self, pk: str, *, limit: int, sk_prefix: str | None = None
    ) -> list[dict[str, dict[str, str]]]:
        condition = "PK = :pk"
        values = {":pk": s(pk)}
        if sk_prefix is not None:
            condition += " AND begins_with(SK, :prefix)"
            values[":prefix"] = s(sk_prefix)
        with translate_errors():
            out = await call(
                self.client.query,
                TableName=self.table_name,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                ProjectionExpression="PK, SK",
                ConsistentRead=True,
                Limit=limit,
            )
        return [{"PK": item["PK"], "SK": item["SK"]} for item in out.get("Items", [])]

    async def _batch_delete(self, keys: Sequence[dict[str, dict[str, str]]]) -> None:
        chunks = [keys[i : i + MAX_BATCH_WRITE] for i in range(0, len(keys), MAX_BATCH_WRITE)]
        await asyncio.gather(*(self._delete_chunk(chunk) for chunk in chunks))

    async def _delete_chunk(self, keys: Sequence[dict[str, dict[str, str]]]) -> None:
        request: list[dict[str, Any]] = [{"DeleteRequest": {"Key": key}} for key in keys]
        for attempt in range(_RETRIES):
            with translate_errors():
                out = await call(
                    self.client.batch_write_item, RequestItems={self.table_name: request}
                )
            request = out.get("UnprocessedItems", {}).get(self.table_name, [])
            if not request:
                return
            # Throttled deletes come back unprocessed: back off before retrying them.
            await asyncio.sleep(random.uniform(0.5, 1.0) * 0.05 * 2**attempt)
        raise Unavailable("DynamoDB left deletes unprocessed; retry")

    async def _hold(
        self, thread_id: str, new_holder: str, condition: str, *, holder: str, hold: float
    ) -> bool:
        values = {
            ":holder": s(holder),
            ":next": s(new_holder),
            ":until": n(round(self.clock() + hold, 3)),
        }
        try:
            await self._update(schema.thread_key(thread_id), schema.HOLD_ERASE, condition, values)
        except ConditionFailed:
            return False
        return True


__all__ = ["ThreadErasure", "Tombstone"]
