"""Threads and their state through ``langgraph-sdk``: CRUD, search, copy, state updates."""

from __future__ import annotations

import uuid
from typing import Any, cast

from langgraph_sdk.client import SyncLangGraphClient
from langgraph_sdk.schema import Checkpoint

from tests.e2e.compat.checks import EMAIL, default_id, refused, user_message


def at(checkpoint_id: str | None) -> Checkpoint:
    """The ``checkpoint`` argument naming one checkpoint (the SDK's TypedDict wants every key)."""
    return cast(Checkpoint, {"checkpoint_id": checkpoint_id})


def test_create_then_get(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    made = sdk.threads.create(metadata=tag)
    got = sdk.threads.get(made["thread_id"])
    assert got["thread_id"] == made["thread_id"]
    assert got["status"] == "idle"
    assert got["metadata"] == tag


def test_create_with_a_taken_id(sdk: SyncLangGraphClient) -> None:
    tid = str(uuid.uuid4())
    sdk.threads.create(thread_id=tid, metadata={"first": True})
    again = sdk.threads.create(thread_id=tid, if_exists="do_nothing")
    assert again["metadata"] == {"first": True}
    assert refused(lambda: sdk.threads.create(thread_id=tid, if_exists="raise")) == 409


def test_unknown_and_deleted_threads_are_404(sdk: SyncLangGraphClient) -> None:
    assert refused(lambda: sdk.threads.get(str(uuid.uuid4()))) == 404
    tid = sdk.threads.create()["thread_id"]
    sdk.threads.delete(tid)
    assert refused(lambda: sdk.threads.get(tid)) == 404
    assert refused(lambda: sdk.threads.delete(tid)) == 404


def test_update_merges_metadata(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create(metadata={"a": 1, "b": 1})["thread_id"]
    updated = sdk.threads.update(tid, metadata={"b": 2, "c": 3})
    assert updated["metadata"] == {"a": 1, "b": 2, "c": 3}
    assert sdk.threads.get(tid)["metadata"] == {"a": 1, "b": 2, "c": 3}


def test_update_of_an_unknown_thread_is_404(sdk: SyncLangGraphClient) -> None:
    assert refused(lambda: sdk.threads.update(str(uuid.uuid4()), metadata={"a": 1})) == 404


def test_search_by_metadata_and_count(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    made = [sdk.threads.create(metadata=tag)["thread_id"] for _ in range(3)]
    found = sdk.threads.search(metadata=tag)
    assert [t["thread_id"] for t in found] == made[::-1]  # newest first by default
    assert sdk.threads.count(metadata=tag) == 3
    assert sdk.threads.count(metadata=tag, status="busy") == 0


def test_search_sort_order(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    made = [sdk.threads.create(metadata=tag)["thread_id"] for _ in range(3)]
    oldest_first = sdk.threads.search(metadata=tag, sort_by="created_at", sort_order="asc")
    assert [t["thread_id"] for t in oldest_first] == made
    by_id = sdk.threads.search(metadata=tag, sort_by="thread_id", sort_order="desc")
    assert [t["thread_id"] for t in by_id] == sorted(made, reverse=True)


def test_search_pages(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    made = [sdk.threads.create(metadata=tag)["thread_id"] for _ in range(3)]
    first = sdk.threads.search(metadata=tag, limit=2)
    rest = sdk.threads.search(metadata=tag, limit=2, offset=2)
    assert [t["thread_id"] for t in first + rest] == made[::-1]


def test_search_select_returns_only_those_fields(
    sdk: SyncLangGraphClient, tag: dict[str, str]
) -> None:
    tid = sdk.threads.create(metadata=tag)["thread_id"]
    found = sdk.threads.search(metadata=tag, select=["thread_id", "metadata"])
    assert [dict(t) for t in found] == [{"thread_id": tid, "metadata": tag}]


def test_state_after_a_run(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    sdk.runs.wait(tid, "nested", input={"trail": []})
    state = sdk.threads.get_state(tid)
    assert state["values"] == {"trail": ["start:-", "step"]}
    assert state["next"] == []
    assert state["checkpoint"]["thread_id"] == tid


def test_history_newest_first(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    sdk.runs.wait(tid, "nested", input={"trail": []})
    history = sdk.threads.get_history(tid)
    steps = [(h["metadata"] or {})["step"] for h in history]
    assert steps == sorted(steps, reverse=True)
    assert history[0]["values"] == {"trail": ["start:-", "step"]}
    assert len(sdk.threads.get_history(tid, limit=2)) == 2


def test_get_state_at_an_earlier_checkpoint(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    sdk.runs.wait(tid, "nested", input={"trail": []})
    earlier = next(h for h in sdk.threads.get_history(tid) if h["next"] == ["inner"])
    checkpoint_id = earlier["checkpoint"]["checkpoint_id"]
    state = sdk.threads.get_state(tid, checkpoint_id=checkpoint_id)
    assert state["values"] == {"trail": ["start:-"]}
    assert state["next"] == ["inner"]
    by_checkpoint = sdk.threads.get_state(tid, checkpoint=at(checkpoint_id))
    assert by_checkpoint["values"] == {"trail": ["start:-"]}


def test_update_state_values(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    sdk.runs.wait(tid, "nested", input={"trail": []})
    answer = sdk.threads.update_state(tid, {"trail": ["edited"]})
    assert answer["checkpoint"]["checkpoint_id"]
    state = sdk.threads.get_state(tid)
    assert state["values"] == {"trail": ["edited"]}
    assert state["checkpoint"]["checkpoint_id"] == answer["checkpoint"]["checkpoint_id"]


def test_update_state_as_node_sets_what_runs_next(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    sdk.runs.wait(tid, "nested", input={"trail": []})
    sdk.threads.update_state(tid, {"trail": ["by hand"]}, as_node="start")
    state = sdk.threads.get_state(tid)
    assert state["next"] == ["inner"]
    sdk.runs.wait(tid, "nested", input=None)
    assert sdk.threads.get_state(tid)["values"] == {"trail": ["by hand", "step"]}


def test_update_state_from_an_earlier_checkpoint_forks(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    sdk.runs.wait(tid, "nested", input={"trail": []})
    earlier = next(h for h in sdk.threads.get_history(tid) if h["next"] == ["inner"])
    sdk.threads.update_state(
        tid,
        {"trail": ["fork"]},
        checkpoint=at(earlier["checkpoint"]["checkpoint_id"]),
    )
    state = sdk.threads.get_state(tid)
    # Forked from the checkpoint before ``inner``: the update stands in for ``start``'s.
    assert state["values"] == {"trail": ["fork"]}
    assert state["next"] == ["inner"]
    sdk.runs.wait(tid, "nested", input=None)
    assert sdk.threads.get_state(tid)["values"] == {"trail": ["fork", "step"]}


def test_update_state_of_an_unknown_thread_is_404(sdk: SyncLangGraphClient) -> None:
    assert refused(lambda: sdk.threads.update_state(str(uuid.uuid4()), {"trail": []})) == 404


def test_copy_keeps_the_state_under_a_new_id(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create(metadata={"origin": "yes"})["thread_id"]
    sdk.runs.wait(tid, "nested", input={"trail": []})
    # The SDK declares None; the server answers the new thread.
    copy = cast(dict[str, Any], sdk.threads.copy(tid))
    assert copy["thread_id"] != tid
    assert sdk.threads.get_state(copy["thread_id"])["values"] == {"trail": ["start:-", "step"]}
    assert (sdk.threads.get(copy["thread_id"])["metadata"] or {})["origin"] == "yes"


def test_copy_of_an_unknown_thread_is_409(sdk: SyncLangGraphClient) -> None:
    # Checked with langgraph-api 0.16.7: 409 {"detail": "Conflict"}, not 404.
    assert refused(lambda: sdk.threads.copy(str(uuid.uuid4()))) == 409


def test_interrupted_thread_shows_the_interrupt(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    sdk.runs.wait(tid, "agent", input=user_message(EMAIL))
    assert sdk.threads.get(tid)["status"] == "interrupted"
    state = sdk.threads.get_state(tid)
    assert state["next"] == ["tools"]
    [interrupt] = state["tasks"][0]["interrupts"]
    assert interrupt["value"]["action"] == "send_email"


def test_search_and_count_by_status(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    done = sdk.threads.create(metadata=tag)["thread_id"]
    sdk.runs.wait(done, "nested", input={"trail": []})
    waiting = sdk.threads.create(metadata=tag)["thread_id"]
    sdk.runs.wait(waiting, "agent", input=user_message(EMAIL))
    found = sdk.threads.search(metadata=tag, status="interrupted")
    assert [t["thread_id"] for t in found] == [waiting]
    assert sdk.threads.count(metadata=tag, status="idle") == 1


def test_a_run_stamps_the_thread_with_its_graph_and_assistant(
    sdk: SyncLangGraphClient, tag: dict[str, str]
) -> None:
    # Agent Chat UI lists a graph's threads by searching this metadata.
    tid = sdk.threads.create(metadata=tag)["thread_id"]
    sdk.runs.wait(tid, "nested", input={"trail": []})
    stamped = {**tag, "graph_id": "nested", "assistant_id": default_id("nested")}
    assert sdk.threads.get(tid)["metadata"] == stamped
    found = sdk.threads.search(metadata={**tag, "graph_id": "nested"})
    assert [t["thread_id"] for t in found] == [tid]
