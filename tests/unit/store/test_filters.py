"""LangGraph's filter language on thread metadata: what a handler's filter lets through."""

from __future__ import annotations

from typing import Any

import pytest

from lambdagraph.store.filters import InvalidFilter, contains, matches

METADATA = {"owner": "alice", "tags": ["a", "b"], "team": "red"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (None, True),
        ({}, True),
        ({"owner": "alice"}, True),
        ({"owner": "bob"}, False),
        ({"missing": "x"}, False),
        ({"owner": {"$eq": "alice"}}, True),
        ({"owner": {"$eq": "bob"}}, False),
        ({"tags": {"$contains": "a"}}, True),
        ({"tags": {"$contains": "z"}}, False),
        ({"tags": {"$contains": ["b", "a"]}}, True),
        ({"tags": {"$contains": ["a", "z"]}}, False),
        ({"owner": {"$contains": "alice"}}, False),  # not a list
        ({"owner": "alice", "team": "blue"}, False),  # AND
        ({"$or": [{"owner": "bob"}, {"team": "red"}]}, True),
        ({"$or": [{"owner": "bob"}, {"team": "blue"}]}, False),
        ({"$and": [{"owner": "alice"}, {"tags": {"$contains": "b"}}]}, True),
        ({"$or": [{"owner": "bob"}, {"team": "red"}], "owner": "bob"}, False),
    ],
)
def test_matches(filters: dict[str, Any] | None, expected: bool) -> None:
    assert matches(METADATA, filters) is expected


@pytest.mark.parametrize(
    "filters",
    [
        {"owner": {"$regex": "a.*"}},
        {"$or": [{"owner": "alice"}]},
        {"$and": "owner"},
        {"$or": [{"$or": [{"$or": [{"a": 1}, {"b": 2}]}, {"c": 3}]}, {"d": 4}]},
    ],
    ids=["unknown-operator", "or-of-one", "and-not-a-list", "too-deep"],
)
def test_a_malformed_filter_refuses_rather_than_widens(filters: dict[str, Any]) -> None:
    with pytest.raises(InvalidFilter):
        matches(METADATA, filters)


@pytest.mark.parametrize(
    ("metadata", "wanted", "expected"),
    [
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": {"x": 1, "y": 2}}, {"a": {"x": 1}}, True),  # nested objects: containment
        ({"a": {"x": 1}}, {"a": {"x": 1, "y": 2}}, False),
        ({"t": ["p", "q"]}, {"t": ["q"]}, True),  # lists: every wanted element is held
        ({"t": ["p"]}, {"t": ["p", "q"]}, False),
        ({"t": "p"}, {"t": ["p"]}, False),
        ({"a": None}, {"a": None}, True),
        ({}, {"a": None}, False),  # a missing key is not a null one
        ({"a": 1}, None, True),
    ],
)
def test_search_metadata_means_containment(
    metadata: dict[str, Any], wanted: dict[str, Any] | None, expected: bool
) -> None:
    assert contains(metadata, wanted) is expected
