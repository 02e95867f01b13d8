"""Low-level access to the app table: one place that issues DynamoDB requests.

:class:`AppTable` builds transaction operations and runs each boto3 call in a worker thread
(the event loop never blocks), translating botocore errors to :mod:`lambdagraph.errors`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import orjson
from botocore.exceptions import ClientError

from lambdagraph import aws
from lambdagraph.errors import InvalidInput, ThreadNotFound, Unavailable
from lambdagraph.store import bucket, items, schema
from lambdagraph.store.dynamo import call, error_code, get_s, j, s, translate_errors
from lambdagraph.store.limits import UserLimits
from lambdagraph.store.records import Run, Thread

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any


_CONFLICT_RETRIES = 3

logger = logging.getLogger(__name__)


class ConditionFailed(Exception):
    """A conditional write lost: an item was not in the state the caller expected.

    ``reasons`` are DynamoDB's cancellation reasons, one per operation of a transaction
    (``Item`` holds the old item where ``ALL_OLD`` was asked for).
    """

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        super().__init__("condition failed")
        self.reasons = reasons


class AppTable:
    """The app table and a DynamoDB client for it.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client; one is built when omitted.
        bucket: the checkpoint bucket, where run kwargs too large for an item go.
        max_active_runs: active runs a user may have (0: no limit; :mod:`store.limits`).
        requests_per_minute: requests a user may make per minute (0: no limit).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        bucket: str | None = None,
        max_active_runs: int = 0,
        requests_per_minute: int = 0,
    ) -> None:
        self.table_name = table_name
        self.client = client if client is not None else aws.client("dynamodb")
        self.bucket = bucket
        self.limits = UserLimits(
            table_name,
            client=self.client,
            max_active_runs=max_active_runs,
            requests_per_minute=requests_per_minute,
        )
        self._s3: Any = None

    def _s3_client(self) -> Any:
        if self._s3 is None:  # built on first use: most runs never need it
            self._s3 = aws.client("s3")
        return self._s3

    async def _offload_kwargs(self, run: Run) -> None:
        """Upload the run's kwargs to S3 when its item could not hold them (``run_item``).

        Raises:
            InvalidInput: they are too large and no bucket is configured.
        """
        body = j(run["kwargs"])["S"].encode()
        if len(body) <= schema.RUN_KWARGS_INLINE_BYTES:
            return
        if not self.bucket:
            raise InvalidInput(
                f"The run's input is {len(body)} bytes; above "
                f"{schema.RUN_KWARGS_INLINE_BYTES} it needs a checkpoint bucket "
                "(LAMBDAGRAPH_CHECKPOINT_BUCKET)"
            )
        key = bucket.run_kwargs_key(run["thread_id"], run["run_id"])
        with translate_errors():
            await call(self._s3_client().put_object, Bucket=self.bucket, Key=key, Body=body)

    async def _run_from_item(self, item: Mapping[str, Any]) -> Run:
        """The run an item holds, with offloaded kwargs read back from S3."""
        run = items.run_from_item(item)
        key = items.offloaded_kwargs_key(item)
        if key is None:
            return run
        try:
            with translate_errors():
                out = await call(self._s3_client().get_object, Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) != "NoSuchKey":
                raise
            # Expired by the bucket's lifecycle rule (CheckpointObjectExpirationDays): the
            # run's record stays readable without its input.
            logger.warning(
                "Run %s: its input at s3://%s/%s is gone", run["run_id"], self.bucket, key
            )
            run["kwargs"] = {}
            return run
        run["kwargs"] = orjson.loads(await asyncio.to_thread(out["Body"].read))
        return run

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
        head = found[0] if found else {}
        if not items.is_thread_item(head) or get_s(head, "owner") != owner:
            raise ThreadNotFound(thread_id)
        thread = items.thread_from_item(found[0])
        run_items = found[1:]
        while limit is None and "LastEvaluatedKey" in out:
            request["ExclusiveStartKey"] = out["LastEvaluatedKey"]
            with translate_errors():
                out = await call(self.client.query, **request)
            run_items.extend(out.get("Items", []))
        return thread, [await self._run_from_item(i) for i in run_items]

    async def _delete_partition(self, thread_id: str, runs: list[Run]) -> None:
        """Delete a thread item and its runs."""
        keys = [schema.run_key(thread_id, r["run_id"]) for r in runs]
        keys.append(schema.thread_key(thread_id))
        for start in range(0, len(keys), 25):  # BatchWriteItem takes at most 25 requests
            batch = [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]
            request: dict[str, Any] = {self.table_name: batch}
            while request:
                with translate_errors():
                    out = await call(self.client.batch_write_item, RequestItems=request)
                request = out.get("UnprocessedItems") or {}

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

    async def _get_many(
        self, keys: list[dict[str, dict[str, str]]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Consistent reads of a few items in one ``BatchGetItem``, by ``(PK, SK)``."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(_CONFLICT_RETRIES + 1):
            with translate_errors():
                out = await call(self.client.batch_get_item, RequestItems=request)
            for item in out.get("Responses", {}).get(self.table_name, []):
                found[(item["PK"]["S"], item["SK"]["S"])] = item
            request = out.get("UnprocessedKeys") or {}
            if not request:
                return found
            await asyncio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise Unavailable("DynamoDB left keys unread; retry")

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
            raise ConditionFailed([{"Code": "ConditionalCheckFailed"}]) from exc
        return cast(dict[str, Any], out["Attributes"])

    async def _transact(self, ops: list[dict[str, Any]]) -> None:
        """One TransactWriteItems; ``ConditionFailed`` when a condition did not hold.

        A transaction cancelled only because another one touched the same items at the same
        moment (``TransactionConflict``) is retried a few times with a short jittered pause.
        """
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                with translate_errors():
                    await call(self.client.transact_write_items, TransactItems=ops)
                return
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons", [])
                if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                    raise ConditionFailed(reasons) from exc
                if attempt == _CONFLICT_RETRIES:
                    raise Unavailable("The thread is being changed concurrently; retry") from exc
            await asyncio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))


