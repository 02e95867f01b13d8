"""WebSocket state in the app table: connections, the run index and run subscribers.

Keys and expressions come from :mod:`lambdagraph.store.schema` (the WebSocket block). Every
boto3 call runs in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from lambdagraph import aws
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

    async def put_connection(self, connection_id: str, user_id: str) -> None:
        """Record a new connection of ``user_id`` (expires just after API Gateway's 2 h)."""
        now = int(time.time())
        item = {
            **schema.connection_key(connection_id),
            "connection_id": {"S": connection_id},
            "owner": {"S": user_id},
            "connected_at": {"N": str(now)},
            schema.TTL_ATTRIBUTE: {"N": str(now + schema.CONNECTION_TTL_SECONDS)},
        }
        await self._call(self.client.put_item, TableName=self.table_name, Item=item)

    async def get_connection_owner(self, connection_id: str) -> str | None:
        """The user a connection belongs to, or ``None`` when it is not recorded."""
        out = await self._call(
            self.client.get_item,
            TableName=self.table_name,
            Key=schema.connection_key(connection_id),
            ConsistentRead=True,
        )
        item = out.get("Item")
        return None if item is None else str(item["owner"]["S"])

    async def delete_connection(self, connection_id: str) -> None:
        """Forget a connection (``$disconnect``, or API Gateway reported it gone)."""
        await self._call(
            self.client.delete_item,
            TableName=self.table_name,
            Key=schema.connection_key(connection_id),
        )

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
