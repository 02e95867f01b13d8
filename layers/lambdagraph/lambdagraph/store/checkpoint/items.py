"""Item (de)serialisation for the checkpoints table: DynamoDB attribute values, sizes, groups.

Pure functions only; the saver binds them to its ``serde`` and clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from langgraph.checkpoint.base import writes_sort_key

from lambdagraph.store.checkpoint import schema

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]


def to_attributes(item: Item) -> dict[str, Any]:
    """A plain item as DynamoDB attribute values; ``None`` values are left out."""
    return {key: _serializer.serialize(value) for key, value in item.items() if value is not None}


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
        elif item[schema.KIND] == schema.KIND_WRITE:
            writes.append(item)
    for item in writes:
        group = checkpoints.get(group_key(item))
        if group is not None:
            group.writes.append(item)
    return list(checkpoints.values())


def newest_first(groups: Iterable[Group]) -> list[Group]:
    """Groups ordered newest checkpoint first across namespaces (ids are time-ordered)."""
    return sorted(groups, key=lambda g: (g.checkpoint_id, g.checkpoint_ns), reverse=True)


def transaction_chunks(items: list[Item]) -> list[list[Item]]:
    """Split puts into TransactWriteItems chunks: at most 100 items and 4 MB each."""
    chunks: list[list[Item]] = [[]]
    size = 0
    for item in items:
        this = item_size(item)
        full = len(chunks[-1]) >= schema.MAX_TRANSACT_ITEMS
        if chunks[-1] and (full or size + this > schema.MAX_TRANSACT_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += this
    return chunks
