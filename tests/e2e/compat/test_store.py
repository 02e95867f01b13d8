"""The Store API through ``langgraph-sdk``: put, get, search, namespaces, delete, bad values."""

from __future__ import annotations

import uuid

import httpx
import pytest
from langgraph_sdk.client import SyncLangGraphClient


@pytest.fixture
def space() -> list[str]:
    """A namespace of this test's own on the shared server."""
    return ["compat", uuid.uuid4().hex]


def test_put_get_delete(sdk: SyncLangGraphClient, space: list[str]) -> None:
    value = {"title": "hello", "tags": ["a", "b"], "score": 42}
    sdk.store.put_item(space, "k1", value)
    item = sdk.store.get_item(space, "k1")
    assert item["key"] == "k1"
    assert item["value"] == value
    assert item["namespace"] == space
    sdk.store.delete_item(space, "k1")
    # LangGraph Server (0.16.7) answers a missing item with 200 and null, not 404.
    assert sdk.store.get_item(space, "k1") is None


def test_put_answers_204(http: httpx.Client, space: list[str]) -> None:
    response = http.put("/store/items", json={"namespace": space, "key": "k", "value": {"a": 1}})
    assert response.status_code == 204


def test_put_replaces_the_value(sdk: SyncLangGraphClient, space: list[str]) -> None:
    sdk.store.put_item(space, "k", {"v": 1})
    sdk.store.put_item(space, "k", {"v": 2})
    assert sdk.store.get_item(space, "k")["value"] == {"v": 2}


def test_search_by_prefix_filter_and_pages(sdk: SyncLangGraphClient, space: list[str]) -> None:
    for n in range(3):
        sdk.store.put_item(
            [*space, "docs"], f"d{n}", {"n": n, "kind": "even" if n % 2 == 0 else "odd"}
        )
    found = sdk.store.search_items(space, limit=10)["items"]
    assert sorted(i["key"] for i in found) == ["d0", "d1", "d2"]
    even = sdk.store.search_items(space, filter={"kind": "even"})["items"]
    assert sorted(i["key"] for i in even) == ["d0", "d2"]
    pages = [sdk.store.search_items(space, limit=2, offset=o)["items"] for o in (0, 2)]
    assert [len(p) for p in pages] == [2, 1]
    assert len({i["key"] for p in pages for i in p}) == 3


def test_list_namespaces(sdk: SyncLangGraphClient, space: list[str]) -> None:
    sdk.store.put_item([*space, "a", "x"], "k", {"v": 1})
    sdk.store.put_item([*space, "b"], "k", {"v": 1})
    listed = sdk.store.list_namespaces(prefix=space)["namespaces"]
    assert sorted(listed) == [[*space, "a", "x"], [*space, "b"]]
    shallow = sdk.store.list_namespaces(prefix=space, max_depth=3)["namespaces"]
    assert sorted(shallow) == [[*space, "a"], [*space, "b"]]


@pytest.mark.parametrize("value", [[1, 2, 3], 42, "text", None])
def test_values_must_be_objects(http: httpx.Client, space: list[str], value: object) -> None:
    response = http.put("/store/items", json={"namespace": space, "key": "k", "value": value})
    assert response.status_code == 422
    after = http.get("/store/items", params={"namespace": ".".join(space), "key": "k"})
    assert (after.status_code, after.json()) == (200, None)  # nothing was written


@pytest.mark.parametrize("label", ["has.dot", ""])
def test_bad_namespace_labels_are_422(http: httpx.Client, label: str) -> None:
    response = http.put(
        "/store/items", json={"namespace": ["compat", label], "key": "k", "value": {}}
    )
    assert response.status_code == 422
