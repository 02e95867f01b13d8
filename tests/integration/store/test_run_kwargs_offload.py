"""Run input larger than a DynamoDB item holds goes to the checkpoint bucket and comes back."""

from __future__ import annotations

import boto3
import pytest

from lambdagraph.errors import InvalidInput
from lambdagraph.store import bucket, schema
from lambdagraph.store.app import AppStore
from lambdagraph.store.bucket import s3_prefix
from lambdagraph.store.records import RunKwargs
from tests.conftest import Tables


def _kwargs(text: str) -> RunKwargs:
    return {"input": {"messages": [{"role": "user", "content": text}]}, "stream_mode": ["values"]}


def _objects(tables: Tables, thread_id: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=tables.bucket, Prefix=s3_prefix(thread_id))
    return [o["Key"] for o in listed.get("Contents", [])]


async def test_a_500_kb_input_is_stored_in_s3_and_read_back_by_every_read(tables: Tables) -> None:
    store = AppStore(tables.app, bucket=tables.bucket)
    thread_id = (await store.create_thread("alice"))["thread_id"]
    big = _kwargs("é" + "x" * 500_000)

    running = await store.create_run("alice", thread_id=thread_id, assistant_id="agent", kwargs=big)
    queued = await store.create_run("alice", thread_id=thread_id, assistant_id="agent", kwargs=big)

    item = boto3.client("dynamodb").get_item(
        TableName=tables.app, Key=schema.run_key(thread_id, queued["run_id"])
    )["Item"]
    assert "kwargs_json" not in item
    assert sorted(_objects(tables, thread_id)) == sorted(
        bucket.run_kwargs_key(thread_id, r["run_id"]) for r in (running, queued)
    )
    assert (await store.get_run("alice", thread_id, queued["run_id"]))["kwargs"] == big
    assert [r["kwargs"] for r in await store.list_runs("alice", thread_id)] == [big, big]
    cancelled = await store.cancel_run("alice", thread_id, running["run_id"])
    assert cancelled["kwargs"] == big


async def test_a_small_input_stays_in_the_item(tables: Tables) -> None:
    store = AppStore(tables.app, bucket=tables.bucket)
    thread_id = (await store.create_thread("alice"))["thread_id"]

    run = await store.create_run(
        "alice", thread_id=thread_id, assistant_id="agent", kwargs=_kwargs("hi")
    )

    assert _objects(tables, thread_id) == []
    assert (await store.get_run("alice", thread_id, run["run_id"]))["kwargs"] == _kwargs("hi")


async def test_without_a_bucket_a_large_input_is_refused_and_nothing_is_recorded(
    tables: Tables,
) -> None:
    store = AppStore(tables.app)
    thread_id = (await store.create_thread("alice"))["thread_id"]

    with pytest.raises(InvalidInput, match="LAMBDAGRAPH_CHECKPOINT_BUCKET"):
        await store.create_run(
            "alice", thread_id=thread_id, assistant_id="agent", kwargs=_kwargs("x" * 500_000)
        )

    assert await store.list_runs("alice", thread_id) == []
    assert (await store.get_thread("alice", thread_id))["status"] == "idle"
