"""LangGraph's long-term memory store (``BaseStore``) on the app table, one partition per user.

The same :class:`DynamoDBStore` serves the Store API routes (``/store/items``,
``/store/namespaces``) and is handed to graphs at runtime (``store`` in a node, or
``get_store()``). Each instance is bound to one user: every item lives in that user's
partition (``schema.kv_pk``), so a graph started by alice and alice's API calls share one
store, and nothing of hers is reachable by anyone else, whatever the namespaces say.
LangGraph Server's store is global instead (its auth handlers prefix namespaces with the
user); ours needs no such prefix, and an auth handler that adds one still works.

Each operation is written once as a *plan* (:mod:`lambdagraph.store.checkpoint.steps`), run
with blocking calls by :meth:`DynamoDBStore.batch` and with awaits by
:meth:`DynamoDBStore.abatch`, so the sync and async faces cannot drift.

Semantics, checked against LangGraph's stores (langgraph-checkpoint 4.3.2):

* search lists newest-updated first, as the Postgres store (LangGraph Server's) does; a put
  over an existing item keeps its ``created_at`` (Postgres; the in-memory store resets it);
* ``filter`` compares like the Postgres/in-memory stores (equality, nested objects, the
  ``$eq $ne $gt $gte $lt $lte`` operators) plus ``$and`` (LangGraph Server joins an auth
  handler's filter that way); a semantic ``query`` is refused (no vector index here);
* TTL in minutes: the item's ``expires_at`` (the table's TTL attribute) is set on put and
  pushed forward on read when ``refresh_ttl`` (default: ``ttl_config["refresh_on_read"]``);
  an expired item reads as gone at once, before DynamoDB's lazy TTL deletion removes it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)

from lambdagraph import aws
from lambdagraph.errors import InvalidInput
from lambdagraph.settings import Settings
from lambdagraph.store import schema
from lambdagraph.store.checkpoint.steps import Call, Outcome, Parallel, Plan, Step, resume
from lambdagraph.store.dynamo import error_code, get_j, get_s, j, n, s, translate_errors
from lambdagraph.store.kv.match import check_filter, matches_filter, namespace_matches

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

SEMANTIC_SEARCH_REFUSED = (
    "Semantic search (query) is not supported: the DynamoDB store has no vector index; "
    "search by namespace_prefix and filter instead"
)
DEFAULT_TTL_CONFIG: TTLConfig = {"refresh_on_read": True, "default_ttl": None}


def store_ttl(settings: Settings) -> TTLConfig:
    """The TTL policy of ``settings`` (``LAMBDAGRAPH_STORE_DEFAULT_TTL_MINUTES`` and
    ``LAMBDAGRAPH_STORE_REFRESH_ON_READ``), as LangGraph's ``TTLConfig``."""
    return {
        "default_ttl": settings.store_default_ttl_minutes or None,
        "refresh_on_read": settings.store_refresh_on_read,
    }


class DynamoDBStore(BaseStore):
    """One user's items in the app table, as a LangGraph ``BaseStore`` (sync and async).

    Args:
        table_name: the app table (``template.yaml``'s ``AppTable``).
        owner: the user whose partition this store reads and writes.
        client: a boto3 DynamoDB client (thread-safe; shared with the app store).
        ttl: LangGraph's ``TTLConfig`` (``default_ttl`` minutes, ``refresh_on_read``).
        clock: seconds since the epoch (tests move it to expire items without waiting).

    Example:
        >>> store = DynamoDBStore("lambdagraph-app", "alice")
        >>> store.put(("memories", "prefs"), "color", {"likes": "blue"})
        >>> store.get(("memories", "prefs"), "color").value
        {'likes': 'blue'}
    """

    supports_ttl = True

    def __init__(
        self,
        table_name: str,
        owner: str,
        *,
        client: DynamoDBClient | None = None,
        ttl: TTLConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.owner = owner
        self.client: DynamoDBClient = client or aws.client("dynamodb")
        self.ttl_config = cast(TTLConfig, {**DEFAULT_TTL_CONFIG, **(ttl or {})})
        self.clock = clock

    def for_owner(self, owner: str) -> DynamoDBStore:
        """The same table, client and TTL policy, bound to another user's partition."""
        return DynamoDBStore(
            self.table_name, owner, client=self.client, ttl=self.ttl_config, clock=self.clock
        )

    # --- the two faces ------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` with blocking boto3 calls (reads first, then writes)."""
        plan = self._batch_plan(list(ops))
        with translate_errors():
            try:
                step = next(plan)
                while True:
                    step = resume(plan, self._execute(step))
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` with each boto3 call in a worker thread (reads first, then writes)."""
        plan = self._batch_plan(list(ops))
        with translate_errors():
            try:
                step = next(plan)
                while True:
                    step = resume(plan, await self._aexecute(step))
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    def _call(self, call: Call) -> dict[str, Any]:
        result: dict[str, Any] = getattr(self.client, call.operation)(**call.params)
        return result

    def _attempt(self, call: Call) -> dict[str, Any] | ClientError:
        try:
            return self._call(call)
        except ClientError as exc:
            return exc

    def _execute(self, step: Step) -> Outcome:
        if isinstance(step, Parallel):
            return [self._attempt(call) for call in step.calls]
        if isinstance(step, Call):
            return self._call(step)
        raise TypeError(f"the store's plans do not yield {type(step).__name__}")

    async def _aexecute(self, step: Step) -> Outcome:
        if isinstance(step, Parallel):
            calls = (asyncio.to_thread(self._attempt, call) for call in step.calls)
            return list(await asyncio.gather(*calls))
        if isinstance(step, Call):
            return await asyncio.to_thread(self._call, step)
        raise TypeError(f"the store's plans do not yield {type(step).__name__}")

    # --- plans --------------------------------------------------------------------------

    def _batch_plan(self, ops: list[Op]) -> Plan[list[Result]]:
        results: list[Result] = [None] * len(ops)
        puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for index, op in enumerate(ops):
            if isinstance(op, GetOp):
                results[index] = yield from self._get_plan(op)
            elif isinstance(op, SearchOp):
                results[index] = yield from self._search_plan(op)
            elif isinstance(op, ListNamespacesOp):
                results[index] = yield from self._list_namespaces_plan(op)
            elif isinstance(op, PutOp):
                puts[(op.namespace, op.key)] = op  # the last put of a key wins
            else:
                raise ValueError(f"Unknown operation type: {type(op).__name__}")
        if puts:
            outcomes = yield Parallel(tuple(self._put_call(op) for op in puts.values()))
            for outcome in outcomes:
                if isinstance(outcome, ClientError):
                    raise outcome
        return results

    def _get_plan(self, op: GetOp) -> Plan[Item | None]:
        key = schema.kv_key(self.owner, op.namespace, op.key)
        out = yield Call("dynamodb", "get_item", {
            "TableName": self.table_name, "Key": key, "ConsistentRead": True,
        })
        raw = out.get("Item")
        if raw is None or self._expired(raw):
            return None
        if op.refresh_ttl:
            yield from self._refresh_plan([raw])
        return _item(raw)

    def _search_plan(self, op: SearchOp) -> Plan[list[SearchItem]]:
        if op.query:
            raise InvalidInput(SEMANTIC_SEARCH_REFUSED)
        check_filter(op.filter)
        raws = yield from self._query_plan(schema.kv_sk_prefix(op.namespace_prefix))
        width = len(op.namespace_prefix)
        found = [
            raw for raw in raws
            if tuple(_namespace(raw)[:width]) == tuple(op.namespace_prefix)
            and matches_filter(get_j(raw, "value_json", {}), op.filter)
        ]
        found.sort(key=lambda raw: get_s(raw, "updated_at") or "", reverse=True)
        page = found[max(op.offset, 0) : max(op.offset, 0) + max(op.limit, 0)]
        if op.refresh_ttl:
            yield from self._refresh_plan(page)
        return [_search_item(raw) for raw in page]

    def _list_namespaces_plan(self, op: ListNamespacesOp) -> Plan[list[tuple[str, ...]]]:
        literal: list[str] = []
        for condition in op.match_conditions or ():
            if condition.match_type == "prefix":
                for label in condition.path:
                    if label == "*":
                        break
                    literal.append(label)
                break
        raws = yield from self._query_plan(
            schema.kv_sk_prefix(tuple(literal)), projection=schema.KV_NAMESPACE_PROJECTION
        )
        namespaces = {tuple(_namespace(raw)) for raw in raws}
        conditions = op.match_conditions or ()
        kept = [ns for ns in namespaces if all(namespace_matches(c, ns) for c in conditions)]
        if op.max_depth is not None:
            kept = [ns[: op.max_depth] for ns in kept]
        ordered = sorted(set(kept))
        return ordered[max(op.offset, 0) : max(op.offset, 0) + max(op.limit, 0)]

    def _query_plan(
        self, sk_prefix: str, projection: str | None = None
    ) -> Plan[list[dict[str, Any]]]:
        """Every live item of the owner whose sort key starts with ``sk_prefix``."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": schema.KV_QUERY,
            "ExpressionAttributeValues": {
                ":pk": s(schema.kv_pk(self.owner)), ":prefix": s(sk_prefix),
            },
            "ConsistentRead": True,
        }
        if projection:
            request["ProjectionExpression"] = projection
        found: list[dict[str, Any]] = []
        while True:
            out = yield Call("dynamodb", "query", dict(request))
            found.extend(raw for raw in out.get("Items", []) if not self._expired(raw))
            if "LastEvaluatedKey" not in out:
                return found
            request["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def _refresh_plan(self, raws: list[dict[str, Any]]) -> Plan[None]:
        """Push the expiry of items with a TTL forward; one deleted meanwhile stays gone."""
        calls = []
        now = self.clock()
        for raw in raws:
            minutes = raw.get(schema.KV_TTL_MINUTES)
            if minutes is None:
                continue
            calls.append(Call("dynamodb", "update_item", {
                "TableName": self.table_name,
                "Key": {"PK": raw["PK"], "SK": raw["SK"]},
                "UpdateExpression": schema.KV_REFRESH,
                "ConditionExpression": schema.KV_SAME_TTL,
                "ExpressionAttributeValues": {
                    ":expires": n(_expiry(now, float(minutes["N"]))), ":minutes": minutes,
                },
            }))
        if not calls:
            return
        outcomes = yield Parallel(tuple(calls))
        for outcome in outcomes:
            refused = isinstance(outcome, ClientError)
            if refused and error_code(outcome) != "ConditionalCheckFailedException":
                raise outcome

    def _put_call(self, op: PutOp) -> Call:
        key = schema.kv_key(self.owner, op.namespace, op.key)
        if op.value is None:
            return Call("dynamodb", "delete_item", {"TableName": self.table_name, "Key": key})
        if not isinstance(op.value, dict):
            raise InvalidInput("A store item's value must be a JSON object")
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        values: dict[str, Any] = {
            ":ns": {"L": [s(label) for label in op.namespace]},
            ":key": s(op.key),
            ":value": j(op.value),
            ":now": s(now),
        }
        ttl = op.ttl
        if ttl is not None:
            values[":minutes"] = n(ttl)
            values[":expires"] = n(_expiry(self.clock(), ttl))
        return Call("dynamodb", "update_item", {
            "TableName": self.table_name,
            "Key": key,
            "UpdateExpression": schema.KV_PUT if ttl is None else schema.KV_PUT_WITH_TTL,
            "ExpressionAttributeValues": values,
        })

    def _expired(self, raw: dict[str, Any]) -> bool:
        expires = raw.get(schema.TTL_ATTRIBUTE)
        return expires is not None and float(expires["N"]) <= self.clock()


def _expiry(now: float, minutes: float) -> int:
    # DynamoDB's TTL attribute is whole seconds since the epoch.
    return int(now + minutes * 60)


def _namespace(raw: dict[str, Any]) -> list[str]:
    return [str(label["S"]) for label in raw[schema.KV_NAMESPACE]["L"]]


def _item(raw: dict[str, Any]) -> Item:
    return Item(
        value=get_j(raw, "value_json", {}),
        key=get_s(raw, schema.KV_KEY) or "",
        namespace=tuple(_namespace(raw)),
        created_at=datetime.fromisoformat(get_s(raw, "created_at") or ""),
        updated_at=datetime.fromisoformat(get_s(raw, "updated_at") or ""),
    )


def _search_item(raw: dict[str, Any]) -> SearchItem:
    item = _item(raw)
    return SearchItem(item.namespace, item.key, item.value, item.created_at, item.updated_at)


__all__ = [
    "DEFAULT_TTL_CONFIG",
    "SEMANTIC_SEARCH_REFUSED",
    "DynamoDBStore",
    "check_filter",
    "matches_filter",
    "store_ttl",
]
