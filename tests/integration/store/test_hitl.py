"""Human-in-the-loop across invocations (sync): each step on a fresh saver and boto3 client,
matching what ``InMemorySaver`` yields for the same script."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import boto3
import pytest
from langgraph.checkpoint.memory import InMemorySaver

from lambdagraph.store.checkpoint import DynamoDBSaver
from tests.conftest import Tables
from tests.integration.store._hitl_scenarios import SCENARIO_NAMES, comparable, scenario

# Executions per node over the whole script; the same for InMemorySaver and ours.
EXPECTED_RUNS = {
    "simple": Counter(),
    "subgraph": Counter({"prep": 1, "ask": 2, "finish": 1, "done": 1}),
    # the finished sibling ("quick") must not run again when the interrupted ones resume
    "parallel": Counter({"left": 2, "right": 2, "quick": 1, "join": 1}),
    "in_a_row": Counter({"twice": 3, "once": 2}),
}


def run_script(name: str, make_saver: Any) -> tuple[list[Any], Counter[str]]:
    """Run a scenario's script, one invocation per step, each on ``make_saver()``."""
    case = scenario(name)
    config = {"configurable": {"thread_id": f"{name}-{uuid.uuid4()}"}}
    outputs: list[Any] = []
    previous: Any = None
    for step in case.script:
        graph = case.build(make_saver(), case.runs)
        previous = graph.invoke(step(previous), config, durability="sync")
        outputs.append(comparable(previous))
    return outputs, case.runs


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_resume_on_fresh_saver_matches_in_memory(tables: Tables, name: str) -> None:
    memory = InMemorySaver()
    expected, expected_runs = run_script(name, lambda: memory)

    def fresh() -> DynamoDBSaver:
        return DynamoDBSaver(tables.checkpoints, client=boto3.client("dynamodb"))

    outputs, runs = run_script(name, fresh)

    assert outputs == expected
    assert runs == expected_runs == EXPECTED_RUNS[name]
    assert "__interrupt__" not in outputs[-1]  # every script ends with a finished graph
