"""``DynamoDBStore`` where it goes beyond (or differs from) LangGraph's in-memory store:
order, timestamps, TTL, per-user partitions, and what it refuses."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from langgraph.store.base import Item

from lambdagraph.errors import InvalidInput
from lambdagraph.store import schema
from lambdagraph.store.kv import DynamoDBStore
from tests.conftest import Tables


class Clock:
    """A clock the test moves: items expire without waiting."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tables: Tables, clock: Clock) -> DynamoDBStore:
    return DynamoDBStore(tables.app, "alice", client=boto3.client("dynamodb"), clock=clock)


def _keys(items: list[Any]) -> list[str]:
    return [item.key for item in items]


def _raw(tables: Tables, owner: str, namespace: tuple[str, ...], key: str) -> dict[str, Any]:
    out = boto3.client("dynamodb").get_item(
        TableName=tables.app, Key=schema.kv_key(owner, namespace, key), ConsistentRead=True
    )
    item: dict[str, Any] = out.get("Item", {})
    return item


async def test_search_lists_newest_updated_first(store: DynamoDBStore) -> None:
    for key in ("first", "second", "third"):
        await store.aput(("notes",), key, {"k": key})
    await store.aput(("notes",), "first", {"k": "first", "edited": True})

    assert _keys(await store.asearch(("notes",))) == ["first", "third", "second"]
    assert _keys(await store.asearch(("notes",), limit=2, offset=1)) == ["third", "second"]


async def test_an_update_keeps_created_at_and_moves_updated_at(store: DynamoDBStore) -> None:
    await store.aput(("p",), "k", {"v": 1})
    before = await store.aget(("p",), "k")
    await store.aput(("p",), "k", {"v": 2})
    after = await store.aget(("p",), "k")

    assert isinstance(before, Item) and isinstance(after, Item)
    assert after.value == {"v": 2}
    assert after.created_at == before.created_at
    assert after.updated_at > before.updated_at


async def test_an_emptied_namespace_is_no_longer_listed(store: DynamoDBStore) -> None:
    await store.aput(("gone", "soon"), "k", {"v": 1})
    await store.aput(("kept",), "k", {"v": 1})
    await store.adelete(("gone", "soon"), "k")

    assert await store.alist_namespaces() == [("kept",)]


async def test_an_expired_item_reads_as_gone_at_once(
    store: DynamoDBStore, clock: Clock, tables: Tables
) -> None:
    await store.aput(("short",), "k", {"v": 1}, ttl=10)
    await store.aput(("short",), "forever", {"v": 2})
    raw = _raw(tables, "alice", ("short",), "k")
    # DynamoDB's own TTL deletes it later: the table's TTL attribute holds the expiry.
    assert float(raw[schema.TTL_ATTRIBUTE]["N"]) == clock.now + 600
    assert schema.TTL_ATTRIBUTE not in _raw(tables, "alice", ("short",), "forever")

    clock.advance(11)

    assert await store.aget(("short",), "k") is None
    assert _keys(await store.asearch(("short",))) == ["forever"]
    assert _raw(tables, "alice", ("short",), "k")  # still there: gone for readers only
    await store.adelete(("short",), "forever")
    assert await store.alist_namespaces() == []


async def test_reads_refresh_the_ttl_unless_told_not_to(
    store: DynamoDBStore, clock: Clock
) -> None:
    await store.aput(("t",), "got", {"v": 1}, ttl=10)
    await store.aput(("t",), "searched", {"v": 2}, ttl=10)
    await store.aput(("t",), "peeked", {"v": 3}, ttl=10)

    clock.advance(8)
    assert await store.aget(("t",), "got") is not None
    assert _keys(await store.asearch(("t",), filter={"v": 2})) == ["searched"]
    assert await store.aget(("t",), "peeked", refresh_ttl=False) is not None
    clock.advance(8)  # 16 minutes after the puts, 8 after the reads

    assert await store.aget(("t",), "got", refresh_ttl=False) is not None
    assert await store.aget(("t",), "searched", refresh_ttl=False) is not None
    assert await store.aget(("t",), "peeked") is None


async def test_a_put_without_ttl_takes_the_configured_default(
    tables: Tables, clock: Clock
) -> None:
    store = DynamoDBStore(
        tables.app, "alice", client=boto3.client("dynamodb"), clock=clock,
        ttl={"default_ttl": 5, "refresh_on_read": False},
    )
    await store.aput(("d",), "k", {"v": 1})
    clock.advance(4)
    assert await store.aget(("d",), "k") is not None  # read, but no refresh by default
    clock.advance(2)
    assert await store.aget(("d",), "k") is None


async def test_a_put_without_ttl_clears_an_earlier_one(store: DynamoDBStore, clock: Clock) -> None:
    await store.aput(("c",), "k", {"v": 1}, ttl=1)
    await store.aput(("c",), "k", {"v": 2})
    clock.advance(60 * 24)
    item = await store.aget(("c",), "k")
    assert item is not None and item.value == {"v": 2}


async def test_each_user_has_a_store_of_their_own(store: DynamoDBStore) -> None:
    bob = store.for_owner("bob")
    await store.aput(("memories",), "secret", {"text": "banana"})
    await bob.aput(("memories",), "secret", {"text": "bob's own"})
    await store.aput(("alice-only",), "k", {"v": 1})

    bob_item = await bob.aget(("memories",), "secret")
    assert bob_item is not None and bob_item.value == {"text": "bob's own"}
    assert [i.value for i in await bob.asearch(())] == [{"text": "bob's own"}]
    assert await bob.alist_namespaces() == [("memories",)]
    await bob.adelete(("alice-only",), "k")
    assert await store.aget(("alice-only",), "k") is not None
    alice_item = store.get(("memories",), "secret")  # the sync face reads the same partition
    assert alice_item is not None and alice_item.value == {"text": "banana"}


async def test_what_the_store_refuses(store: DynamoDBStore) -> None:
    with pytest.raises(InvalidInput, match="no vector index"):
        await store.asearch(("a",), query="what does alice like?")
    with pytest.raises(InvalidInput, match="Unsupported filter operator"):
        await store.asearch(("a",), filter={"n": {"$regex": "x"}})
    with pytest.raises(InvalidInput, match="needs a number"):
        await store.asearch(("a",), filter={"n": {"$gt": "3"}})
    with pytest.raises(InvalidInput, match="under"):
        await store.aput(("a",), "k" * 1100, {"v": 1})
    assert await store.alist_namespaces() == []


async def test_filters_and_and_missing_fields(store: DynamoDBStore) -> None:
    await store.aput(("f",), "scored", {"owner": "alice", "score": 5})
    await store.aput(("f",), "unscored", {"owner": "alice"})
    await store.aput(("f",), "other", {"owner": "carol", "score": 9})

    assert _keys(await store.asearch(("f",), filter={"score": {"$gte": 0}})) == [
        "other", "scored",
    ]
    both = {"$and": [{"score": {"$gt": 1}}, {"owner": "alice"}]}
    assert _keys(await store.asearch(("f",), filter=both)) == ["scored"]
