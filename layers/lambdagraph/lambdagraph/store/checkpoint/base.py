"""``BaseDynamoDBSaver``: everything the DynamoDB checkpoint savers do except I/O.

Keys, item (de)serialisation through ``self.serde``, pending-write ordering, the S3-offload
decision and the fencing condition live here, as *plans* (see ``steps.py``): generators
that yield boto3 calls and parse the results. ``DynamoDBSaver`` and ``AsyncDynamoDBSaver``
only run them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from lambdagraph import aws
from lambdagraph.errors import CheckpointConflict, ConfigurationError
from lambdagraph.settings import Settings
from lambdagraph.store.checkpoint import schema
from lambdagraph.store.checkpoint.codec import CheckpointCodec
from lambdagraph.store.checkpoint.items import (
    Group,
    Item,
    WriteBatch,
    from_attributes,
    group_items,
    key_of,
    newest_first,
    pending_writes,
    to_attributes,
    to_value,
    transaction_chunks,
    without_cut_output,
)
from lambdagraph.store.checkpoint.maintenance import MaintenancePlans
from lambdagraph.store.checkpoint.steps import (
    Call,
    CallResult,
    Parallel,
    Plan,
    Sleep,
    resume,
)
from lambdagraph.store.dynamo import error_code


def _too_large(exc: ClientError) -> bool:
    return error_code(exc) == "ValidationException" and "size" in str(exc).lower()


if TYPE_CHECKING:
    from botocore.config import Config

_RETRIES = 5
# AWS errors that mean the saver points at something that isn't there.
_CONFIGURATION_ERRORS = {
    "ResourceNotFoundException": "DynamoDB table {table!r} does not exist (or is not active)",
    "NoSuchBucket": "S3 bucket {bucket!r} does not exist",
}


class BaseDynamoDBSaver(CheckpointCodec, MaintenancePlans, BaseCheckpointSaver[str]):
    """Shared core of ``DynamoDBSaver`` and ``AsyncDynamoDBSaver``; see ``DynamoDBSaver``."""

    schema = schema

    def __init__(
        self,
        table_name: str,
        *,
        client: Any | None = None,
        serde: SerializerProtocol | None = None,
        bucket: str | None = None,
        s3_client: Any | None = None,
        ttl_seconds: int | None = None,
        offload_threshold_bytes: int = schema.DEFAULT_OFFLOAD_THRESHOLD_BYTES,
        clock: Callable[[], float] = time.time,
        boto_config: Config | None = None,
    ) -> None:
        super().__init__(serde=serde)
        if not table_name:
            raise ConfigurationError("DynamoDBSaver needs a table name")
        if ttl_seconds is not None and ttl_seconds <= 0:
            raise ConfigurationError(f"ttl_seconds must be positive or None, got {ttl_seconds}")
        if not 0 < offload_threshold_bytes <= schema.MAX_ITEM_BYTES - 10_000:
            raise ConfigurationError(
                f"offload_threshold_bytes must be in 1..{schema.MAX_ITEM_BYTES - 10_000}"
            )
        self.table_name = table_name
        self.bucket = bucket
        self.ttl_seconds = ttl_seconds
        self.offload_threshold_bytes = offload_threshold_bytes
        self.clock = clock
        self.client = client if client is not None else aws.client("dynamodb", config=boto_config)
        self.s3_client = s3_client
        if bucket and s3_client is None:
            self.s3_client = aws.client("s3", config=boto_config)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Any:
        """A saver on ``settings.checkpoint_table`` with its bucket and TTL (0 = no TTL).

        Args:
            settings: loaded ``Settings``.
            **kwargs: further constructor arguments (``client``, ``serde``, ...).
        """
        kwargs.setdefault("bucket", settings.checkpoint_bucket)
        kwargs.setdefault("ttl_seconds", settings.checkpoint_ttl_seconds or None)
        return cls(settings.checkpoint_table, **kwargs)

    @classmethod
    def from_env(cls, **kwargs: Any) -> Any:
        """``from_settings(Settings.from_env())``: reads ``LAMBDAGRAPH_CHECKPOINT_TABLE``,
        ``LAMBDAGRAPH_CHECKPOINT_BUCKET`` and ``LAMBDAGRAPH_CHECKPOINT_TTL_SECONDS``."""
        return cls.from_settings(Settings.from_env(), **kwargs)

    def get_next_version(self, current: str | None, channel: None) -> str:
        """Short versions that sort as strings: the digit count as a letter, then the
        number (``a1`` … ``a9``, ``b10`` …).

        Values ride inline, so a version only has to order a channel's updates (no random
        suffix keeps two forks' blobs apart, as savers with per-version blobs need). Format-1
        versions (``000…0007.0.51…``, 32 digits and a random part) sort below every short
        one and are carried on from, so a thread saved by an older saver continues.
        """
        if current is None:
            number = 0
        elif isinstance(current, int):
            number = current
        elif current[:1].isdigit():
            number = int(current.split(".")[0])
        else:
            number = int(current[1:])
        digits = str(number + 1)
        return f"{chr(ord('a') + len(digits) - 1)}{digits}"

    # -- blocking boto3 call, run by the drivers (directly or in a worker thread) ----------

    def _invoke(self, call: Call) -> dict[str, Any]:
        client = self.client if call.service == "dynamodb" else self.s3_client
        response: dict[str, Any] = getattr(client, call.operation)(**call.params)
        body = response.get("Body")
        if body is not None and hasattr(body, "read"):
            response["Body"] = body.read()  # the stream is I/O too: read it in the same thread
        return response

    def _attempt(self, call: Call) -> CallResult:
        try:
            return self._invoke(call)
        except ClientError as exc:
            return exc

    _resume = staticmethod(resume)

    def _translate(self, exc: ClientError) -> Exception | None:
        """Our error (caused by ``exc``) for an AWS error the caller must fix, else None."""
        message = _CONFIGURATION_ERRORS.get(error_code(exc))
        if message is None:
            return None
        error = ConfigurationError(message.format(table=self.table_name, bucket=self.bucket))
        error.__cause__ = exc
        return error

    # -- plans: put, put_writes ---------------------------------------------------------------

    def _put_plan(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Plan[RunnableConfig]:
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        parent = conf.get("checkpoint_id")
        item, uploads = self._checkpoint_item(config, checkpoint, metadata)
        if uploads:
            self._raise_errors((yield Parallel(tuple(uploads))))
        put = {"TableName": self.table_name, "Item": to_attributes(item)}
        if parent is None:
            yield Call("dynamodb", "put_item", put)
        else:
            fenced = metadata.get("source") in schema.FENCED_SOURCES
            yield from self._put_fenced(put, thread_id, ns, parent, checkpoint["id"], fenced)
        return {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint["id"],
            }
        }

    def _put_fenced(
        self, put: dict[str, Any], thread_id: str, ns: str, parent: str, child: str, fenced: bool
    ) -> Plan[None]:
        """Write the checkpoint and claim its parent's child slot in one transaction."""
        ttl = self._expires_at()
        values = {
            ":child": {"S": child},
            ":kind": {"S": schema.KIND_FENCE},
            ":ns": {"S": ns},
            ":parent": {"S": parent},
        }
        if ttl:
            values[":ttl"] = {"N": str(ttl)}
        fence: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {schema.PK: {"S": thread_id}, schema.SK: {"S": schema.fence_sk(ns, parent)}},
            "UpdateExpression": schema.fence_update(fenced=fenced, ttl=bool(ttl)),
            "ExpressionAttributeValues": values,
        }
        if fenced:
            fence["ConditionExpression"] = schema.FENCE_CONDITION
        request = {"TransactItems": [{"Put": put}, {"Update": fence}]}
        for attempt in range(_RETRIES):
            try:
                yield Call("dynamodb", "transact_write_items", request)
                return
            except ClientError as exc:
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons:
                    raise CheckpointConflict(thread_id, ns, parent) from exc
                if "TransactionConflict" not in reasons or attempt == _RETRIES - 1:
                    raise
            yield Sleep(0.02 * 2**attempt)

    def _put_writes_plan(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> Plan[None]:
        writes = without_cut_output(writes)
        if not writes:
            return
        offload_all = False
        batches, uploads = self._write_batches(config, writes, task_id, task_path)
        for attempt in range(_RETRIES):
            if uploads:
                self._raise_errors((yield Parallel(tuple(uploads))))
                uploads = []
            # A task's writes land all-or-nothing, so LangGraph never mistakes a half-saved
            # task for a finished one: one item (up to 64 writes), else one transaction.
            try:
                if len(batches) == 1:
                    yield Call("dynamodb", "update_item", self._writes_update(batches[0]))
                else:
                    for chunk in transaction_chunks(batches):
                        items = [{"Update": self._writes_update(batch)} for batch in chunk]
                        yield Call("dynamodb", "transact_write_items", {"TransactItems": items})
                return
            except ClientError as exc:
                reasons = {r.get("Code") for r in exc.response.get("CancellationReasons", [])}
                if not offload_all and (_too_large(exc) or "ValidationError" in reasons):
                    # The stored item plus these passes 400 KB: every payload goes to S3.
                    offload_all = True
                    batches, uploads = self._write_batches(
                        config, writes, task_id, task_path, offload_all=True
                    )
                    continue
                if "TransactionConflict" not in reasons or attempt == _RETRIES - 1:
                    raise
            yield Sleep(0.02 * 2**attempt)
        raise RuntimeError("pending writes kept conflicting with concurrent transactions")

    def _writes_update(self, batch: WriteBatch) -> dict[str, Any]:
        """UpdateItem of a writes item: special writes (negative idx) replace, a regular
        write already stored is kept (``if_not_exists``), as in ``InMemorySaver``."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        for n, (idx, entry) in enumerate(sorted(batch.entries.items())):
            names[f"#w{n}"], values[f":w{n}"] = schema.write_attribute(idx), to_value(entry)
            sets.append(f"#w{n} = :w{n}" if idx < 0 else f"#w{n} = if_not_exists(#w{n}, :w{n})")
        common = {k: v for k, v in batch.item.items() if k not in (schema.PK, schema.SK)}
        for n, (name, value) in enumerate(common.items()):
            if value is not None:
                names[f"#c{n}"], values[f":c{n}"] = name, to_value(value)
                sets.append(f"#c{n} = :c{n}")
        expression = "SET " + ", ".join(sets)
        if batch.s3_keys:
            names["#k"], values[":k"] = schema.S3_KEYS, {"SS": batch.s3_keys}
            expression += " ADD #k :k"
        return {
            "TableName": self.table_name,
            "Key": key_of(batch.item),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    # -- plans: reads ---------------------------------------------------------------------------

    def _get_tuple_plan(self, config: RunnableConfig) -> Plan[CheckpointTuple | None]:
        conf = config["configurable"]
        thread_id, ns = conf["thread_id"], conf.get("checkpoint_ns", "")
        checkpoint_id = get_checkpoint_id(config)
        prefix = schema.checkpoint_sk(ns, checkpoint_id) if checkpoint_id else schema.ns_prefix(ns)
        groups = yield from self._newest_groups(
            thread_id, prefix, lambda g: not checkpoint_id or g.checkpoint_id == checkpoint_id, 1
        )
        if not groups:
            return None
        return (yield from self._load_tuples(groups))[0]

    def _list_plan(
        self,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> Plan[None]:
        conf = config["configurable"] if config else {}
        ns = conf.get("checkpoint_ns")
        checkpoint_id = conf.get("checkpoint_id")
        before_id = get_checkpoint_id(before) if before else None

        def wanted(group: Group) -> bool:
            if checkpoint_id and group.checkpoint_id != checkpoint_id:
                return False
            if before_id and group.checkpoint_id >= before_id:
                return False
            if filter:
                metadata = self._metadata(group.checkpoint)
                return all(metadata.get(k) == v for k, v in filter.items())
            return True

        if limit is not None and limit <= 0:
            return
        if config is not None and ns is not None:
            # One namespace: read newest first and stop once ``limit`` checkpoints matched.
            thread_id = conf["thread_id"]
            if checkpoint_id:
                prefix, below = schema.checkpoint_sk(ns, checkpoint_id), None
            else:
                prefix = schema.ns_prefix(ns)
                below = schema.checkpoint_sk(ns, before_id) if before_id else None
            groups = yield from self._newest_groups(thread_id, prefix, wanted, limit, below)
        else:
            if config is not None:
                request = self._thread_query(conf["thread_id"])
                items = yield from self._read_all("query", request)
            else:
                items = yield from self._read_all("scan", {"TableName": self.table_name})
            groups = [g for g in newest_first(group_items(items)) if self._alive(g.checkpoint)]
            groups = [g for g in groups if wanted(g)][:limit]
        for start in range(0, len(groups), 25):
            yield from self._emit_all((yield from self._load_tuples(groups[start : start + 25])))

    def _newest_groups(
        self,
        thread_id: str,
        prefix: str,
        wanted: Callable[[Group], bool],
        limit: int | None,
        below: str | None = None,
    ) -> Plan[list[Group]]:
        """Live checkpoints under ``prefix``, newest first, until ``limit`` are wanted.

        Reads pages in descending key order, where each checkpoint's writes arrive just
        before the checkpoint item itself; the first page is small and later ones grow.
        With ``below`` (a checkpoint's sort key) reading starts right under that checkpoint,
        so ``list(before=...)`` skips newer items without reading them.
        """
        page = schema.FIRST_PAGE_ITEMS if limit == 1 else schema.FIRST_LIST_PAGE_ITEMS
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": f"{schema.PK} = :pk AND begins_with({schema.SK}, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": thread_id}, ":prefix": {"S": prefix}},
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": page,
        }
        if below:
            request["ExclusiveStartKey"] = {schema.PK: {"S": thread_id}, schema.SK: {"S": below}}
        found: list[Group] = []
        writes: dict[tuple[str, str], list[Item]] = {}
        while True:
            response = yield Call("dynamodb", "query", request)
            for item in map(from_attributes, response["Items"]):
                key = (item[schema.NS], item[schema.CHECKPOINT_ID])
                if item[schema.KIND] in (schema.KIND_WRITE, schema.KIND_WRITES):
                    writes.setdefault(key, []).extend(pending_writes(item))
                elif item[schema.KIND] == schema.KIND_CHECKPOINT:
                    group = Group(item, writes.pop(key, []))
                    if self._alive(item) and wanted(group):
                        found.append(group)
                        if limit is not None and len(found) >= limit:
                            return found
            if "LastEvaluatedKey" not in response:
                return found
            page = min(2 * page, 1000)
            request.update(ExclusiveStartKey=response["LastEvaluatedKey"], Limit=page)

    def _load_tuples(self, groups: list[Group]) -> Plan[list[CheckpointTuple]]:
        keys = [key for group in groups for key in group.s3_keys()]
        blobs: dict[str, bytes] = {}
        if keys and not self.bucket:
            raise ConfigurationError(
                "Checkpoint payloads are in S3 but this saver has no bucket; "
                "set LAMBDAGRAPH_CHECKPOINT_BUCKET"
            )
        if keys:
            calls = tuple(Call("s3", "get_object", {"Bucket": self.bucket, "Key": k}) for k in keys)
            responses = self._raise_errors((yield Parallel(calls)))
            blobs = {key: response["Body"] for key, response in zip(keys, responses, strict=True)}
        return [self._load_tuple(group, blobs) for group in groups]
