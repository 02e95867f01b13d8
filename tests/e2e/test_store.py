"""The Store API through ``langgraph-sdk`` (async and sync clients), graphs' runtime store,
per-user stores, bad input, and custom auth store handlers, on the local stack."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from langgraph_sdk.errors import PermissionDeniedError

from lambdagraph.settings import Settings
from lambdagraph.store import schema
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import auth, stack_settings
from tests.e2e.store_graphs import MEMORY_GRAPH

STORE_AUTH = "tests.e2e.auth_files.store_auth:auth"


@pytest.fixture
def settings(tables: Tables) -> Settings:
    return stack_settings(tables, graphs=MEMORY_GRAPH)


def _seen(item: Any) -> Any:
    return None if item is None else (item["namespace"], item["key"], item["value"])


async def test_the_async_client_puts_gets_searches_lists_and_deletes(
    client: LangGraphClient,
) -> None:
    await client.store.put_item(["notes", "work"], "todo", {"text": "ship it", "done": False})
    await client.store.put_item(["notes", "home"], "milk", {"text": "buy milk", "done": True})
    await client.store.put_item(["notes", "home"], "milk", {"text": "buy oat milk", "done": True})

    item = await client.store.get_item(["notes", "home"], "milk")
    assert _seen(item) == (["notes", "home"], "milk", {"text": "buy oat milk", "done": True})
    assert item is not None and item["created_at"] <= item["updated_at"]
    assert await client.store.get_item(["notes", "home"], "eggs") is None

    found = await client.store.search_items(["notes"])
    assert [_seen(i) for i in found["items"]] == [  # newest-updated first
        (["notes", "home"], "milk", {"text": "buy oat milk", "done": True}),
        (["notes", "work"], "todo", {"text": "ship it", "done": False}),
    ]
    undone = await client.store.search_items(["notes"], filter={"done": False})
    assert [i["key"] for i in undone["items"]] == ["todo"]
    paged = await client.store.search_items(["notes"], limit=1, offset=1)
    assert [i["key"] for i in paged["items"]] == ["todo"]

    listed = await client.store.list_namespaces(prefix=["notes"])
    assert listed == {"namespaces": [["notes", "home"], ["notes", "work"]]}
    assert await client.store.list_namespaces(max_depth=1) == {"namespaces": [["notes"]]}

    await client.store.delete_item(["notes", "home"], "milk")
    assert await client.store.get_item(["notes", "home"], "milk") is None
    assert await client.store.list_namespaces() == {"namespaces": [["notes", "work"]]}


def test_the_sync_client_does_the_same(sync_client: SyncLangGraphClient) -> None:
    sync_client.store.put_item(["prefs"], "theme", {"dark": True})
    assert _seen(sync_client.store.get_item(["prefs"], "theme")) == (
        ["prefs"], "theme", {"dark": True},
    )
    found = sync_client.store.search_items(["prefs"], filter={"dark": {"$eq": True}})
    assert [i["key"] for i in found["items"]] == ["theme"]
    assert sync_client.store.list_namespaces(suffix=["prefs"]) == {"namespaces": [["prefs"]]}
    sync_client.store.delete_item(["prefs"], "theme")
    assert sync_client.store.get_item(["prefs"], "theme") is None


async def test_a_ttl_sets_the_tables_expiry(client: LangGraphClient, tables: Tables) -> None:
    before = time.time()
    await client.store.put_item(["short"], "k", {"v": 1}, ttl=5)
    raw = boto3.client("dynamodb").get_item(
        TableName=tables.app, Key=schema.kv_key("alice", ("short",), "k")
    )["Item"]
    expires = float(raw[schema.TTL_ATTRIBUTE]["N"])
    assert before + 300 - 1 <= expires <= time.time() + 300
    assert (await client.store.get_item(["short"], "k", refresh_ttl=False)) is not None


async def test_graphs_get_the_store_of_the_user_who_runs_them(stack: LocalStack) -> None:
    alice = get_client(url=stack.url, headers=auth("alice"))
    bob = get_client(url=stack.url, headers=auth("bob"))

    first = await alice.runs.wait(None, "memory", input={"text": "likes blue"})
    thread = await alice.threads.create()
    second = await alice.runs.wait(thread["thread_id"], "memory", input={"text": "has a cat"})
    bobs = await bob.runs.wait(None, "memory", input={"text": "likes red"})

    assert isinstance(first, dict) and isinstance(second, dict) and isinstance(bobs, dict)
    assert first["store_type"] == "DynamoDBStore"
    assert first["recalled"] == ["likes blue"]
    assert second["recalled"] == ["has a cat", "likes blue"]
    assert bobs["recalled"] == ["likes red"]
    # What her graph remembered is in her Store API, and nowhere in bob's.
    mine = await alice.store.search_items(["memories"], limit=10)
    assert sorted(i["value"]["text"] for i in mine["items"]) == ["has a cat", "likes blue"]
    theirs = await bob.store.search_items([], limit=100)
    assert [i["value"]["text"] for i in theirs["items"]] == ["likes red"]
    key = mine["items"][0]["key"]
    assert await bob.store.get_item(["memories"], key) is None
    await bob.store.delete_item(["memories"], key)
    assert await alice.store.get_item(["memories"], key) is not None


BAD_INPUT: list[tuple[str, str, dict[str, Any], int, str]] = [
    # Each checked against langgraph dev (langgraph-api 0.16.7); see http/store.py.
    ("PUT", "/store/items", {"json": {"namespace": ["a.b"], "key": "k", "value": {}}}, 422,
     "Namespace label 'a.b' must be a non-empty string without periods"),
    ("PUT", "/store/items", {"json": {"namespace": ["a", ""], "key": "k", "value": {}}}, 422,
     "Namespace label '' must be a non-empty string without periods"),
    ("PUT", "/store/items", {"json": {"namespace": [], "key": "k", "value": {}}}, 400,
     "Namespace cannot be empty."),
    ("PUT", "/store/items", {"json": {"namespace": ["langgraph"], "key": "k", "value": {}}},
     400, "Root label for namespace cannot be \"langgraph\". Got: ('langgraph',)"),
    ("PUT", "/store/items", {"json": {"namespace": ["a"], "key": "k", "value": [1]}}, 422,
     "value"),
    ("PUT", "/store/items", {"json": {"namespace": ["a"], "key": "k"}}, 422, "value"),
    ("GET", "/store/items", {"params": {"namespace": "a"}}, 400, "Key is required"),
    ("GET", "/store/items", {"params": {"key": "k"}}, 422,
     "Namespace label '' must be a non-empty string without periods"),
    ("GET", "/store/items", {"params": {"namespace": "a..b", "key": "k"}}, 422,
     "Namespace label '' must be a non-empty string without periods"),
    ("DELETE", "/store/items", {"json": {"namespace": ["a"]}}, 422, "key"),
    ("POST", "/store/items/search", {"json": {"namespace_prefix": ["a"], "query": "cats"}},
     422, "no vector index"),
    ("POST", "/store/items/search", {"json": {"filter": {"n": {"$regex": "x"}}}}, 422,
     "Unsupported filter operator"),
    ("POST", "/store/items/search", {"json": {"limit": -1}}, 422, "limit"),
    ("POST", "/store/namespaces", {"json": {"prefix": ["a.b"]}}, 422,
     "Namespace label 'a.b' must be a non-empty string without periods"),
]


@pytest.mark.parametrize(("method", "path", "request_", "status", "detail"), BAD_INPUT)
async def test_bad_input_is_refused_and_nothing_is_written(
    stack: LocalStack,
    client: LangGraphClient,
    method: str,
    path: str,
    request_: dict[str, Any],
    status: int,
    detail: str,
) -> None:
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice")) as http:
        answer = await http.request(method, path, **request_)
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["detail"]
    assert await client.store.list_namespaces() == {"namespaces": []}


@pytest.fixture
def custom_stack(tables: Tables) -> Iterator[LocalStack]:
    settings = stack_settings(tables, auth_mode="custom", auth_path=STORE_AUTH)
    with running_stack(settings=settings) as running:
        yield running


async def test_store_handlers_scope_namespaces_filter_searches_and_refuse(
    custom_stack: LocalStack,
) -> None:
    alice = get_client(url=custom_stack.url, headers={"Authorization": "Bearer alice-token"})
    bob = get_client(url=custom_stack.url, headers={"Authorization": "Bearer bob-token"})
    await alice.store.put_item(["notes"], "live", {"status": "live", "text": "hi"})
    await alice.store.put_item(["notes"], "old", {"status": "archived", "text": "bye"})

    # The handler put both under ("alice", "notes"), and reads go through it the same way.
    live = await alice.store.get_item(["notes"], "live")
    assert _seen(live) == (["alice", "notes"], "live", {"status": "live", "text": "hi"})
    found = await alice.store.search_items(["notes"])
    assert [i["key"] for i in found["items"]] == ["live"]  # the handler's filter hides "old"
    assert await alice.store.list_namespaces() == {"namespaces": [["alice", "notes"]]}
    assert await bob.store.get_item(["notes"], "live") is None

    with pytest.raises(PermissionDeniedError) as refused:
        await alice.store.put_item(["locked", "x"], "k", {"v": 1})
    assert "That namespace is locked" in str(refused.value.response.text)
    assert await alice.store.list_namespaces() == {"namespaces": [["alice", "notes"]]}
