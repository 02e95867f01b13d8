"""Storage formats: threads saved by the format-1 saver still read and resume; format-2 writes
items stay inside DynamoDB's item limit however a task's writes arrive."""

from __future__ import annotations

import random
import uuid
from typing import Any

import boto3
from langgraph.checkpoint.base import ERROR, empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.types import Command

from lambdagraph.store.checkpoint import DynamoDBSaver, schema
from lambdagraph.store.checkpoint.items import from_attributes, pending_writes, to_attributes
from tests.bench._hitl_graph import CallCounter, build_graph
from tests.conftest import Tables

_serde = JsonPlusSerializer()


def _thread_items(table: str, thread_id: str) -> list[dict[str, Any]]:
    response = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": thread_id}},
        ConsistentRead=True,
    )
    return [from_attributes(i) for i in response["Items"]]


def _old_version(version: str) -> str:
    """A version as the format-1 saver wrote it: 32 digits and a random part."""
    return f"{int(version[1:]):032}.{random.random():016}"


def _as_format_1(item: dict[str, Any]) -> list[dict[str, Any]]:
    """An item rewritten the way the format-1 saver stored it: one item per pending write,
    and checkpoints whose channel versions are 32-digit strings."""
    if item[schema.KIND] == schema.KIND_WRITES:
        return [
            {
                **{k: w[k] for k in w if k != schema.TTL_ATTRIBUTE},
                schema.SK: schema.write_sk(
                    w[schema.NS], w[schema.CHECKPOINT_ID], w[schema.TASK_ID], w[schema.IDX]
                ),
                schema.KIND: schema.KIND_WRITE,
            }
            for w in pending_writes(item)
        ]
    if item[schema.KIND] == schema.KIND_CHECKPOINT:
        checkpoint = _serde.loads_typed((item[schema.PAYLOAD_TYPE], item[schema.PAYLOAD]))
        old = {v: _old_version(v) for v in checkpoint["channel_versions"].values()}
        for seen in checkpoint["versions_seen"].values():
            old.update({v: _old_version(v) for v in seen.values() if v not in old})
        checkpoint["channel_versions"] = {
            c: old[v] for c, v in checkpoint["channel_versions"].items()
        }
        checkpoint["versions_seen"] = {
            n: {c: old[v] for c, v in seen.items()}
            for n, seen in checkpoint["versions_seen"].items()
        }
        item[schema.PAYLOAD_TYPE], item[schema.PAYLOAD] = _serde.dumps_typed(checkpoint)
    return [item]


def test_a_thread_saved_in_format_1_resumes_like_in_memory(tables: Tables) -> None:
    thread_id = f"format-1-{uuid.uuid4()}"
    config = {"configurable": {"thread_id": thread_id}}
    client = boto3.client("dynamodb")
    build_graph(DynamoDBSaver(tables.checkpoints)).invoke({"steps": []}, config)
    for item in _thread_items(tables.checkpoints, thread_id):
        client.delete_item(
            TableName=tables.checkpoints,
            Key=to_attributes({schema.PK: item[schema.PK], schema.SK: item[schema.SK]}),
        )
        for old in _as_format_1(item):
            client.put_item(TableName=tables.checkpoints, Item=to_attributes(old))
    kinds = {i[schema.KIND] for i in _thread_items(tables.checkpoints, thread_id)}
    assert kinds == {schema.KIND_CHECKPOINT, schema.KIND_WRITE, schema.KIND_FENCE}

    saver = DynamoDBSaver(tables.checkpoints)
    interrupted = saver.get_tuple(config)
    assert interrupted is not None and [w[1] for w in interrupted.pending_writes] == [
        "__interrupt__"
    ]
    resumed = build_graph(saver).invoke(Command(resume="yes"), config)

    memory = build_graph(InMemorySaver())
    memory.invoke({"steps": []}, config)
    assert resumed == memory.invoke(Command(resume="yes"), config)
    assert build_graph(saver).get_state(config).next == ()
    saver.delete_thread(thread_id)
    assert _thread_items(tables.checkpoints, thread_id) == []


def test_a_tasks_writes_that_outgrow_one_item_go_to_s3(tables: Tables) -> None:
    counter = CallCounter()
    saver = DynamoDBSaver(
        tables.checkpoints,
        client=counter.session.client("dynamodb"),
        bucket=tables.bucket,
        s3_client=counter.session.client("s3"),
    )
    config = saver.put(
        {"configurable": {"thread_id": f"big-{uuid.uuid4()}", "checkpoint_ns": ""}},
        empty_checkpoint(),
        {"source": "input", "step": -1},
        {},
    )
    big = "x" * 300_000
    counter.take()
    saver.put_writes(config, [("a", big), ("b", big)], "task")  # 600 KB: one goes to S3
    assert counter.take() == {"s3.PutObject": 1, "dynamodb.UpdateItem": 1}
    saver.put_writes(config, [(ERROR, big)], "task")  # with what is stored: past 400 KB
    # DynamoDB refuses the item; the saver sends the payload to S3 and updates again.
    assert counter.take() == {"dynamodb.UpdateItem": 2, "s3.PutObject": 1}

    pending = saver.get_tuple(config).pending_writes  # type: ignore[union-attr]
    assert sorted((c, len(v)) for _, c, v in pending) == [
        (ERROR, 300_000),
        ("a", 300_000),
        ("b", 300_000),
    ]
    saver.delete_thread(config["configurable"]["thread_id"])
    prefix = schema.s3_prefix(config["configurable"]["thread_id"])
    listed = boto3.client("s3").list_objects_v2(Bucket=tables.bucket, Prefix=prefix)
    assert listed.get("KeyCount") == 0
