"""Threads in the app table: create, read, update, search, count, delete, time to live.

Every method takes the caller's user id; another user's thread reads exactly like a
missing one. A thread whose TTL (strategy ``delete``) has run out reads as gone at once,
before the sweep (:meth:`ThreadStore.due_expiries`, run by ``lambdagraph.engine.erase``)
erases it like a delete. Keys and conditions are in :mod:`store.schema`.
"""

from __future__ import annotations

import contextlib
import math
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, cast

from botocore.exceptions import ClientError

from lambdagraph.errors import Conflict, ThreadNotFound
from lambdagraph.store import items, schema
from lambdagraph.store.dynamo import call, error_code, get_s, j, n, s, translate_errors
from lambdagraph.store.filters import Filters, contains, matches
from lambdagraph.store.records import (
    Thread,
    ThreadSortBy,
    ThreadStatus,
    ThreadTtlInfo,
    ThreadTtlStrategy,
    Usage,
)
from lambdagraph.store.table import AppTable, ConditionFailed

_ATTEMPTS = 5
Ttl = tuple[float, ThreadTtlStrategy]
"""A requested TTL: minutes from now, and the strategy."""


class ThreadStore(AppTable):
    """The thread half of :class:`~lambdagraph.store.app.AppStore`."""

    async def create_thread(
        self,
        owner: str,
        *,
        thread_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        if_exists: Literal["raise", "do_nothing"] = "raise",
        ttl: Ttl | None = None,
    ) -> Thread:
        """Create a thread owned by ``owner`` (expiring after ``ttl`` when given).

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
        item = items.thread_item(thread)
        if ttl is not None:
            item.update(await self._index_expiry(thread["thread_id"], ttl))
        try:
            await self._put(item, schema.THREAD_IS_NEW)
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                with translate_errors():
                    raise
            if if_exists == "do_nothing":
                return await self.get_thread(owner, thread["thread_id"])
            raise Conflict(f"Thread {thread['thread_id']} already exists") from exc
        return _with_ttl(thread, item)

    async def get_thread(
        self, owner: str, thread_id: str, *, filters: Filters | None = None
    ) -> Thread:
        """The thread, or ``ThreadNotFound`` (also for another user's thread, one whose
        metadata does not match an auth handler's ``filters``, and an expired one)."""
        item = await self._get(schema.thread_key(thread_id))
        if item is None or get_s(item, "owner") != owner or _expired(item, time.time()):
            raise ThreadNotFound(thread_id)
        thread = _with_ttl(items.thread_from_item(item), item)
        if not matches(thread["metadata"], filters):
            raise ThreadNotFound(thread_id)
        return thread

    async def thread_usage(self, thread_id: str) -> Usage:
        """The thread's cumulative run totals (zeros for none, or a thread gone): one
        eventually consistent read of those attributes alone."""
        names = {f"#u{i}": f"usage_{key}" for i, key in enumerate(items.USAGE_KEYS)}
        with translate_errors():
            out = await call(
                self.client.get_item,
                TableName=self.table_name,
                Key=schema.thread_key(thread_id),
                ProjectionExpression=", ".join(names),
                ExpressionAttributeNames=names,
            )
        return items.thread_usage(out.get("Item") or {})

    async def update_thread(
        self,
        owner: str,
        thread_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        ttl: Ttl | None = None,
        filters: Filters | None = None,
    ) -> Thread:
        """Merge ``metadata`` into the thread's (key by key, as LangGraph Server does) and
        restart its TTL from now when ``ttl`` is given.

        Raises:
            ThreadNotFound: unknown, another user's, expired, or hidden by ``filters``.
        """
        for _ in range(_ATTEMPTS):
            item = await self._get(schema.thread_key(thread_id))
            if item is None or get_s(item, "owner") != owner or _expired(item, time.time()):
                raise ThreadNotFound(thread_id)
            old = items.thread_from_item(item)
            if not matches(old["metadata"], filters):
                raise ThreadNotFound(thread_id)
            # The run stamp (schema.STAMP_GRAPH_ID) is folded in and removed below, so keys
            # the client sends win until the next run stamps the thread again.
            merged = {**old["metadata"], **(metadata or {})}
            values: dict[str, Any] = {
                ":owner": s(owner),
                ":now": s(items.now_iso()),
                ":metadata": j(merged),
                ":seen": item["metadata_json"],
            }
            update = schema.SET_THREAD_METADATA
            removed = [schema.STAMP_GRAPH_ID, schema.STAMP_ASSISTANT_ID]
            if ttl is not None:
                expiry = await self._index_expiry(thread_id, ttl)
                update = f"{update}, {schema.SET_THREAD_TTL}"
                values.update(
                    {
                        ":expires": expiry[schema.THREAD_EXPIRES_AT],
                        ":strategy": expiry[schema.THREAD_TTL_STRATEGY],
                        ":minutes": expiry[schema.THREAD_TTL_MINUTES],
                    }
                )
                if schema.THREAD_GONE_AT in expiry:
                    update = f"{update}, {schema.SET_GONE_AT}"
                    values[":gone"] = expiry[schema.THREAD_GONE_AT]
                else:
                    removed.append(schema.THREAD_GONE_AT)
            update = f"{update} REMOVE {', '.join(removed)}"
            try:
                out = await self._update(
                    schema.thread_key(thread_id), update, schema.METADATA_UNCHANGED, values
                )
            except ConditionFailed:
                continue  # changed (or deleted) meanwhile: read again
            return _with_ttl(items.thread_from_item(out), out)
        raise Conflict(f"Thread {thread_id} changed too often; try again")

    async def set_rest_status(self, owner: str, thread_id: str, status: ThreadStatus) -> bool:
        """Record the status a state update left the thread in; False when a run started
        meanwhile (its executor records the status when it ends)."""
        values = {":owner": s(owner), ":status": s(status), ":now": s(items.now_iso())}
        try:
            await self._update(
                schema.thread_key(thread_id),
                schema.SET_THREAD_STATUS,
                schema.THREAD_AT_REST,
                values,
            )
        except ConditionFailed:
            return False
        return True

    async def delete_thread(self, owner: str, thread_id: str, *, hold: float = 300.0) -> None:
        """Delete the thread at once: one conditional write turns its item into a tombstone.

        From then on the thread, its runs, state and history read as not found, no run can
        start on it, and creating its id answers ``Conflict`` until the erase job
        (``lambdagraph.engine.erase``) has removed everything it owned and then the tombstone.

        Args:
            owner: the caller; another user's thread is not found.
            thread_id: the thread.
            hold: seconds the erasure may wait for its job before a re-create or a repeated
                delete dispatches it again.

        Raises:
            ThreadNotFound: unknown, already deleted, or another user's thread.
        """
        values = {
            ":owner": s(owner),
            ":now": s(items.now_iso()),
            ":handoff": s(schema.ERASE_HANDOFF),
            ":until": n(round(time.time() + hold, 3)),
        }
        try:
            await self._update(schema.thread_key(thread_id), schema.TOMBSTONE, schema.OWNED, values)
        except ConditionFailed:
            raise ThreadNotFound(thread_id) from None

    async def search_threads(
        self,
        owner: str,
        *,
        metadata: dict[str, Any] | None = None,
        status: ThreadStatus | None = None,
        ids: list[str] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: ThreadSortBy | None = None,
        sort_order: Literal["asc", "desc"] | None = None,
        filters: Filters | None = None,
    ) -> list[Thread]:
        """The owner's threads whose metadata contains ``metadata`` and matches an auth
        handler's ``filters``, sorted as LangGraph Server 0.16.7 sorts them.

        Without ``sort_by`` the newest (by ``updated_at``) come first; with it, descending
        unless ``sort_order="asc"``. ``state_updated_at`` sorts as ``updated_at`` (a
        thread's state and record change together here).
        """
        wanted = None if ids is None else set(ids)
        key = "updated_at" if sort_by in (None, "state_updated_at") else cast(str, sort_by)
        ascending = sort_order == "asc"
        # The owner index is in creation order: sorting by it stops reading at the page's
        # end; any other order needs every thread of the owner.
        by_index = key == "created_at"
        found: list[Thread] = []
        async for thread in self._owned_threads(owner, ascending=by_index and ascending):
            if (
                (wanted is None or thread["thread_id"] in wanted)
                and (status is None or thread["status"] == status)
                and contains(thread["metadata"], metadata)
                and matches(thread["metadata"], filters)
            ):
                found.append(thread)
                if by_index and len(found) >= offset + limit:
                    break
        if not by_index:
            found.sort(key=lambda t: str(t.get(key)), reverse=not ascending)
        return found[offset : offset + limit]

    async def count_threads(
        self,
        owner: str,
        *,
        metadata: dict[str, Any] | None = None,
        status: ThreadStatus | None = None,
        filters: Filters | None = None,
    ) -> int:
        """How many of the owner's threads :meth:`search_threads` would find, unpaged."""
        return len(
            await self.search_threads(
                owner,
                metadata=metadata,
                status=status,
                filters=filters,
                limit=2**62,
                sort_by="created_at",
            )
        )

    async def due_expiries(self, now: float) -> list[tuple[str, int]]:
        """Expiry entries due by ``now``: ``(thread_id, expires_at)``, oldest first."""
        due: list[tuple[str, int]] = []
        for shard in range(schema.EXPIRY_SHARDS):
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk AND SK <= :until",
                "ExpressionAttributeValues": {
                    ":pk": s(schema.expiry_pk(shard)),
                    ":until": s(schema.expiry_sk_until(int(now))),
                },
            }
            while True:
                with translate_errors():
                    out = await call(self.client.query, **request)
                for item in out.get("Items", []):
                    expires_at, thread_id = schema.parse_expiry_sk(item["SK"]["S"])
                    due.append((thread_id, expires_at))
                if "LastEvaluatedKey" not in out:
                    break
                request["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        return sorted(due, key=lambda entry: entry[1])

    async def expiring_thread(
        self, thread_id: str, expires_at: int
    ) -> tuple[str, ThreadTtlStrategy] | None:
        """``(owner, strategy)`` of the live thread an expiry entry is for, or ``None`` when
        the entry is stale (the thread is gone, deleted, or now expires at another time)."""
        item = await self._get(schema.thread_key(thread_id))
        owner = None if item is None else get_s(item, "owner")
        if item is None or owner is None or _expires_at(item) != expires_at:
            return None
        return owner, cast(ThreadTtlStrategy, get_s(item, schema.THREAD_TTL_STRATEGY, "delete"))

    async def clear_ttl(self, owner: str, thread_id: str, expires_at: int) -> None:
        """Take the TTL off a thread (after ``keep_latest`` pruned it) unless it moved."""
        values = {":owner": s(owner), ":expires": n(expires_at)}
        with contextlib.suppress(ConditionFailed):  # patched meanwhile: the new TTL stands
            await self._update(
                schema.thread_key(thread_id),
                schema.CLEAR_THREAD_TTL,
                schema.EXPIRES_AS_INDEXED,
                values,
            )

    async def drop_expiry(self, thread_id: str, expires_at: int) -> None:
        """Remove a handled (or stale) expiry entry."""
        with translate_errors():
            await call(
                self.client.delete_item,
                TableName=self.table_name,
                Key=schema.expiry_key(thread_id, expires_at),
            )

    async def _owned_threads(self, owner: str, *, ascending: bool) -> AsyncIterator[Thread]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": schema.GSI1,
            "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": s(schema.owner_gsi1pk(owner)),
                ":prefix": s(schema.THREAD_GSI1SK_PREFIX),
            },
            "ScanIndexForward": ascending,
        }
        now = time.time()
        while True:
            with translate_errors():
                out = await call(self.client.query, **request)
            for item in out.get("Items", []):
                if not _expired(item, now):
                    yield _with_ttl(items.thread_from_item(item), item)
            if "LastEvaluatedKey" not in out:
                return
            request["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    async def _index_expiry(self, thread_id: str, ttl: Ttl) -> dict[str, Any]:
        """Write the expiry entry for ``ttl`` from now; the attributes the thread item takes.

        The entry is written first: if the thread write then fails, the entry is stale and
        the sweep drops it; the other order could leave an expiring thread nobody sweeps.
        """
        minutes, strategy = ttl
        expires_at = math.ceil(time.time() + minutes * 60)
        entry = {
            **schema.expiry_key(thread_id, expires_at),
            schema.TTL_ATTRIBUTE: n(expires_at + schema.EXPIRY_ENTRY_GRACE_SECONDS),
        }
        with translate_errors():
            await call(self.client.put_item, TableName=self.table_name, Item=entry)
        attributes = {
            schema.THREAD_EXPIRES_AT: n(expires_at),
            schema.THREAD_TTL_STRATEGY: s(strategy),
            schema.THREAD_TTL_MINUTES: n(minutes),
        }
        if strategy == "delete":  # no run starts on it from then on (``THREAD_IDLE``)
            attributes[schema.THREAD_GONE_AT] = s(_iso(expires_at))
        return attributes


def _iso(epoch: int) -> str:
    # As ``items.now_iso`` writes times, so the two compare as strings in conditions.
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def expired(item: Mapping[str, Any], now: float | None = None) -> bool:
    """Whether a thread item's ``delete`` TTL ran out (it reads as gone from then on)."""
    return _expired(item, time.time() if now is None else now)


def _expires_at(item: Mapping[str, Any]) -> int | None:
    raw = item.get(schema.THREAD_EXPIRES_AT, {}).get("N")
    return None if raw is None else int(raw)


def _expired(item: Mapping[str, Any], now: float) -> bool:
    # Only ``delete`` hides a thread; ``keep_latest`` keeps it (pruned) once it expires.
    expires_at = _expires_at(item)
    strategy = get_s(item, schema.THREAD_TTL_STRATEGY, "delete")
    return expires_at is not None and strategy == "delete" and expires_at <= now


def _with_ttl(thread: Thread, item: Mapping[str, Any]) -> Thread:
    expires_at = _expires_at(item)
    if expires_at is not None:
        info: ThreadTtlInfo = {
            "strategy": cast(ThreadTtlStrategy, get_s(item, schema.THREAD_TTL_STRATEGY)),
            "ttl_minutes": float(item[schema.THREAD_TTL_MINUTES]["N"]),
            "expires_at": _iso(expires_at),
        }
        thread["ttl"] = info
    return thread


__all__ = ["ThreadStore", "Ttl", "expired"]
