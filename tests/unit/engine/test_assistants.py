"""The pure rules of assistants: ids, config/context sync, metadata containment, sort order,
and how an assistant's settings meet a run's (as LangGraph Server merges them)."""

from __future__ import annotations

import pytest

from lambdagraph.engine.assistants import (
    assistant_id,
    contains,
    run_settings,
    sort_assistants,
    synced,
    system_assistant,
)
from lambdagraph.errors import BadRequest
from lambdagraph.store.records import Assistant, RunKwargs


def test_default_assistant_ids_are_langgraph_servers() -> None:
    # The ids `langgraph dev` (langgraph-api 0.16.7) gave the graphs "reporter" and "nested".
    assert assistant_id("reporter") == "a5e8c33d-afdb-5056-a3e3-fe06cfe3e267"
    assert assistant_id("nested") == "0813419b-f0e6-579e-bdee-18d9fdf48632"
    assert system_assistant("agent")["metadata"] == {"created_by": "system"}


def test_configurable_and_context_mirror_each_other_but_not_both() -> None:
    mirrored = ({"tags": ["t"], "configurable": {"a": 1}}, {"a": 1})
    assert synced({"tags": ["t"]}, {"a": 1}) == mirrored
    assert synced({"configurable": {"a": 1}}, None) == ({"configurable": {"a": 1}}, {"a": 1})
    assert synced(None, None) == (None, None)
    with pytest.raises(BadRequest):
        synced({"configurable": {"a": 1}}, {"b": 2})


def test_metadata_containment_is_postgres_at_greater() -> None:
    metadata = {"a": 1, "nested": {"b": 2, "c": 3}, "list": [1, 2]}
    assert contains(metadata, {"nested": {"b": 2}})
    assert contains(metadata, {"a": 1, "list": [1, 2]})
    assert not contains(metadata, {"nested": {"b": 3}})
    assert not contains(metadata, {"missing": None})


def _named(*names: str) -> list[Assistant]:
    return [
        {**system_assistant(name), "created_at": f"2026-01-0{i + 1}"}
        for i, name in enumerate(names)
    ]


def test_sort_orders_as_langgraph() -> None:
    found = _named("beta", "Alpha", "gamma")
    assert [a["name"] for a in sort_assistants(found, None, None)] == ["gamma", "Alpha", "beta"]
    assert [a["name"] for a in sort_assistants(found, None, "asc")] == ["gamma", "Alpha", "beta"]
    assert [a["name"] for a in sort_assistants(found, "name", "asc")] == ["Alpha", "beta", "gamma"]
    assert [a["name"] for a in sort_assistants(found, "name", None)] == ["gamma", "beta", "Alpha"]
    assert [a["name"] for a in sort_assistants(found, "created_at", "asc")] == [
        "beta", "Alpha", "gamma"
    ]


def test_the_runs_settings_win_key_by_key() -> None:
    assistant: Assistant = {
        **system_assistant("agent"),
        "config": {"tags": ["a"], "recursion_limit": 5, "configurable": {"model": "m", "x": 1}},
        "context": {"tone": "dry", "language": "en"},
    }
    merged = run_settings(
        assistant,
        {"config": {"tags": ["r"], "configurable": {"x": 2}}, "context": {"language": "de"}},
    )
    assert merged["config"] == {
        "tags": ["r"], "recursion_limit": 5, "configurable": {"model": "m", "x": 2}
    }
    assert merged["context"] == {"tone": "dry", "language": "de"}
    # A default assistant adds nothing: the run's kwargs stay as they were.
    plain: RunKwargs = {"input": {}, "config": None, "context": None}
    assert run_settings(system_assistant("agent"), plain) == plain
