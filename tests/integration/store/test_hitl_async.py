"""Human-in-the-loop across invocations (async twin of ``test_hitl.py``)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import boto3
import pytest
from langgraph.checkpoint.memory import InMemorySaver

from lambdagraph.store.checkpoint import AsyncDynamoDBSaver
from tests.conftest import Tables
from tests.integration.store._hitl_scenarios import SCENARIO_NAMES, comparable, scenario
from tests.integration.store.conftest import saver_kwargs
from tests.integration.store.test_hitl import EXPECTED_RUNS


async def run_script(name: str, make_saver: Any) -> tuple[list[Any], Counter[str]]:
    """Run a scenario's script, one ``ainvoke`` per step, each on ``make_saver()``."""
    case = scenario(name)
    config = {"configurable": {"thread_id": f"{name}-{uuid.uuid4()}"}}
    outputs: list[Any] = []
    previous: Any = None
    for step in case.script:
        graph = case.build(make_saver(), case.runs)
        previous = await graph.ainvoke(step(previous), config, durability="sync")
        outputs.append(comparable(previous))
    return outputs, case.runs


# "offload" puts every checkpoint and write in S3: the same scripts through the S3 path.
@pytest.mark.parametrize("variant", ["plain", "offload"])
@pytest.mark.parametrize("name", SCENARIO_NAMES)
async def test_resume_on_fresh_saver_matches_in_memory(
    tables: Tables, name: str, variant: str
) -> None:
    memory = InMemorySaver()
    expected, expected_runs = await run_script(name, lambda: memory)

    def fresh() -> AsyncDynamoDBSaver:
        return AsyncDynamoDBSaver(
            tables.checkpoints,
            client=boto3.client("dynamodb"),
            s3_client=boto3.client("s3"),
            **saver_kwargs(variant, tables),
        )

    outputs, runs = await run_script(name, fresh)

    assert outputs == expected
    assert runs == expected_runs == EXPECTED_RUNS[name]
    assert "__interrupt__" not in outputs[-1]
