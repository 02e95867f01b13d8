"""A v2 run that spans several worker invocations: one stream, ``seq`` without a gap."""

from __future__ import annotations

import pytest

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack
from tests.conftest import Tables
from tests.e2e.conftest import short_lived_settings
from tests.e2e.test_agent_stream import command, frames_until_end

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def settings(tables: Tables) -> Settings:
    return short_lived_settings(tables)


def test_a_continued_run_streams_one_lifecycle_and_contiguous_seqs(stack: LocalStack) -> None:
    thread_id = "00000000-0000-4000-8000-" + "7" * 12
    params = {"assistant_id": "steps", "input": {"total": 20, "done": []}}
    assert command(stack.url, thread_id, "run.start", params)["type"] == "success"
    frames = frames_until_end(stack.url, thread_id)
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    lifecycle = [f["params"]["data"]["event"] for f in frames if f["method"] == "lifecycle"]
    assert lifecycle == ["running", "completed"]
    custom = [f["params"]["data"] for f in frames if f["method"] == "custom"]
    usage = [c for c in custom if c.get("name") == "lambdagraph.usage"]
    assert [c for c in custom if c not in usage] == [{"step": n} for n in range(20)]
    # One final usage report for the run, not one per invocation it took.
    assert [u["payload"].get("final") for u in usage] == [True]
    values = [f["params"]["data"] for f in frames if f["method"] == "values"]
    assert values[-1]["done"] == list(range(20))
