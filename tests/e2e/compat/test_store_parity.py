"""The Store API side by side with ``langgraph dev``: the same requests, the same answers.

One script of requests runs against our local stack and against ``langgraph dev`` (from its
own virtualenv, started offline as the benchmarks start it). Statuses must be equal, and so
must success bodies once the servers' own timestamps are dropped; search results are
compared as sets (we list newest-updated first, the in-memory store in insertion order).
Where we answer differently on purpose (a semantic ``query``; a filter operator LangGraph
fails on with a 500) the script does not go; ``test_store.py`` covers those.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

Request = tuple[str, str, dict[str, Any]]

def _script(prefix: str) -> list[Request]:
    a, ab = [prefix, "a"], [prefix, "a", "b"]
    return [
        ("PUT", "/store/items", {"json": {"namespace": a, "key": "k1", "value": {"x": 1}}}),
        ("PUT", "/store/items", {"json": {"namespace": ab, "key": "k2", "value": {"x": 2}}}),
        ("PUT", "/store/items", {"json": {"namespace": [prefix], "key": "k.3",
                                          "value": {"x": 3, "tags": ["t"], "m": {"n": None}}}}),
        ("PUT", "/store/items", {"json": {"namespace": a, "key": "k1", "value": {"x": 10}}}),
        ("GET", "/store/items", {"params": {"namespace": f"{prefix}.a", "key": "k1"}}),
        ("GET", "/store/items", {"params": {"namespace": f"{prefix}.a", "key": "nope"}}),
        ("GET", "/store/items", {"params": {"namespace": prefix, "key": "k.3"}}),
        ("POST", "/store/items/search", {"json": {"namespace_prefix": [prefix]}}),
        ("POST", "/store/items/search", {"json": {"namespace_prefix": a}}),
        ("POST", "/store/items/search", {"json": {"namespace_prefix": [prefix],
                                                  "filter": {"x": {"$gte": 3}}}}),
        ("POST", "/store/items/search", {"json": {"namespace_prefix": [prefix],
                                                  "filter": {"tags": ["t"]}}}),
        # Pages whose content does not depend on the order (3 items in all).
        ("POST", "/store/items/search", {"json": {"namespace_prefix": [prefix], "limit": 3}}),
        ("POST", "/store/items/search", {"json": {"namespace_prefix": [prefix], "offset": 3}}),
        ("POST", "/store/items/search", {"json": {"namespace_prefix": [f"{prefix}-none"]}}),
        ("POST", "/store/namespaces", {"json": {"prefix": [prefix]}}),
        ("POST", "/store/namespaces", {"json": {"prefix": [prefix], "max_depth": 2}}),
        ("POST", "/store/namespaces", {"json": {"prefix": [prefix, "*"], "suffix": ["b"]}}),
        ("POST", "/store/namespaces", {"json": {"prefix": [prefix], "limit": 1, "offset": 1}}),
        ("DELETE", "/store/items", {"json": {"namespace": a, "key": "k1"}}),
        ("GET", "/store/items", {"params": {"namespace": f"{prefix}.a", "key": "k1"}}),
        ("DELETE", "/store/items", {"json": {"namespace": a, "key": "never"}}),
        ("DELETE", "/store/items", {"json": {"key": "never"}}),
        # Bad input: the status (bodies differ in form: LangGraph sends some as plain text).
        ("PUT", "/store/items", {"json": {"namespace": ["x.y"], "key": "k", "value": {}}}),
        ("PUT", "/store/items", {"json": {"namespace": [prefix, ""], "key": "k", "value": {}}}),
        ("PUT", "/store/items", {"json": {"namespace": [], "key": "k", "value": {}}}),
        ("PUT", "/store/items", {"json": {"namespace": ["langgraph"], "key": "k", "value": {}}}),
        ("PUT", "/store/items", {"json": {"namespace": a, "key": "k", "value": [1]}}),
        ("PUT", "/store/items", {"json": {"namespace": a, "key": "k", "value": "text"}}),
        ("PUT", "/store/items", {"json": {"namespace": a, "key": "k"}}),
        ("GET", "/store/items", {"params": {"namespace": prefix}}),
        ("GET", "/store/items", {"params": {"key": "k1"}}),
        ("GET", "/store/items", {"params": {"namespace": f"{prefix}..a", "key": "k1"}}),
        ("DELETE", "/store/items", {"json": {"namespace": a}}),
        ("POST", "/store/namespaces", {"json": {"prefix": ["x.y"]}}),
    ]


def _comparable(answer: httpx.Response) -> tuple[int, Any]:
    if answer.status_code >= 300 or not answer.content:
        return answer.status_code, None
    body = answer.json()
    if isinstance(body, dict) and "items" in body:
        return answer.status_code, sorted((_item(i) for i in body["items"]), key=repr)
    return answer.status_code, None if body is None else (
        _item(body) if "key" in body else body
    )


def _item(item: dict[str, Any]) -> tuple[Any, ...]:
    return item["namespace"], item["key"], item["value"], item.get("score")


def _run(url: str, script: list[Request], headers: dict[str, str]) -> list[tuple[int, Any]]:
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        return [_comparable(http.request(method, path, **kw)) for method, path, kw in script]


def test_the_store_api_answers_as_langgraph_dev(
    lambdagraph_url: str, langgraph_dev_url: str
) -> None:
    script = _script(f"p{uuid.uuid4().hex[:8]}")

    theirs = _run(langgraph_dev_url, script, {})
    ours = _run(lambdagraph_url, script, {})

    for request, mine, reference in zip(script, ours, theirs, strict=True):
        assert mine == reference, request
