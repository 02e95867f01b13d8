"""Pure parts of the checkpoint saver: keys, items, plans' requests, error translation."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from langgraph.checkpoint.base import INTERRUPT

import lambdagraph.store.checkpoint as checkpoint_pkg
from lambdagraph.errors import CheckpointConflict
from lambdagraph.store.checkpoint import AsyncDynamoDBSaver, DynamoDBSaver, schema
from lambdagraph.store.checkpoint.items import (
    Group,
    WriteBatch,
    from_attributes,
    group_items,
    item_size,
    to_attributes,
    transaction_chunks,
)
from lambdagraph.store.checkpoint.steps import Call, Parallel


def test_public_api() -> None:
    assert set(checkpoint_pkg.__all__) == {
        "AsyncDynamoDBSaver",
        "BaseDynamoDBSaver",
        "CheckpointConflict",
        "DynamoDBSaver",
    }
    assert issubclass(AsyncDynamoDBSaver, DynamoDBSaver)


@pytest.mark.parametrize("ns", ["", "sub:1", "a#b:2|c:3", "100%:x"])
def test_namespaces_never_share_a_key_prefix(ns: str) -> None:
    others = {"", "sub:1", "sub:1|x:2", "a#b:2|c:3", "a", "100%:x"} - {ns}
    for other in others:
        assert not schema.checkpoint_sk(other, "c1").startswith(schema.ns_prefix(ns))


def test_a_checkpoints_writes_sort_between_it_and_the_next_checkpoint() -> None:
    older, newer = "1f0-aaa", "1f0-aab"
    keys = sorted(
        [
            schema.checkpoint_sk("", newer),
            schema.write_sk("", older, "task", 10),
            schema.write_sk("", older, "task", -3),
            schema.fence_sk("", older),
            schema.checkpoint_sk("", older),
        ],
        reverse=True,
    )
    assert keys[0] == schema.checkpoint_sk("", newer)
    assert keys[-1] == schema.checkpoint_sk("", older)  # read last, after all its writes


def test_items_round_trip_through_attribute_values() -> None:
    item = {"PK": "t", "SK": "#c", "idx": -3, "payload": b"\x00\x01", "ns": "", "gone": None}
    assert from_attributes(to_attributes(item)) == {k: v for k, v in item.items() if v is not None}
    assert item_size(item) >= len(b"\x00\x01") + len("payload")


def test_grouping_ignores_fences_and_orphan_writes() -> None:
    def write(cid: str) -> dict[str, Any]:
        return {"PK": "t", "ns": "", "checkpoint_id": cid, "kind": schema.KIND_WRITE}

    checkpoint = {"PK": "t", "ns": "", "checkpoint_id": "c1", "kind": schema.KIND_CHECKPOINT}
    fence = {"PK": "t", "ns": "", "checkpoint_id": "c1", "kind": schema.KIND_FENCE}
    groups = group_items([write("c1"), fence, write("c0"), checkpoint])
    assert groups == [Group(checkpoint, [write("c1")])]


def _put_args(parent: str | None, source: str) -> tuple[Any, ...]:
    configurable = {"thread_id": "t", "checkpoint_ns": ""}
    if parent:
        configurable["checkpoint_id"] = parent
    checkpoint = {
        "v": 4,
        "id": "child",
        "ts": "",
        "channel_values": {},
        "channel_versions": {},
        "versions_seen": {},
    }
    return {"configurable": configurable}, checkpoint, {"source": source}, {}


def _saver(**kwargs: Any) -> DynamoDBSaver:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return DynamoDBSaver("table", client=client, **kwargs)


def test_a_fenced_put_is_one_conditional_transaction() -> None:
    step = next(_saver()._put_plan(*_put_args("parent", "loop")))

    assert isinstance(step, Call) and step.operation == "transact_write_items"
    put, fence = step.params["TransactItems"]
    assert put["Put"]["Item"]["SK"] == {"S": "#child"}
    assert fence["Update"]["Key"]["SK"] == {"S": "#parent#f"}
    assert fence["Update"]["ConditionExpression"] == "attribute_not_exists(child) OR child = :child"


def test_branches_and_roots_are_not_conditional() -> None:
    fork = next(_saver()._put_plan(*_put_args("parent", "fork")))
    assert "ConditionExpression" not in fork.params["TransactItems"][1]["Update"]  # type: ignore[union-attr]
    root = next(_saver()._put_plan(*_put_args(None, "input")))
    assert isinstance(root, Call) and root.operation == "put_item"
    assert "ConditionExpression" not in root.params


def test_an_oversized_checkpoint_goes_to_s3_before_dynamodb() -> None:
    saver = _saver(bucket="b", s3_client=object(), offload_threshold_bytes=100)
    args = list(_put_args(None, "input"))
    args[1] = {**args[1], "channel_values": {"k": "x" * 500}, "channel_versions": {"k": "1"}}
    plan = saver._put_plan(*args)
    upload = next(plan)
    assert isinstance(upload, Parallel) and upload.calls[0].operation == "put_object"
    put = plan.send([{}])
    assert isinstance(put, Call) and "payload" not in put.params["Item"]
    assert put.params["Item"]["s3_key"]["S"] == upload.calls[0].params["Key"]


def test_put_writes_is_one_update_keeping_regular_writes_replacing_special_ones() -> None:
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c"}}
    step = next(_saver()._put_writes_plan(config, [("x", 1), (INTERRUPT, 2)], "task", "~p"))
    assert isinstance(step, Call) and step.operation == "update_item"
    assert step.params["Key"]["SK"] == {"S": "#c#t#task#0"}
    names, expression = step.params["ExpressionAttributeNames"], step.params["UpdateExpression"]
    assert (names["#w0"], names["#w1"]) == ("w-3", "w0")
    assert "#w0 = :w0," in expression  # INTERRUPT (idx -3) replaces
    assert "#w1 = if_not_exists(#w1, :w1)," in expression  # a regular write is kept


def test_a_tasks_writes_past_64_share_one_transaction() -> None:
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c"}}
    step = next(_saver()._put_writes_plan(config, [("x", i) for i in range(130)], "task", ""))
    assert isinstance(step, Call) and step.operation == "transact_write_items"
    keys = [e["Update"]["Key"]["SK"]["S"] for e in step.params["TransactItems"]]
    assert keys == ["#c#t#task#0", "#c#t#task#1", "#c#t#task#2"]


def test_a_lost_fence_race_is_a_checkpoint_conflict() -> None:
    saver = _saver()
    with Stubber(saver.client) as stub:
        stub.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            modeled_fields={
                "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]
            },
        )
        with pytest.raises(CheckpointConflict) as caught:
            saver.put(*_put_args("parent", "loop"))
    assert (caught.value.thread_id, caught.value.checkpoint_id) == ("t", "parent")
    assert caught.value.code == "checkpoint_conflict"


def test_versions_are_short_strings_that_sort() -> None:
    saver = _saver()
    versions = [saver.get_next_version(None, None)]
    for _ in range(120):
        versions.append(saver.get_next_version(versions[-1], None))
    assert versions == sorted(versions) and len(set(versions)) == 121
    assert versions[:2] == ["a1", "a2"] and versions[9] == "b10" and versions[99] == "c100"


def test_a_format_1_version_is_carried_on_and_sorts_below_the_next() -> None:
    saver = _saver()
    old = "00000000000000000000000000000009.0.30570466466329604"  # saved by saver format 1
    assert saver.get_next_version(old, None) == "b10"
    assert sorted(["b10", old, "00000000000000000000000000000003.0.1"])[-1] == "b10"


def test_transactions_respect_the_item_and_size_limits() -> None:
    def batches(n: int, payload: bytes) -> list[WriteBatch]:
        return [WriteBatch({"SK": f"t{i}"}, {0: ["c", "msgpack", payload]}) for i in range(n)]

    assert [len(c) for c in transaction_chunks(batches(250, b"x"))] == [100, 100, 50]
    chunks = transaction_chunks(batches(30, b"x" * 300_000))
    assert sum(map(len, chunks)) == 30
    assert all(sum(b.size() for b in c) <= schema.MAX_TRANSACT_BYTES for c in chunks)


def test_deletes_go_out_as_parallel_batches_of_25() -> None:
    saver = _saver()
    plan = saver._delete_thread_plan("t")
    query = next(plan)
    assert isinstance(query, Call) and query.operation == "query"
    keys = [{"PK": {"S": "t"}, "SK": {"S": f"#c{i}"}} for i in range(60)]
    batch = plan.send({"Items": [{**k, "kind": {"S": "checkpoint"}} for k in keys]})
    assert isinstance(batch, Parallel)
    sizes = [len(c.params["RequestItems"]["table"]) for c in batch.calls]
    assert sizes == [25, 25, 10]
    with pytest.raises(StopIteration):  # no bucket: nothing to remove from S3
        plan.send([{}, {}, {}])
