"""Plans that touch whole threads: delete, copy, prune, delete by run; and their helpers.

A mixin of ``BaseDynamoDBSaver``; like the rest of the base it does no I/O itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from lambdagraph.store.checkpoint import schema
from lambdagraph.store.checkpoint.items import (
    Item,
    from_attributes,
    item_s3_keys,
    key_of,
    to_attributes,
)
from lambdagraph.store.checkpoint.steps import (
    Call,
    CallResult,
    Emit,
    Parallel,
    Plan,
    Sleep,
    raise_first_error,
)

_RETRIES = 8
# Items one step of ``delete_thread`` reads and deletes (40 BatchWriteItem calls at most).
_DELETE_PAGE_ITEMS = 1000
_KEY_ATTRIBUTES = (
    schema.PK,
    schema.SK,
    schema.KIND,
    schema.NS,
    schema.CHECKPOINT_ID,
    schema.PARENT_ID,
    schema.S3_KEY,
    schema.S3_KEYS,
)


class MaintenancePlans:
    """Thread-wide plans shared by both savers."""

    table_name: str
    bucket: str | None

    # -- public plans ---------------------------------------------------------------------

    def _delete_thread_plan(self, thread_id: str) -> Plan[None]:
        while not (yield from self._delete_thread_batch_plan(thread_id, _DELETE_PAGE_ITEMS)):
            pass

    def _delete_thread_batch_plan(self, thread_id: str, max_items: int) -> Plan[bool]:
        """Delete up to ``max_items`` of the thread's items, else a page of its S3 payloads.

        Each call reads afresh (what earlier calls deleted is gone), so repeated calls erase
        a thread of any size in bounded steps and a caller that dies can simply call again.
        Returns True once neither table nor bucket holds anything of the thread (a payload
        written after that by a writer still running is not seen: stop writers first).
        """
        request = {**self._thread_query(thread_id, keys_only=True), "Limit": max_items}
        response = yield Call("dynamodb", "query", request)
        if response["Items"]:
            yield from self._delete_items([from_attributes(i) for i in response["Items"]])
        if "LastEvaluatedKey" in response:
            return False
        if not self.bucket:
            return True
        # By prefix: also catches payloads whose items TTL already removed.
        listing = {
            "Bucket": self.bucket,
            "Prefix": schema.s3_prefix(thread_id),
            "MaxKeys": min(max_items, schema.MAX_S3_DELETE_KEYS),
        }
        response = yield Call("s3", "list_objects_v2", listing)
        yield from self._delete_s3([obj["Key"] for obj in response.get("Contents", [])])
        return not response.get("IsTruncated")

    def _copy_thread_plan(self, source_thread_id: str, target_thread_id: str) -> Plan[None]:
        items = yield from self._read_all("query", self._thread_query(source_thread_id))
        copies: list[Call] = []
        for item in items:
            item[schema.PK] = target_thread_id
            renamed = {
                old: f"{schema.s3_prefix(target_thread_id)}{uuid.uuid4().hex}"
                for old in item_s3_keys(item)
            }
            for old, new in renamed.items():
                source = {"Bucket": self.bucket, "Key": old}
                copies.append(
                    Call(
                        "s3",
                        "copy_object",
                        {"Bucket": self.bucket, "Key": new, "CopySource": source},
                    )
                )
            if renamed:
                _rename_s3_keys(item, renamed)
        if copies:
            self._raise_errors((yield Parallel(tuple(copies))))
        yield from self._batch_write([{"PutRequest": {"Item": to_attributes(i)}} for i in items])

    def _prune_plan(self, thread_ids: Sequence[str], strategy: str) -> Plan[None]:
        if strategy not in ("keep_latest", "delete"):
            raise ValueError(f"Unknown prune strategy {strategy!r}: use 'keep_latest' or 'delete'")
        for thread_id in thread_ids:
            if strategy == "delete":
                yield from self._delete_thread_plan(thread_id)
                continue
            items = yield from self._read_all(
                "query", self._thread_query(thread_id, keys_only=True)
            )
            latest: dict[str, str] = {}
            for item in items:
                if item[schema.KIND] == schema.KIND_CHECKPOINT:
                    ns, cid = item[schema.NS], item[schema.CHECKPOINT_ID]
                    latest[ns] = max(latest.get(ns, cid), cid)
            doomed = [i for i in items if latest.get(i[schema.NS]) != i[schema.CHECKPOINT_ID]]
            yield from self._delete_items(doomed)

    def _delete_for_runs_plan(self, run_ids: Sequence[str]) -> Plan[None]:
        checkpoints: list[Item] = []
        for start in range(0, len(run_ids), 100):  # an IN list takes at most 100 operands
            chunk = list(run_ids)[start : start + 100]
            names = {f"#a{i}": a for i, a in enumerate(_KEY_ATTRIBUTES)} | {"#run": schema.RUN_ID}
            values = {f":r{i}": {"S": run_id} for i, run_id in enumerate(chunk)}
            request = {
                "TableName": self.table_name,
                "FilterExpression": f"#run IN ({', '.join(values)})",
                "ProjectionExpression": ", ".join(n for n in names if n != "#run"),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
            checkpoints += yield from self._read_all("scan", request)
        doomed: list[Item] = []
        for item in checkpoints:
            prefix = schema.checkpoint_sk(item[schema.NS], item[schema.CHECKPOINT_ID])
            doomed += yield from self._read_all(
                "query", self._thread_query(item[schema.PK], keys_only=True, prefix=prefix)
            )
        # Free the parent's child slot where a deleted checkpoint held it, or the thread
        # could never advance from that parent again.
        fences = [
            {
                schema.PK: {"S": item[schema.PK]},
                schema.SK: {"S": schema.fence_sk(item[schema.NS], item[schema.PARENT_ID])},
            }
            for item in checkpoints
            if item.get(schema.PARENT_ID)
        ]
        calls = tuple(
            Call(
                "dynamodb",
                "get_item",
                {"TableName": self.table_name, "Key": key, "ConsistentRead": True},
            )
            for key in fences
        )
        deleted = {(i[schema.PK], i[schema.CHECKPOINT_ID]) for i in checkpoints}
        for response in self._raise_errors((yield Parallel(calls))) if calls else []:
            fence = from_attributes(response.get("Item", {}))
            if (fence.get(schema.PK), fence.get(schema.CHILD)) in deleted:
                doomed.append(fence)
        yield from self._delete_items(doomed)

    # -- helpers --------------------------------------------------------------------------

    def _thread_query(
        self, thread_id: str, *, keys_only: bool = False, prefix: str | None = None
    ) -> dict[str, Any]:
        condition, values = f"{schema.PK} = :pk", {":pk": {"S": thread_id}}
        if prefix is not None:
            condition += f" AND begins_with({schema.SK}, :prefix)"
            values[":prefix"] = {"S": prefix}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        if keys_only:
            names = {f"#a{i}": a for i, a in enumerate(_KEY_ATTRIBUTES)}
            request["ProjectionExpression"] = ", ".join(names)
            request["ExpressionAttributeNames"] = names
        return request

    def _read_all(self, operation: str, request: dict[str, Any]) -> Plan[list[Item]]:
        items: list[Item] = []
        if operation == "scan":
            request = {**request, "ConsistentRead": True}
        while True:
            response = yield Call("dynamodb", operation, request)
            items += map(from_attributes, response["Items"])
            if "LastEvaluatedKey" not in response:
                return items
            request = {**request, "ExclusiveStartKey": response["LastEvaluatedKey"]}

    def _delete_items(self, items: list[Item]) -> Plan[None]:
        # BatchWriteItem rejects a batch naming one key twice.
        unique = {(i[schema.PK], i[schema.SK]): i for i in items}.values()
        yield from self._batch_write([{"DeleteRequest": {"Key": key_of(i)}} for i in unique])
        yield from self._delete_s3([key for i in items for key in item_s3_keys(i)])

    def _batch_write(self, requests: list[dict[str, Any]]) -> Plan[None]:
        """BatchWriteItem in chunks of 25, all chunks at once, retrying unprocessed items."""
        for attempt in range(_RETRIES):
            if not requests:
                return
            chunks = [
                requests[i : i + schema.MAX_BATCH_WRITE_ITEMS]
                for i in range(0, len(requests), schema.MAX_BATCH_WRITE_ITEMS)
            ]
            calls = tuple(
                Call("dynamodb", "batch_write_item", {"RequestItems": {self.table_name: chunk}})
                for chunk in chunks
            )
            responses = self._raise_errors((yield Parallel(calls)))
            requests = [
                request
                for response in responses
                for request in response.get("UnprocessedItems", {}).get(self.table_name, [])
            ]
            if requests:
                yield Sleep(0.05 * 2**attempt)
        if requests:
            raise RuntimeError(f"DynamoDB left {len(requests)} batch writes unprocessed")

    def _delete_s3(self, keys: list[str]) -> Plan[None]:
        if not keys or not self.bucket:
            return
        calls = tuple(
            Call(
                "s3",
                "delete_objects",
                {
                    "Bucket": self.bucket,
                    "Delete": {
                        "Objects": [{"Key": k} for k in keys[i : i + schema.MAX_S3_DELETE_KEYS]]
                    },
                },
            )
            for i in range(0, len(keys), schema.MAX_S3_DELETE_KEYS)
        )
        self._raise_errors((yield Parallel(calls)))

    @staticmethod
    def _emit_all(values: list[Any]) -> Plan[None]:
        for value in values:
            yield Emit(value)

    @staticmethod
    def _raise_errors(results: list[CallResult]) -> list[dict[str, Any]]:
        return raise_first_error(results)


def _rename_s3_keys(item: Item, renamed: dict[str, str]) -> None:
    """Point an item's payloads (its own, or each offloaded write's) at copied objects."""
    if schema.S3_KEY in item:
        item[schema.S3_KEY] = renamed[item[schema.S3_KEY]]
    if schema.S3_KEYS in item:
        item[schema.S3_KEYS] = {renamed[k] for k in item[schema.S3_KEYS]}
    for name, entry in item.items():
        if schema.write_index(name) is not None and isinstance(entry[2], str):
            entry[2] = renamed[entry[2]]
