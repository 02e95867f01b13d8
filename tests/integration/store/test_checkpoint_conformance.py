"""The official conformance suite, on every saver variant we ship, through both faces."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import ALL_CAPABILITIES

from lambdagraph.store.checkpoint import AsyncDynamoDBSaver
from tests.conftest import Tables
from tests.integration.store.conftest import VARIANTS, SyncFace, saver_kwargs

# Every variant through the async face (what LangGraph's async loop and the suite call), and
# the plain one through the sync face too: both faces run the same plans, only the driver
# differs, so one sync run covers the sync driver.
CASES = [(variant, "async") for variant in VARIANTS] + [("plain", "sync")]


@pytest.mark.parametrize(("variant", "face"), CASES)
async def test_conformance(tables: Tables, variant: str, face: str) -> None:
    cls = AsyncDynamoDBSaver if face == "async" else SyncFace

    @checkpointer_test(name=f"DynamoDBSaver-{variant}-{face}")
    async def factory() -> AsyncIterator[BaseCheckpointSaver[str]]:
        yield cls(tables.checkpoints, **saver_kwargs(variant, tables))

    report = await validate(factory)
    detected = {name for name, result in report.results.items() if result.detected}
    assert detected == {c.value for c in ALL_CAPABILITIES}  # every base and extended one
    failures = {name: r.failures for name, r in report.results.items() if r.passed is not True}
    assert not failures, failures
    assert report.passed_all()
