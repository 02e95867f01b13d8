"""``agent.getTree``'s fold of a run's lifecycle frames, against LangGraph Server's answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambdagraph.engine.agent_tree import latest_run_tree

# Captured from `langgraph dev` (see "_source" in the file): the frames of one run of the
# compat graph `nested` and the tree its agent.getTree answered after the run.
REFERENCE = json.loads((Path(__file__).parent / "agent_tree_nested.json").read_text())


def lifecycle(namespace: list[str], event: str, graph_name: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"event": event}
    if graph_name is not None:
        data["graph_name"] = graph_name
    params = {"namespace": namespace, "data": data}
    return {"type": "event", "method": "lifecycle", "params": params}


def test_the_tree_of_a_finished_run_is_the_reference_servers() -> None:
    assert latest_run_tree(REFERENCE["frames"]) == REFERENCE["tree"]


def test_only_the_latest_run_counts() -> None:
    earlier = [lifecycle([], "running", "agent"), lifecycle(["tools:1"], "started", "tools"),
               lifecycle([], "interrupted", "agent")]
    later = [lifecycle([], "running", "agent")]
    assert latest_run_tree(earlier + later) == {
        "namespace": [], "status": "running", "graph_name": "agent"
    }


def test_a_running_run_shows_open_namespaces_and_fills_missing_parents() -> None:
    frames = [
        lifecycle([], "running", "outer"),
        lifecycle(["a:1"], "started", "a"),
        lifecycle(["a:1", "b:2"], "started"),  # no graph name: the segment's name
        lifecycle(["c:3", "d:4"], "failed", "d"),  # a parent never announced
    ]
    assert latest_run_tree(frames) == {
        "namespace": [], "status": "running", "graph_name": "outer",
        "children": [
            {"namespace": ["a:1"], "status": "started", "graph_name": "a", "children": [
                {"namespace": ["a:1", "b:2"], "status": "started", "graph_name": "b"},
            ]},
            {"namespace": ["c:3"], "status": "started", "graph_name": "c", "children": [
                {"namespace": ["c:3", "d:4"], "status": "failed", "graph_name": "d"},
            ]},
        ],
    }


def test_a_later_status_keeps_the_announced_graph_name() -> None:
    frames = [lifecycle([], "running", "g"), lifecycle(["x:1"], "started", "worker"),
              lifecycle(["x:1"], "completed")]
    [child] = latest_run_tree(frames)["children"]  # type: ignore[index]
    assert child == {"namespace": ["x:1"], "status": "completed", "graph_name": "worker"}


def test_no_run_started_is_none_and_other_frames_are_ignored() -> None:
    values = {"type": "event", "method": "values", "params": {"namespace": [], "data": {}}}
    assert latest_run_tree([]) is None
    assert latest_run_tree([values, lifecycle(["a:1"], "started", "a")]) is None
    assert latest_run_tree([{"method": "lifecycle", "params": "garbage"}, values]) is None
