"""Item (de)serialisation for the checkpoints table: DynamoDB attribute values, sizes, groups.

Pure functions only; the saver binds them to its ``serde`` and clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from langgraph.checkpoint.base import WRITES_IDX_MAP, writes_sort_key
from langgraph.checkpoint.serde.types import ERROR

from lambdagraph.store.checkpoint import schema

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]


def to_attributes(item: Item) -> dict[str, Any]:
    """A plain item as DynamoDB attribute values; ``None`` values are left out."""
    return {key: _serializer.serialize(value) for key, value in item.items() if value is not None}


def to_value(value: Any) -> dict[str, Any]:
    """One plain value as a DynamoDB attribute value."""
    return _serializer.serialize(value)  # type: ignore[no-any-return]


def from_attributes(raw: dict[str, Any]) -> Item:
    """DynamoDB attribute values as plain Python: bytes for B, int for whole N."""
    item: Item = {}
    for key, value in raw.items():
        plain = _deserializer.deserialize(value)
        if isinstance(plain, Binary):
            plain = plain.value
        elif isinstance(plain, Decimal):
            plain = int(plain) if plain == plain.to_integral_value() else float(plain)
        item[key] = plain
    return item


def item_size(item: Item) -> int:
    """Upper estimate of an item's DynamoDB size: attribute names plus values."""
    size = 0
    for key, value in item.items():
        size += len(key.encode())
        if isinstance(value, bytes):
            size += len(value)
        elif isinstance(value, str):
            size += len(value.encode())
        else:
            size += 21  # a DynamoDB number takes at most 21 bytes
    return size


_WRITE_COMMON = (
    schema.PK,
    schema.NS,
    schema.CHECKPOINT_ID,
    schema.TASK_ID,
    schema.TASK_PATH,
    schema.TTL_ATTRIBUTE,
)


def without_cut_output(writes: Sequence[tuple[str, Any]]) -> Sequence[tuple[str, Any]]:
    """A task's writes, less the output it had made when it was cancelled.

    LangGraph saves a task cut by cancellation (a run's time limit, a cancel) with its
    ``CancelledError`` *and* the output it had written so far, and on resume reads any
    output as "the task finished". Cut between a node's write and its conditional edge's,
    the task reads as finished with no next step, and the thread's next run ends at once
    with the step's work half-applied. Keeping only the special writes (error, interrupt,
    resume) makes it read as unfinished: the next run executes it again, as after a crash.
    """
    if not any(channel == ERROR and isinstance(v, asyncio.CancelledError) for channel, v in writes):
        return writes
    return [(channel, value) for channel, value in writes if channel in WRITES_IDX_MAP]


def pending_writes(item: Item) -> list[Item]:
    """The writes an item holds, one format-1 shaped dict each (``idx``, ``channel``,
    ``payload_type`` and ``payload`` or ``s3_key``); none for other kinds of item."""
    if item[schema.KIND] == schema.KIND_WRITE:
        return [item]
    if item[schema.KIND] != schema.KIND_WRITES:
        return []
    common = {name: item[name] for name in _WRITE_COMMON if name in item}
    writes: list[Item] = []
    for name, entry in item.items():
        idx = schema.write_index(name)
        if idx is None:
            continue
        channel, value_type, data = (v.value if isinstance(v, Binary) else v for v in entry)
        write = {
            **common,
            schema.IDX: idx,
            schema.CHANNEL: channel,
            schema.PAYLOAD_TYPE: value_type,
        }
        write[schema.S3_KEY if isinstance(data, str) else schema.PAYLOAD] = data
        writes.append(write)
    return writes


def item_s3_keys(item: Item) -> list[str]:
    """Every S3 object an item (of any kind) points at."""
    keys = [item[schema.S3_KEY]] if schema.S3_KEY in item else []
    return keys + sorted(item.get(schema.S3_KEYS) or ())


def key_of(item: Item) -> dict[str, Any]:
    """The primary key of an item, as attribute values."""
    return {schema.PK: {"S": item[schema.PK]}, schema.SK: {"S": item[schema.SK]}}


@dataclass
class Group:
    """One checkpoint item with the pending-write items stored under it."""

    checkpoint: Item
    writes: list[Item] = field(default_factory=list)

    @property
    def thread_id(self) -> str:
        return str(self.checkpoint[schema.PK])

    @property
    def checkpoint_ns(self) -> str:
        return str(self.checkpoint[schema.NS])

    @property
    def checkpoint_id(self) -> str:
        return str(self.checkpoint[schema.CHECKPOINT_ID])

    def sorted_writes(self) -> list[Item]:
        """Writes in LangGraph's replay order: ``(task_path, task_id, idx)``."""
        return sorted(
            self.writes,
            key=lambda w: writes_sort_key(w[schema.TASK_PATH], w[schema.TASK_ID], w[schema.IDX]),
        )

    def s3_keys(self) -> list[str]:
        """Keys of every payload of this group that lives in S3."""
        return [i[schema.S3_KEY] for i in (self.checkpoint, *self.writes) if schema.S3_KEY in i]


@dataclass
class WriteBatch:
    """The writes of one task that one writes item holds, about to be stored.

    ``item`` has the item's keys and common attributes; ``entries`` maps each idx to
    ``[channel, payload_type, payload]``, the payload being bytes or, once offloaded, the
    S3 key (``s3_keys`` lists those).
    """

    item: Item
    entries: dict[int, list[Any]] = field(default_factory=dict)
    s3_keys: list[str] = field(default_factory=list)

    def size(self) -> int:
        """Upper estimate of the stored item's size."""
        entries = sum(
            len(schema.write_attribute(idx))
            + 12
            + sum(len(p.encode()) for p in entry[:2])
            + len(entry[2] if isinstance(entry[2], bytes) else entry[2].encode())
            for idx, entry in self.entries.items()
        )
        return item_size(self.item) + entries + sum(len(k) + 1 for k in self.s3_keys)


def group_key(item: Item) -> tuple[str, str, str]:
    """``(thread_id, checkpoint_ns, checkpoint_id)`` an item belongs to."""
    return (item[schema.PK], item[schema.NS], item[schema.CHECKPOINT_ID])


def group_items(items: Iterable[Item]) -> list[Group]:
    """Group items in any order into checkpoints with their writes; orphans are dropped."""
    checkpoints: dict[tuple[str, str, str], Group] = {}
    writes: list[Item] = []
    for item in items:
        if item[schema.KIND] == schema.KIND_CHECKPOINT:
            checkpoints[group_key(item)] = Group(item)
        else:
            writes += pending_writes(item)
    for item in writes:
        group = checkpoints.get(group_key(item))
        if group is not None:
            group.writes.append(item)
    return list(checkpoints.values())


def newest_first(groups: Iterable[Group]) -> list[Group]:
    """Groups ordered newest checkpoint first across namespaces (ids are time-ordered)."""
    return sorted(groups, key=lambda g: (g.checkpoint_id, g.checkpoint_ns), reverse=True)


def transaction_chunks(batches: list[WriteBatch]) -> list[list[WriteBatch]]:
    """Split writes items into TransactWriteItems chunks: at most 100 items and 4 MB each."""
    chunks: list[list[WriteBatch]] = [[]]
    size = 0
    for batch in batches:
        this = batch.size()
        full = len(chunks[-1]) >= schema.MAX_TRANSACT_ITEMS
        if chunks[-1] and (full or size + this > schema.MAX_TRANSACT_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(batch)
        size += this
    return chunks
