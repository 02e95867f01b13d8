"""Fencing: concurrent resumes of one checkpoint cannot fork a thread; explicit branches can."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypedDict

import boto3
import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from lambdagraph.errors import CheckpointConflict
from lambdagraph.store.checkpoint import DynamoDBSaver
from tests.conftest import Tables
from tests.integration.store._hitl_scenarios import comparable, scenario

DEADLINE = 30.0


class State(TypedDict):
    steps: list[str]


def _racing_graph(saver: DynamoDBSaver, barrier: threading.Barrier) -> Any:
    def approve(state: State) -> State:
        answer = interrupt("send?")
        barrier.wait(DEADLINE)  # both resumers loaded the same checkpoint before either saves
        return {"steps": [*state["steps"], f"approved:{answer}"]}

    builder = StateGraph(State)
    builder.add_node("approve", approve)
    builder.add_node("send", lambda s: {"steps": [*s["steps"], "sent"]})
    builder.add_edge(START, "approve")
    builder.add_edge("approve", "send")
    builder.add_edge("send", END)
    return builder.compile(checkpointer=saver)


def test_two_concurrent_resumes_one_wins_one_conflicts(tables: Tables) -> None:
    barrier = threading.Barrier(2)
    config = {"configurable": {"thread_id": f"race-{uuid.uuid4()}"}}

    def fresh() -> DynamoDBSaver:
        return DynamoDBSaver(tables.checkpoints, client=boto3.client("dynamodb"))

    _racing_graph(fresh(), barrier).invoke({"steps": []}, config)

    def resume(answer: str) -> Any:
        return _racing_graph(fresh(), barrier).invoke(Command(resume=answer), config)

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(resume, answer) for answer in ("A", "B")]
        outcomes = [f.exception(DEADLINE) or f.result() for f in futures]

    conflicts = [o for o in outcomes if isinstance(o, CheckpointConflict)]
    winners = [o for o in outcomes if isinstance(o, dict)]
    assert len(conflicts) == 1 and len(winners) == 1, outcomes
    assert conflicts[0].thread_id == config["configurable"]["thread_id"]
    # History is one line: every checkpoint has at most one child, and the thread's state is
    # exactly the winner's.
    saver = fresh()
    history = list(saver.list(config))
    parents = [t.parent_config["configurable"]["checkpoint_id"] for t in history if t.parent_config]
    assert len(parents) == len(set(parents))
    assert saver.get_tuple(config).checkpoint["channel_values"]["steps"] == winners[0]["steps"]  # type: ignore[union-attr]


def _put(
    saver: DynamoDBSaver, thread_id: str, parent: str | None, source: str, **metadata: str
) -> dict[str, Any]:
    configurable = {"thread_id": thread_id, "checkpoint_ns": ""}
    if parent:
        configurable["checkpoint_id"] = parent
    return saver.put(  # type: ignore[arg-type]
        {"configurable": configurable}, empty_checkpoint(), {"source": source, **metadata}, {}
    )


def _id(config: dict[str, Any]) -> str:
    return str(config["configurable"]["checkpoint_id"])


def test_fencing_rules_by_source(saver: DynamoDBSaver) -> None:
    root = _id(_put(saver, "rules", None, "input"))
    _put(saver, "rules", root, "loop")
    with pytest.raises(CheckpointConflict):
        _put(saver, "rules", root, "loop")
    with pytest.raises(CheckpointConflict):
        _put(saver, "rules", root, "input")
    _put(saver, "rules", root, "fork")  # time travel branches off an older checkpoint
    _put(saver, "rules", root, "update")  # update_state on an older checkpoint too

    edited = _id(_put(saver, "rules", None, "input"))
    _put(saver, "rules", edited, "update")  # an edit takes the free slot first...
    with pytest.raises(CheckpointConflict):
        _put(saver, "rules", edited, "loop")  # ...so a run racing it from there is fenced


def test_retrying_the_winning_put_is_not_a_conflict(saver: DynamoDBSaver) -> None:
    root = _id(_put(saver, "retry", None, "input"))
    config = {"configurable": {"thread_id": "retry", "checkpoint_ns": "", "checkpoint_id": root}}
    checkpoint = empty_checkpoint()
    saver.put(config, checkpoint, {"source": "loop"}, {})  # type: ignore[arg-type]
    saver.put(config, checkpoint, {"source": "loop"}, {})  # type: ignore[arg-type]


def test_fences_are_per_namespace(saver: DynamoDBSaver) -> None:
    root = _id(_put(saver, "ns", None, "input"))
    child = {"configurable": {"thread_id": "ns", "checkpoint_ns": "sub:1", "checkpoint_id": root}}
    saver.put(child, empty_checkpoint(), {"source": "loop"}, {})  # type: ignore[arg-type]
    _put(saver, "ns", root, "loop")  # the root namespace's slot is still free


def _travel(make_saver: Any, build: Any, first_input: Any) -> tuple[list[Any], Any]:
    """Finish a HITL script, replay from before the interrupting node, resume the branch."""
    config = {"configurable": {"thread_id": f"travel-{uuid.uuid4()}"}}
    runs: Counter[str] = Counter()
    outputs = [
        comparable(build(make_saver(), runs).invoke(first_input, config)),
        comparable(build(make_saver(), runs).invoke(Command(resume="yes"), config)),
    ]
    history = list(build(make_saver(), runs).get_state_history(config))
    old = next(s for s in history if s.next in (("approve",), ("sub",)))
    outputs.append(comparable(build(make_saver(), runs).invoke(None, old.config)))  # a fork
    outputs.append(comparable(build(make_saver(), runs).invoke(Command(resume="no"), config)))
    return outputs, old.config


@pytest.mark.parametrize("name", ["simple", "subgraph"])
def test_time_travel_replays_like_in_memory(tables: Tables, name: str) -> None:
    case = scenario(name)
    first_input = case.script[0](None)

    def fresh() -> DynamoDBSaver:
        return DynamoDBSaver(tables.checkpoints, client=boto3.client("dynamodb"))

    memory = InMemorySaver()
    expected, _ = _travel(lambda: memory, case.build, first_input)
    outputs, superseded = _travel(fresh, case.build, first_input)

    assert outputs == expected
    # Resuming an interrupt directly at a checkpoint the thread has moved past would branch
    # history silently (InMemorySaver lets it); we refuse it. Replay or update_state it.
    with pytest.raises(CheckpointConflict):
        case.build(fresh(), Counter()).invoke(Command(resume="late"), superseded)


def test_delete_for_runs_frees_only_the_slots_it_held(saver: DynamoDBSaver) -> None:
    def put(parent: str | None, source: str, run_id: str) -> str:
        return _id(_put(saver, "runs", parent, source, run_id=run_id))

    root = put(None, "input", "r0")
    kept, doomed = put(root, "loop", "r1"), put(root, "fork", "r2")
    saver.delete_for_runs(["r2"])  # a branch: root's slot still belongs to r1's checkpoint
    with pytest.raises(CheckpointConflict):
        put(root, "loop", "r3")
    saver.delete_for_runs(["r1"])  # now the slot is free again: the thread can advance
    put(root, "loop", "r4")
    assert kept != doomed


def test_of_many_racing_writers_exactly_one_wins(tables: Tables) -> None:
    savers = [DynamoDBSaver(tables.checkpoints, client=boto3.client("dynamodb")) for _ in range(8)]
    for round_ in range(5):
        thread_id = f"many-{round_}"
        root = _id(_put(savers[0], thread_id, None, "input"))
        start = threading.Barrier(len(savers))

        # Bound now: each round's writers race on that round's thread and barrier.
        def race(
            saver: DynamoDBSaver,
            start: threading.Barrier = start,
            thread_id: str = thread_id,
            root: str = root,
        ) -> str:
            start.wait(DEADLINE)
            try:
                _put(saver, thread_id, root, "loop")
            except CheckpointConflict:
                return "fenced"
            return "won"

        with ThreadPoolExecutor(len(savers)) as pool:
            outcomes = list(pool.map(race, savers))
        assert sorted(outcomes) == ["fenced"] * (len(savers) - 1) + ["won"]
