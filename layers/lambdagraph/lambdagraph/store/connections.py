"""WebSocket state in the app table: connections, the run index, run subscribers and the
Agent Streaming Protocol's thread subscriptions.

Keys and expressions come from :mod:`lambdagraph.store.schema` (the WebSocket block). Every
boto3 call runs in a worker thread so the event loop never blocks.

A thread subscription is registered in one transaction with the fact that makes it safe:
either the thread is still idle and unchanged since the caller replayed its log (then the
worker of the next run finds the subscription when it starts), or the run the caller saw
active is still active (then the same transaction announces it on that run's item, which
its executor polls). Nothing can start or end in between, so no frame is lost or sent twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lambdagraph import aws
from lambdagraph.protocol.codec import dumps, loads
from lambdagraph.store import schema
from lambdagraph.store.dynamo import call, error_code, translate_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any


@dataclass(frozen=True, slots=True)
class RunRef:
    """Where a WebSocket run lives: its owner and thread."""

    run_id: str
    owner: str
    thread_id: str


@dataclass(frozen=True, slots=True)
class Connection:
    """A recorded connection: its user and the thread bound at ``$connect`` (if any)."""

    connection_id: str
    owner: str
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class StreamSubscription:
    """One ``subscription.subscribe`` of a connection on a thread.

    Attributes:
        params: the subscription as ``SubscribeParams`` (channels, namespaces, depth).
    """

    thread_id: str
    connection_id: str
    subscription_id: str
    owner: str
    params: Mapping[str, object] = field(default_factory=dict)


class ConnectionStore:
    """Connection items, run index items and the run items' subscriber sets.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client; one is built when omitted.
        index_ttl_seconds: how long a run stays findable by id (the event log's lifetime).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        index_ttl_seconds: int = 86_400,
    ) -> None:
        self.table_name = table_name
        self.client = client if client is not None else aws.client("dynamodb")
        self.index_ttl_seconds = index_ttl_seconds

    async def put_connection(
        self, connection_id: str, user_id: str, thread_id: str | None = None
    ) -> None:
        """Record a new connection of ``user_id`` (expires just after API Gateway's 2 h).

        ``thread_id``: the thread the connection's protocol frames address by default.
        """
        now = int(time.time())
        item = {
            **schema.connection_key(connection_id),
            "connection_id": {"S": connection_id},
            "owner": {"S": user_id},
            "connected_at": {"N": str(now)},
            schema.TTL_ATTRIBUTE: {"N": str(now + schema.CONNECTION_TTL_SECONDS)},
        }
        if thread_id is not None:
            item["thread_id"] = {"S": thread_id}
        await self._call(self.client.put_item, TableName=self.table_name, Item=item)

    async def get_connection(self, connection_id: str) -> Connection | None:
        """The recorded connection, or ``None``."""
        out = await self._call(
            self.client.get_item,
            TableName=self.table_name,
            Key=schema.connection_key(connection_id),
            ConsistentRead=True,
        )
        item = out.get("Item")
        if item is None:
            return None
        thread = item.get("thread_id", {}).get("S")
        return Connection(connection_id, str(item["owner"]["S"]), thread)

    async def get_connection_owner(self, connection_id: str) -> str | None:
        """The user a connection belongs to, or ``None`` when it is not recorded."""
        connection = await self.get_connection(connection_id)
        return None if connection is None else connection.owner

    async def delete_connection(self, connection_id: str) -> None:
        """Forget a connection and its thread subscriptions (``$disconnect``, or gone)."""
        out = await self._call(
            self.client.delete_item,
            TableName=self.table_name,
            Key=schema.connection_key(connection_id),
            ReturnValues="ALL_OLD",
        )
        old = out.get("Attributes") or {}
        for ref in old.get(schema.STREAM_SUBSCRIPTIONS_ATTRIBUTE, {}).get("SS", []):
            thread_id, _, subscription_id = ref.partition("|")
            await self._call(
                self.client.delete_item,
                TableName=self.table_name,
                Key=schema.stream_subscription_key(thread_id, connection_id, subscription_id),
            )

    async def subscribe_idle_thread(self, sub: StreamSubscription, *, updated_at: str) -> bool:
        """Record ``sub`` if its thread still has no active run and is unchanged since it was
        read with ``updated_at``; False otherwise (read, replay and try again)."""
        condition = f"{schema.OWNED} AND attribute_not_exists(active_run_id) AND updated_at = :seen"
        check = {
            "ConditionCheck": {
                "TableName": self.table_name,
                "Key": schema.thread_key(sub.thread_id),
                "ConditionExpression": condition,
                **schema.expression_attributes(
                    condition, values={":owner": {"S": sub.owner}, ":seen": {"S": updated_at}}
                ),
            }
        }
        return await self._transact([*self._subscription_writes(sub), check])

    async def subscribe_active_run(self, sub: StreamSubscription, run_id: str, after: int) -> bool:
        """Record ``sub`` and announce it on ``run_id``'s item (the connection has every
        frame up to ``after``) if that run is still active; False otherwise."""
        condition = f"{schema.OWNED} AND {schema.RUN_IS_ACTIVE}"
        values = {
            ":entries": {
                "SS": [schema.stream_entry(sub.connection_id, sub.subscription_id, after)]
            },
            ":owner": {"S": sub.owner},
            ":pending": {"S": "pending"},
            ":running": {"S": "running"},
        }
        update = {
            "Update": {
                "TableName": self.table_name,
                "Key": schema.run_key(sub.thread_id, run_id),
                "UpdateExpression": schema.ADD_SUBSCRIBER,
                "ConditionExpression": condition,
                **schema.expression_attributes(schema.ADD_SUBSCRIBER, condition, values=values),
            }
        }
        return await self._transact([*self._subscription_writes(sub), update])

    async def stream_subscriptions(
        self, thread_id: str, connection_id: str | None = None
    ) -> list[StreamSubscription]:
        """The thread's subscriptions (of one connection when ``connection_id`` is given)."""
        prefix = f"{schema.connection_pk(connection_id)}#" if connection_id else "CONN#"
        pk = schema.stream_subscription_key(thread_id, "", "")["PK"]
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": pk, ":prefix": {"S": prefix}},
            "ConsistentRead": True,
        }
        found: list[StreamSubscription] = []
        while True:
            out = await self._call(self.client.query, **request)
            found.extend(_subscription_from_item(thread_id, item) for item in out["Items"])
            if "LastEvaluatedKey" not in out:
                return found
            request["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    async def unsubscribe_stream(
        self, thread_id: str, connection_id: str, subscription_id: str
    ) -> bool:
        """Forget one thread subscription; False when there was none by that id."""
        out = await self._call(
            self.client.delete_item,
            TableName=self.table_name,
            Key=schema.stream_subscription_key(thread_id, connection_id, subscription_id),
            ReturnValues="ALL_OLD",
        )
        if not out.get("Attributes"):
            return False
        try:
            await self._call(
                self.client.update_item,
                TableName=self.table_name,
                Key=schema.connection_key(connection_id),
                UpdateExpression=f"DELETE {schema.STREAM_SUBSCRIPTIONS_ATTRIBUTE} :refs",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":refs": {"SS": [f"{thread_id}|{subscription_id}"]}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # connection gone
                raise
        return True

    async def announce(self, thread_id: str, run_id: str, entries: Iterable[str]) -> None:
        """Add stream entries to a run item (a hand-over, an unsubscribe), if it exists."""
        wanted = sorted(set(entries))
        if not wanted:
            return
        try:
            await self._call(
                self.client.update_item,
                TableName=self.table_name,
                Key=schema.run_key(thread_id, run_id),
                UpdateExpression=schema.ADD_SUBSCRIBER,
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":entries": {"SS": wanted}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def _subscription_writes(self, sub: StreamSubscription) -> list[dict[str, Any]]:
        """The subscription item, and its reference on the connection item."""
        expires = str(int(time.time()) + schema.CONNECTION_TTL_SECONDS)
        item = {
            **schema.stream_subscription_key(sub.thread_id, sub.connection_id, sub.subscription_id),
            "connection_id": {"S": sub.connection_id},
            "subscription_id": {"S": sub.subscription_id},
            "owner": {"S": sub.owner},
            "params_json": {"S": dumps(dict(sub.params)).decode()},
            schema.TTL_ATTRIBUTE: {"N": expires},
        }
        reference = f"ADD {schema.STREAM_SUBSCRIPTIONS_ATTRIBUTE} :refs"
        return [
            {"Put": {"TableName": self.table_name, "Item": item}},
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": schema.connection_key(sub.connection_id),
                    "UpdateExpression": reference,
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeValues": {
                        ":refs": {"SS": [f"{sub.thread_id}|{sub.subscription_id}"]}
                    },
                }
            },
        ]

    async def _transact(self, ops: list[dict[str, Any]]) -> bool:
        try:
            await self._call(self.client.transact_write_items, TransactItems=ops)
        except ClientError as exc:
            if error_code(exc) in (
                "TransactionCanceledException",
                "ConditionalCheckFailedException",
            ):
                return False
            raise
        return True

    async def put_run(self, ref: RunRef) -> None:
        """Make a run findable by its id alone (``cancel``/``subscribe`` carry only ``run_id``)."""
        item = {
            **schema.run_index_key(ref.run_id),
            "owner": {"S": ref.owner},
            "thread_id": {"S": ref.thread_id},
            schema.TTL_ATTRIBUTE: {"N": str(int(time.time()) + self.index_ttl_seconds)},
        }
        await self._call(self.client.put_item, TableName=self.table_name, Item=item)

    async def get_run(self, run_id: str) -> RunRef | None:
        """The run's owner and thread, or ``None`` for a run not started over the WebSocket."""
        out = await self._call(
            self.client.get_item,
            TableName=self.table_name,
            Key=schema.run_index_key(run_id),
            ConsistentRead=True,
        )
        item = out.get("Item")
        if item is None:
            return None
        return RunRef(run_id, str(item["owner"]["S"]), str(item["thread_id"]["S"]))

    async def subscribe(self, ref: RunRef, connection_id: str, after: int) -> bool:
        """Add a subscriber to an active run; False when the run is already final (or gone).

        The condition makes this safe against a run ending at the same moment: if the add
        wins, the run's executor reads it before it sends ``run.ended``.
        """
        condition = f"{schema.OWNED} AND {schema.RUN_IS_ACTIVE}"
        values = {
            ":entries": {"SS": [schema.subscriber_entry(connection_id, after)]},
            ":owner": {"S": ref.owner},
            ":pending": {"S": "pending"},
            ":running": {"S": "running"},
        }
        try:
            await self._call(
                self.client.update_item,
                TableName=self.table_name,
                Key=schema.run_key(ref.thread_id, ref.run_id),
                UpdateExpression=schema.ADD_SUBSCRIBER,
                ConditionExpression=condition,
                **schema.expression_attributes(schema.ADD_SUBSCRIBER, condition, values=values),
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    async def unsubscribe(self, thread_id: str, run_id: str, entries: Iterable[str]) -> None:
        """Remove subscriber entries from a run item (a gone connection)."""
        wanted = sorted(set(entries))
        if not wanted:
            return
        condition = "attribute_exists(PK)"
        try:
            await self._call(
                self.client.update_item,
                TableName=self.table_name,
                Key=schema.run_key(thread_id, run_id),
                UpdateExpression=schema.REMOVE_SUBSCRIBER,
                ConditionExpression=condition,
                ExpressionAttributeValues={":entries": {"SS": wanted}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # run deleted: nothing to do
                raise

    async def _call(self, method: Any, /, **kwargs: Any) -> Any:
        with translate_errors():
            return await call(method, **kwargs)


def _subscription_from_item(thread_id: str, item: Mapping[str, Any]) -> StreamSubscription:
    params = loads(item["params_json"]["S"])
    return StreamSubscription(
        thread_id,
        str(item["connection_id"]["S"]),
        str(item["subscription_id"]["S"]),
        str(item["owner"]["S"]),
        params if isinstance(params, dict) else {},
    )
