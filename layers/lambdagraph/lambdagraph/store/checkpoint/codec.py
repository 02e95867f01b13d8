"""``CheckpointCodec``: checkpoints and writes to and from table items, through ``serde``.

Also decides what goes to S3 and stamps TTL. A mixin of ``BaseDynamoDBSaver``; no I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from lambdagraph.errors import ConfigurationError
from lambdagraph.store.checkpoint import schema
from lambdagraph.store.checkpoint.items import Group, Item, WriteBatch, item_size
from lambdagraph.store.checkpoint.steps import Call


class CheckpointCodec:
    """Item building and parsing shared by both savers."""

    serde: SerializerProtocol
    bucket: str | None
    ttl_seconds: int | None
    offload_threshold_bytes: int
    clock: Callable[[], float]

    def _expires_at(self) -> int | None:
        return int(self.clock()) + self.ttl_seconds if self.ttl_seconds else None

    def _alive(self, item: Item) -> bool:
        expires = item.get(schema.TTL_ATTRIBUTE)
        return expires is None or expires > self.clock()

    def _offload(self, item: Item, blob: str) -> tuple[Item, list[Call]]:
        """Move ``item[blob]`` to S3 when the item would pass the threshold."""
        if item_size(item) <= self.offload_threshold_bytes:
            return item, []
        if not self.bucket:
            raise ConfigurationError(
                f"A checkpoint item of {item_size(item)} bytes exceeds "
                f"{self.offload_threshold_bytes} bytes; configure a checkpoint bucket "
                "(LAMBDAGRAPH_CHECKPOINT_BUCKET) to offload large items to S3"
            )
        key = f"{schema.s3_prefix(item[schema.PK])}{uuid.uuid4().hex}"
        body = item.pop(blob)
        item[schema.S3_KEY] = key
        return item, [Call("s3", "put_object", {"Bucket": self.bucket, "Key": key, "Body": body})]

    def _checkpoint_item(
        self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata
    ) -> tuple[Item, list[Call]]:
        conf = config["configurable"]
        versions = checkpoint["channel_versions"]
        # Values ride inline with the checkpoint (one item, one read); channels without a
        # version are dropped, as LangGraph's savers only load versioned blobs.
        body = {
            **checkpoint,
            "channel_values": {
                k: v for k, v in checkpoint["channel_values"].items() if k in versions
            },
        }
        payload_type, payload = self.serde.dumps_typed(body)
        full_metadata = get_checkpoint_metadata(config, metadata)
        metadata_type, metadata_bytes = self.serde.dumps_typed(full_metadata)
        run_id = full_metadata.get("run_id")
        ns = conf.get("checkpoint_ns", "")
        item: Item = {
            schema.PK: conf["thread_id"],
            schema.SK: schema.checkpoint_sk(ns, checkpoint["id"]),
            schema.KIND: schema.KIND_CHECKPOINT,
            schema.NS: ns,
            schema.CHECKPOINT_ID: checkpoint["id"],
            schema.PARENT_ID: conf.get("checkpoint_id"),
            schema.RUN_ID: run_id if isinstance(run_id, str) else None,
            schema.PAYLOAD_TYPE: payload_type,
            schema.PAYLOAD: payload,
            schema.METADATA_TYPE: metadata_type,
            schema.METADATA: metadata_bytes,
            schema.TTL_ATTRIBUTE: self._expires_at(),
        }
        return self._offload(item, schema.PAYLOAD)

    def _write_batches(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
        *,
        offload_all: bool = False,
    ) -> tuple[list[WriteBatch], list[Call]]:
        """A task's writes grouped into the writes items that hold them (see ``schema``),
        with the S3 uploads of payloads too large to ride inline."""
        conf = config["configurable"]
        ns, checkpoint_id = conf.get("checkpoint_ns", ""), conf["checkpoint_id"]
        batches: dict[str, WriteBatch] = {}
        for position, (channel, value) in enumerate(writes):
            idx = WRITES_IDX_MAP.get(channel, position)
            sk = schema.writes_sk(ns, checkpoint_id, task_id, idx)
            batch = batches.get(sk)
            if batch is None:
                batch = batches[sk] = WriteBatch(
                    {
                        schema.PK: conf["thread_id"],
                        schema.SK: sk,
                        schema.KIND: schema.KIND_WRITES,
                        schema.NS: ns,
                        schema.CHECKPOINT_ID: checkpoint_id,
                        schema.TASK_ID: task_id,
                        schema.TASK_PATH: task_path,
                        schema.TTL_ATTRIBUTE: self._expires_at(),
                    }
                )
            # A repeated special channel: the last one wins.
            batch.entries[idx] = [channel, *self.serde.dumps_typed(value)]
        uploads: list[Call] = []
        for batch in batches.values():
            uploads += self._offload_entries(batch, offload_all)
        return list(batches.values()), uploads

    def _offload_entries(self, batch: WriteBatch, offload_all: bool) -> list[Call]:
        """Move the largest payloads to S3 until the item fits the threshold (all of them
        with ``offload_all``: the stored item plus these would pass DynamoDB's limit)."""
        uploads: list[Call] = []
        inline = sorted(
            (i for i, e in batch.entries.items() if isinstance(e[2], bytes)),
            key=lambda i: len(batch.entries[i][2]),
        )
        while inline and (offload_all or batch.size() > self.offload_threshold_bytes):
            entry = batch.entries[inline.pop()]
            if not self.bucket:
                raise ConfigurationError(
                    f"Pending writes of {batch.size()} bytes exceed "
                    f"{self.offload_threshold_bytes} bytes; configure a checkpoint bucket "
                    "(LAMBDAGRAPH_CHECKPOINT_BUCKET) to offload large items to S3"
                )
            key = f"{schema.s3_prefix(batch.item[schema.PK])}{uuid.uuid4().hex}"
            uploads.append(
                Call("s3", "put_object", {"Bucket": self.bucket, "Key": key, "Body": entry[2]})
            )
            entry[2] = key
            batch.s3_keys.append(key)
        return uploads

    def _load_tuple(self, group: Group, blobs: dict[str, bytes]) -> CheckpointTuple:
        item = group.checkpoint

        def payload(source: Item) -> Any:
            data = source.get(schema.PAYLOAD)
            if data is None:
                data = blobs[source[schema.S3_KEY]]
            return self.serde.loads_typed((source[schema.PAYLOAD_TYPE], data))

        conf = {
            "thread_id": group.thread_id,
            "checkpoint_ns": group.checkpoint_ns,
            "checkpoint_id": group.checkpoint_id,
        }
        parent = item.get(schema.PARENT_ID)
        return CheckpointTuple(
            config={"configurable": conf},
            checkpoint=payload(item),
            metadata=self._metadata(item),
            parent_config=({"configurable": {**conf, "checkpoint_id": parent}} if parent else None),
            pending_writes=[
                (w[schema.TASK_ID], w[schema.CHANNEL], payload(w))
                for w in group.sorted_writes()
                if self._alive(w)
            ],
        )

    def _metadata(self, item: Item) -> CheckpointMetadata:
        loaded: CheckpointMetadata = self.serde.loads_typed(
            (item[schema.METADATA_TYPE], item[schema.METADATA])
        )
        return loaded
