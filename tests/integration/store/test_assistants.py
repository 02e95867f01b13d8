"""AssistantStore and AssistantService against the moto server: versions, races, ownership,
and what a run records of its assistant."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import pytest

from lambdagraph.engine import AssistantService
from lambdagraph.errors import AssistantNotFound, BadRequest, Conflict
from lambdagraph.store import items, schema
from lambdagraph.store.app import AppStore
from lambdagraph.store.assistants import AssistantStore
from lambdagraph.store.records import public_run
from tests.conftest import Tables


class Graphs:
    """Two graph names; the store tests never load a graph."""

    def names(self) -> list[str]:
        return ["agent", "other"]

    def get(self, assistant_id: str) -> Any:
        raise AssertionError("not loaded here")


@pytest.fixture
def app(tables: Tables) -> AppStore:
    return AppStore(tables.app, client=boto3.client("dynamodb"))


@pytest.fixture
def service(app: AppStore) -> AssistantService:
    return AssistantService(Graphs(), AssistantStore(app.table_name, client=app.client), app)


async def test_each_patch_is_a_new_version_and_old_ones_can_come_back(
    service: AssistantService,
) -> None:
    created = await service.create("alice", graph_id="agent", name="a", metadata={"k": 1})
    aid = created["assistant_id"]
    await service.update("alice", aid, name="b", metadata={"j": 2})
    third = await service.update("alice", aid, graph_id="other", config={"tags": ["x"]})
    assert (third["version"], third["name"], third["graph_id"]) == (3, "b", "other")
    assert third["metadata"] == {"k": 1, "j": 2}
    versions = await service.versions("alice", aid)
    assert [(v["version"], v["name"], v["graph_id"]) for v in versions] == [
        (3, "b", "other"), (2, "b", "agent"), (1, "a", "agent")
    ]
    first = await service.set_latest("alice", aid, 1)
    assert (first["version"], first["name"], first["graph_id"]) == (1, "a", "agent")
    assert first["created_at"] == created["created_at"]
    assert (await service.get("alice", aid))["metadata"] == {"k": 1}
    assert (await service.update("alice", aid, name="c"))["version"] == 4


async def test_concurrent_patches_each_get_their_own_version(service: AssistantService) -> None:
    aid = (await service.create("alice", graph_id="agent"))["assistant_id"]
    results = await asyncio.gather(
        *(service.update("alice", aid, metadata={f"k{i}": i}) for i in range(4))
    )
    assert sorted(r["version"] for r in results) == [2, 3, 4, 5]
    assert [v["version"] for v in await service.versions("alice", aid)] == [5, 4, 3, 2, 1]


async def test_another_users_assistant_is_not_found_and_its_id_stays_taken(
    service: AssistantService,
) -> None:
    aid = (await service.create("alice", graph_id="agent"))["assistant_id"]
    for attempt in (
        service.get("bob", aid),
        service.update("bob", aid, name="mine"),
        service.versions("bob", aid),
        service.set_latest("bob", aid, 1),
        service.delete("bob", aid),
        service.create("bob", graph_id="agent", assistant_id=aid, if_exists="do_nothing"),
    ):
        with pytest.raises(AssistantNotFound):
            await attempt
    with pytest.raises(Conflict):
        await service.create("bob", graph_id="agent", assistant_id=aid)
    assert [a["assistant_id"] for a in await service.store.list_owned("bob")] == []
    assert (await service.get("alice", aid))["version"] == 1


async def test_delete_removes_the_assistant_and_every_version(
    service: AssistantService, app: AppStore
) -> None:
    aid = (await service.create("alice", graph_id="agent"))["assistant_id"]
    await service.update("alice", aid, name="two")
    await service.delete("alice", aid)
    left = app.client.query(
        TableName=app.table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": schema.assistant_pk(aid)}},
    )
    assert left["Items"] == []
    with pytest.raises(AssistantNotFound):
        await service.get("alice", aid)


async def test_bad_input_writes_nothing(service: AssistantService) -> None:
    with pytest.raises(AssistantNotFound):
        await service.create("alice", graph_id="nope")
    with pytest.raises(BadRequest):
        await service.create(
            "alice", graph_id="agent", config={"configurable": {"a": 1}}, context={"b": 2}
        )
    aid = (await service.create("alice", graph_id="agent"))["assistant_id"]
    with pytest.raises(AssistantNotFound):
        await service.update("alice", aid, graph_id="nope")
    with pytest.raises(AssistantNotFound):
        await service.set_latest("alice", aid, 2)
    assert [a["assistant_id"] for a in await service.store.list_owned("alice")] == [aid]
    assert [v["version"] for v in await service.versions("alice", aid)] == [1]


async def test_a_run_records_its_assistant_and_graph_apart(app: AppStore) -> None:
    run = await app.create_run(
        "alice", thread_id=None, assistant_id="a-uuid", graph_id="agent", kwargs={"input": {}}
    )
    read = await app.get_run("alice", run["thread_id"], run["run_id"])
    assert (read["assistant_id"], read["graph_id"]) == ("a-uuid", "agent")
    assert "graph_id" not in public_run(read)
    # A run recorded before assistants named its graph in assistant_id: still runs that graph.
    item = items.run_item(read)
    del item["graph_id"]
    assert items.run_from_item(item)["graph_id"] == "a-uuid"
