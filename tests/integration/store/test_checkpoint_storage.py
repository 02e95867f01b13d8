"""What lands in DynamoDB and S3: TTL, offload of large items, encryption, deletes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypedDict

import boto3
import pytest
from botocore.exceptions import ClientError
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph

from lambdagraph.errors import ConfigurationError
from lambdagraph.settings import Settings
from lambdagraph.store.checkpoint import AsyncDynamoDBSaver, DynamoDBSaver
from tests.conftest import Tables
from tests.integration.store.conftest import encrypted_serde


class Clock:
    """A settable clock for TTL (moto records TTL but never expires items)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _items(table: str, thread_id: str) -> list[dict[str, Any]]:
    response = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": thread_id}},
    )
    return response["Items"]  # type: ignore[no-any-return]


def _objects(bucket: str) -> list[str]:
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


class Blob(TypedDict):
    blob: str


def _blob_graph(saver: Any) -> Any:
    builder = StateGraph(Blob)
    builder.add_node("grow", lambda s: {"blob": s["blob"] + "y" * 1024})
    builder.add_edge(START, "grow")
    builder.add_edge("grow", END)
    return builder.compile(checkpointer=saver)


def test_ttl_is_off_by_default(saver: DynamoDBSaver) -> None:
    _blob_graph(saver).invoke({"blob": "x"}, {"configurable": {"thread_id": "no-ttl"}})
    assert all("expires_at" not in item for item in _items(saver.table_name, "no-ttl"))


def test_expired_items_are_never_returned(tables: Tables) -> None:
    clock = Clock(1_000_000)
    saver = DynamoDBSaver(tables.checkpoints, ttl_seconds=60, clock=clock)
    config = {"configurable": {"thread_id": "ttl"}}
    _blob_graph(saver).invoke({"blob": "x"}, config)

    items = _items(tables.checkpoints, "ttl")
    assert items and {int(i["expires_at"]["N"]) for i in items} == {1_000_060}

    clock.now = 1_000_059
    assert saver.get_tuple(config) is not None
    clock.now = 1_000_060  # expired, though DynamoDB has not deleted anything yet
    assert len(_items(tables.checkpoints, "ttl")) == len(items)
    assert saver.get_tuple(config) is None
    assert list(saver.list(config)) == [] and list(saver.list(None)) == []


async def test_a_one_megabyte_state_round_trips_through_s3(tables: Tables) -> None:
    saver = AsyncDynamoDBSaver(tables.checkpoints, bucket=tables.bucket)
    config = {"configurable": {"thread_id": "big"}}
    big = "x" * (1024 * 1024)
    await _blob_graph(saver).ainvoke({"blob": big}, config)

    fresh = AsyncDynamoDBSaver(tables.checkpoints, bucket=tables.bucket)
    state = await _blob_graph(fresh).aget_state(config)
    assert state.values["blob"] == big + "y" * 1024
    assert all(len(str(i)) < 10_000 for i in _items(tables.checkpoints, "big"))
    assert _objects(tables.bucket)

    await fresh.adelete_thread("big")
    assert _items(tables.checkpoints, "big") == [] and _objects(tables.bucket) == []


def test_oversized_item_without_a_bucket_is_a_clear_error(saver: DynamoDBSaver) -> None:
    plain = DynamoDBSaver(saver.table_name)
    with pytest.raises(ConfigurationError, match="LAMBDAGRAPH_CHECKPOINT_BUCKET"):
        _blob_graph(plain).invoke({"blob": "x" * 400_000}, {"configurable": {"thread_id": "t"}})


def test_encrypted_serde_stores_no_plaintext(tables: Tables) -> None:
    saver = DynamoDBSaver(tables.checkpoints, serde=encrypted_serde())
    config = {"configurable": {"thread_id": "secret"}}
    _blob_graph(saver).invoke({"blob": "top-secret-value"}, config)

    assert "top-secret" not in repr(_items(tables.checkpoints, "secret"))
    assert saver.get_tuple(config).checkpoint["channel_values"]["blob"].startswith("top-secret")  # type: ignore[union-attr]
    with pytest.raises(Exception):  # noqa: B017 - without the key nothing decrypts
        DynamoDBSaver(tables.checkpoints).get_tuple(config)


@dataclass
class Thing:
    name: str


def test_with_allowlist_is_honoured(tables: Tables) -> None:
    strict = DynamoDBSaver(
        tables.checkpoints, serde=JsonPlusSerializer(allowed_msgpack_modules=None)
    )
    config = {"configurable": {"thread_id": "allow", "checkpoint_ns": ""}}
    checkpoint = {
        **empty_checkpoint(),
        "channel_values": {"thing": Thing("a")},
        "channel_versions": {"thing": "1"},
    }
    stored = strict.put(config, checkpoint, {"source": "input"}, {"thing": "1"})  # type: ignore[arg-type]
    strict.put_writes(stored, [("thing", Thing("w"))], "task")

    allowed = strict.with_allowlist([(Thing.__module__, "Thing")])
    restored = allowed.get_tuple(stored)

    assert allowed.client is strict.client and allowed.table_name == strict.table_name
    assert restored.checkpoint["channel_values"]["thing"] == Thing("a")  # type: ignore[union-attr]
    assert restored.pending_writes[0][2] == Thing("w")  # type: ignore[union-attr]
    blocked = strict.get_tuple(stored).checkpoint["channel_values"]["thing"]  # type: ignore[union-attr]
    assert not isinstance(blocked, Thing)


def test_from_settings_and_from_env(tables: Tables, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(checkpoint_table=tables.checkpoints, checkpoint_bucket=tables.bucket)
    saver = DynamoDBSaver.from_settings(settings)
    assert (saver.table_name, saver.bucket, saver.ttl_seconds) == (
        tables.checkpoints,
        tables.bucket,
        None,
    )
    monkeypatch.setenv("LAMBDAGRAPH_CHECKPOINT_TABLE", tables.checkpoints)
    monkeypatch.setenv("LAMBDAGRAPH_CHECKPOINT_TTL_SECONDS", "3600")
    from_env = AsyncDynamoDBSaver.from_env()
    assert isinstance(from_env, AsyncDynamoDBSaver)
    assert (from_env.table_name, from_env.bucket, from_env.ttl_seconds) == (
        tables.checkpoints,
        None,
        3600,
    )


@pytest.mark.parametrize(
    "kwargs",
    [{"ttl_seconds": 0}, {"offload_threshold_bytes": 500_000}, {"offload_threshold_bytes": 0}],
)
def test_bad_options_are_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        DynamoDBSaver("table", client=object(), **kwargs)


async def test_a_missing_table_is_a_configuration_error(tables: Tables) -> None:
    config = {"configurable": {"thread_id": "t"}}
    with pytest.raises(ConfigurationError, match="no-such-table") as caught:
        DynamoDBSaver("no-such-table").get_tuple(config)
    assert isinstance(caught.value.__cause__, ClientError)
    with pytest.raises(ConfigurationError, match="no-such-table"):
        await AsyncDynamoDBSaver("no-such-table").aget_tuple(config)
    with pytest.raises(ConfigurationError, match="no-such-table"):
        list(DynamoDBSaver("no-such-table").list(config))


def test_list_without_config_spans_threads_newest_first(saver: DynamoDBSaver) -> None:
    for thread_id in ("one", "two"):
        _blob_graph(saver).invoke({"blob": thread_id}, {"configurable": {"thread_id": thread_id}})
    listed = list(saver.list(None))
    ids = [t.config["configurable"]["checkpoint_id"] for t in listed]
    assert ids == sorted(ids, reverse=True)
    assert {t.config["configurable"]["thread_id"] for t in listed} == {"one", "two"}
    assert len(listed) == 2 * len(list(saver.list({"configurable": {"thread_id": "one"}})))
    assert len(list(saver.list(None, filter={"source": "input"}, limit=1))) == 1


def test_prune_and_copy_keep_s3_payloads_consistent(tables: Tables) -> None:
    saver = DynamoDBSaver(tables.checkpoints, bucket=tables.bucket, offload_threshold_bytes=64)
    config = {"configurable": {"thread_id": "src"}}
    graph = _blob_graph(saver)
    for _ in range(3):
        graph.invoke({"blob": uuid.uuid4().hex}, config)
    saver.copy_thread("src", "dst")
    saver.delete_thread("src")
    copied = {"configurable": {"thread_id": "dst"}}
    assert saver.get_tuple(copied) is not None  # the copy has its own S3 objects

    before = len(_objects(tables.bucket))
    saver.prune(["dst"], strategy="keep_latest")
    assert len(list(saver.list(copied))) == 1
    assert 0 < len(_objects(tables.bucket)) < before
    assert saver.get_tuple(copied).checkpoint["channel_values"]["blob"]  # type: ignore[union-attr]


async def test_a_thread_is_deleted_in_bounded_batches_that_can_stop_anywhere(
    tables: Tables,
) -> None:
    saver = AsyncDynamoDBSaver(tables.checkpoints, bucket=tables.bucket, offload_threshold_bytes=64)
    graph = _blob_graph(saver)
    for thread_id in ("doomed", "kept"):
        for _ in range(4):
            await graph.ainvoke(
                {"blob": uuid.uuid4().hex}, {"configurable": {"thread_id": thread_id}}
            )
    total = len(_items(tables.checkpoints, "doomed"))
    objects = [o for o in _objects(tables.bucket) if o.startswith("doomed/")]
    assert total > 10 and objects

    assert await saver.adelete_thread_batch("doomed", max_items=10) is False
    assert len(_items(tables.checkpoints, "doomed")) == total - 10  # exactly one batch went
    # A fresh saver (the next invocation of a job that died) just carries on.
    fresh = AsyncDynamoDBSaver(tables.checkpoints, bucket=tables.bucket)
    calls = 1
    while not await fresh.adelete_thread_batch("doomed", max_items=10):
        calls += 1
    assert calls >= total // 10
    assert _items(tables.checkpoints, "doomed") == []
    assert [o for o in _objects(tables.bucket) if o.startswith("doomed/")] == []
    assert fresh.delete_thread_batch("doomed") is True  # nothing left: one empty read
    assert await fresh.aget_tuple({"configurable": {"thread_id": "kept"}}) is not None
    assert any(o.startswith("kept/") for o in _objects(tables.bucket))
