"""``DynamoDBStore`` behaves as LangGraph's reference ``InMemoryStore``, through both faces.

langgraph-checkpoint ships no store conformance suite, so this is one in its spirit: each
scenario drives a store through the public ``BaseStore`` API and returns what a user sees;
it runs on ``InMemoryStore`` (LangGraph's reference, what ``langgraph dev`` serves) and on
our store through its sync and its async face, and the observations must be equal. Search
order is the one documented difference (we list newest-updated first, as LangGraph Server's
Postgres store; the in-memory store lists in insertion order), so searches are compared as
sets here and their order is tested in ``test_kv.py``. So is the other one: a namespace
whose last item is deleted is no longer listed (Postgres), where the in-memory store keeps
listing it empty.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import boto3
import pytest
from langgraph.store.base import (
    BaseStore,
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchOp,
)
from langgraph.store.memory import InMemoryStore

from lambdagraph.store.kv import DynamoDBStore
from tests.conftest import Tables


class Face:
    """One store through one face: every call goes to its sync or its async method."""

    def __init__(self, store: BaseStore, face: str) -> None:
        self.store = store
        self.face = face

    async def _do(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.face == "async":
            return await getattr(self.store, f"a{name}")(*args, **kwargs)
        return await asyncio.to_thread(getattr(self.store, name), *args, **kwargs)

    async def put(self, namespace: tuple[str, ...], key: str, value: dict[str, Any]) -> None:
        await self._do("put", namespace, key, value)

    async def get(self, namespace: tuple[str, ...], key: str) -> Any:
        return _seen(await self._do("get", namespace, key))

    async def delete(self, namespace: tuple[str, ...], key: str) -> None:
        await self._do("delete", namespace, key)

    async def search(self, prefix: tuple[str, ...], **kwargs: Any) -> list[Any]:
        return sorted(map(_seen, await self._do("search", prefix, **kwargs)), key=repr)

    async def list_namespaces(self, **kwargs: Any) -> list[tuple[str, ...]]:
        return list(await self._do("list_namespaces", **kwargs))

    async def batch(self, ops: list[Any]) -> list[Any]:
        results = await self._do("batch", ops)
        return [
            sorted(map(_seen, r), key=repr) if isinstance(r, list) and r and
            isinstance(r[0], Item) else _seen(r) if isinstance(r, Item) else r
            for r in results
        ]


def _seen(item: Item | None) -> Any:
    """What a user compares of an item (its timestamps are the store's own)."""
    return None if item is None else (item.namespace, item.key, item.value)


Scenario = Callable[[Face], Awaitable[Any]]


async def put_get_overwrite_delete(store: Face) -> Any:
    seen = [await store.get(("prefs",), "color")]
    await store.put(("prefs",), "color", {"likes": "blue"})
    seen.append(await store.get(("prefs",), "color"))
    await store.put(("prefs",), "color", {"likes": "green", "since": 2024})
    seen.append(await store.get(("prefs",), "color"))
    await store.delete(("prefs",), "color")
    seen.append(await store.get(("prefs",), "color"))
    await store.delete(("prefs",), "never-there")
    return seen


async def namespaces_keep_keys_apart(store: Face) -> Any:
    # Keys and namespaces that would collide if the sort key were joined naively.
    await store.put(("a",), "b..c", {"n": 1})
    await store.put(("a", "b"), "c", {"n": 2})
    await store.put(("a", "b"), "..", {"n": 3})
    await store.put(("a#b",), "c", {"n": 4})
    await store.put(("ab",), "c", {"n": 5})
    return [
        await store.get(("a",), "b..c"),
        await store.get(("a", "b"), "c"),
        await store.get(("a", "b"), ".."),
        await store.get(("a#b",), "c"),
        await store.get(("a",), "c"),
        await store.search(("a",)),
        await store.search(("a", "b")),
        await store.search(("ab",)),
        await store.list_namespaces(),
    ]


async def values_round_trip(store: Face) -> Any:
    value = {
        "text": "héllo ✓ 日本",
        "float": 0.1,
        "int": 2**53,
        "none": None,
        "nested": {"list": [1, "two", {"three": [3.0]}], "empty": {}},
        "bool": False,
    }
    await store.put(("values",), "doc", value)
    return await store.get(("values",), "doc")


async def search_by_prefix(store: Face) -> Any:
    await store.put(("docs", "alice"), "1", {"n": 1})
    await store.put(("docs", "alice", "drafts"), "2", {"n": 2})
    await store.put(("docs", "bob"), "3", {"n": 3})
    await store.put(("other",), "4", {"n": 4})
    return [
        await store.search(()),
        await store.search(("docs",)),
        await store.search(("docs", "alice")),
        await store.search(("doc",)),
        await store.search(("missing",)),
    ]


async def search_filters(store: Face) -> Any:
    await store.put(("f",), "a", {"kind": "note", "score": 3, "tags": ["x", "y"],
                                  "meta": {"lang": "en", "level": 1}})
    await store.put(("f",), "b", {"kind": "note", "score": 7.5, "tags": ["y"]})
    await store.put(("f",), "c", {"kind": "task", "score": 10, "meta": {"lang": "fr"}})
    await store.put(("f",), "d", {"kind": "task", "score": 0})
    filters: list[dict[str, Any]] = [
        {"kind": "note"},
        {"kind": "task", "score": 10},
        {"score": {"$gt": 3}},
        {"score": {"$gte": 3}},
        {"score": {"$lt": 10}},
        {"score": {"$lte": 7.5}, "kind": "note"},
        {"score": {"$gt": 2, "$lt": 8}},
        {"kind": {"$ne": "note"}},
        {"kind": {"$eq": "task"}},
        {"tags": ["x", "y"]},
        {"tags": ["y", "x"]},
        {"meta": {"lang": "en"}},
        {"meta": {"lang": "de"}},
        {"missing": None},
        {"kind": "nothing"},
    ]
    return [await store.search(("f",), filter=f) for f in filters]


async def pagination_covers_everything_once(store: Face) -> Any:
    for i in range(23):
        await store.put(("page", str(i % 3)), f"k{i:02d}", {"i": i})
    pages = [await store.search(("page",), limit=5, offset=offset) for offset in range(0, 30, 5)]
    flat = [item for page in pages for item in page]
    return [
        [len(page) for page in pages],
        len(flat) == len(set(map(repr, flat))),
        sorted(flat, key=repr),
        await store.search(("page",), limit=0),
        len(await store.search(("page",), limit=100, offset=22)),
    ]


async def list_namespaces_matching(store: Face) -> Any:
    for namespace in [
        ("users", "alice", "prefs"),
        ("users", "alice", "notes"),
        ("users", "bob", "prefs"),
        ("users", "bob", "prefs", "archive"),
        ("teams", "red", "prefs"),
        ("solo",),
    ]:
        await store.put(namespace, "k", {"ns": list(namespace)})
    return [
        await store.list_namespaces(),
        await store.list_namespaces(prefix=("users",)),
        await store.list_namespaces(prefix=("users", "*", "prefs")),
        await store.list_namespaces(suffix=("prefs",)),
        await store.list_namespaces(prefix=("*",), suffix=("prefs",)),
        await store.list_namespaces(max_depth=2),
        await store.list_namespaces(prefix=("users",), max_depth=2),
        await store.list_namespaces(limit=2, offset=1),
        await store.list_namespaces(prefix=("nobody",)),
    ]


async def mixed_batch(store: Face) -> Any:
    await store.put(("b",), "existing", {"v": 0})
    results = await store.batch([
        GetOp(("b",), "existing"),
        PutOp(("b",), "new", {"v": 1}),
        SearchOp(("b",)),
        ListNamespacesOp(match_conditions=(MatchCondition("prefix", ("b",)),)),
        PutOp(("b",), "existing", None),
    ])
    return [results, await store.search(("b",))]


async def invalid_namespaces_are_refused(store: Face) -> Any:
    refused = []
    for namespace in [(), ("a.b",), ("",), ("langgraph", "x")]:
        try:
            await store.put(namespace, "k", {"v": 1})
        except InvalidNamespaceError as exc:
            refused.append((namespace, type(exc).__name__))
    return [refused, await store.list_namespaces()]


SCENARIOS: list[Scenario] = [
    put_get_overwrite_delete,
    namespaces_keep_keys_apart,
    values_round_trip,
    search_by_prefix,
    search_filters,
    pagination_covers_everything_once,
    list_namespaces_matching,
    mixed_batch,
    invalid_namespaces_are_refused,
]


@pytest.mark.parametrize("face", ["sync", "async"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_same_as_langgraphs_in_memory_store(
    tables: Tables, scenario: Scenario, face: str
) -> None:
    expected = await scenario(Face(InMemoryStore(), "async"))
    ours = DynamoDBStore(tables.app, "alice", client=boto3.client("dynamodb"))
    assert await scenario(Face(ours, face)) == expected
