"""LangGraph's filter language on thread metadata: what a handler's filter lets through."""

from __future__ import annotations

from typing import Any

import pytest

from lambdagraph.store.filters import InvalidFilter, matches

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
