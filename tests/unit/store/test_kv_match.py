"""Store search matching: LangGraph's filter rules and namespace match conditions."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.store.base import MatchCondition

from lambdagraph.errors import InvalidInput
from lambdagraph.store.kv.match import check_filter, matches_filter, namespace_matches

VALUE = {"kind": "note", "score": 7, "tags": ["a", "b"], "meta": {"lang": "en", "n": 1}}


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        (None, True),
        ({}, True),
        ({"kind": "note"}, True),
        ({"kind": "task"}, False),
        ({"score": 7, "kind": "note"}, True),
        ({"meta": {"lang": "en"}}, True),
        ({"meta": {"lang": "fr"}}, False),
        ({"tags": ["a", "b"]}, True),
        ({"tags": ["b", "a"]}, False),
        ({"tags": ["a"]}, False),
        ({"score": {"$gt": 6, "$lte": 7}}, True),
        ({"score": {"$lt": 7}}, False),
        ({"score": {"$gte": 7.0}}, True),
        ({"kind": {"$ne": "task"}}, True),
        ({"kind": {"$eq": "task"}}, False),
        ({"missing": {"$gt": 0}}, False),  # no number to compare: no match
        ({"kind": {"$gt": 0}}, False),
        ({"missing": None}, True),
        ({"$and": [{"kind": "note"}, {"score": {"$gt": 1}}]}, True),
        ({"$and": [{"kind": "note"}, {"score": {"$gt": 9}}]}, False),
    ],
)
def test_filters_compare_like_langgraph(filter: dict[str, Any] | None, expected: bool) -> None:
    check_filter(filter)
    assert matches_filter(VALUE, filter) is expected


@pytest.mark.parametrize(
    ("filter", "message"),
    [
        ([1], "must be an object"),
        ({"n": {"$regex": "x"}}, "Unsupported filter operator '\\$regex'"),
        ({"n": {"$gt": "3"}}, "needs a number"),
        ({"n": {"$lt": True}}, "needs a number"),
        ({"$and": {"n": 1}}, "takes a list"),
        ({"$and": [{"n": {"$in": [1]}}]}, "Unsupported filter operator"),
        ({"deep": {"er": {"$gte": None}}}, "needs a number"),
    ],
)
def test_filters_no_item_could_match_are_refused(filter: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_filter(filter)


@pytest.mark.parametrize(
    ("kind", "path", "namespace", "expected"),
    [
        ("prefix", ("a",), ("a", "b"), True),
        ("prefix", ("a", "b"), ("a",), False),
        ("prefix", ("*", "b"), ("x", "b", "c"), True),
        ("prefix", ("*", "c"), ("x", "b", "c"), False),
        ("suffix", ("c",), ("a", "b", "c"), True),
        ("suffix", ("*", "c"), ("a", "b", "c"), True),
        ("suffix", ("b",), ("a", "b", "c"), False),
        ("prefix", (), ("a",), True),
    ],
)
def test_namespace_conditions(
    kind: Any, path: tuple[str, ...], namespace: tuple[str, ...], expected: bool
) -> None:
    assert namespace_matches(MatchCondition(kind, path), namespace) is expected
