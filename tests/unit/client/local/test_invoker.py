"""The local invoker: Lambda-like context, timeouts from template.yaml, background runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from lambdagraph.errors import ConfigurationError
from lambdagraph_client.local.invoker import LocalContext, LocalInvoker
from lambdagraph_client.local.template import function_timeout

TEMPLATE = """
Globals:
  Function:
    Timeout: 30
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties: {Timeout: 900, Handler: app.handler}
  Api:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.handler}
  Table:
    Type: AWS::DynamoDB::Table
"""


def test_function_timeout_comes_from_the_function_then_globals(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    assert function_timeout("Worker", path) == 900
    assert function_timeout("Api", path) == 30
    with pytest.raises(ConfigurationError):
        function_timeout("Table", path)


def test_the_repository_template_declares_the_worker() -> None:
    assert function_timeout("WorkerFunction") >= 60


def test_context_counts_down_from_the_timeout() -> None:
    context = LocalContext("WorkerFunction", timeout_seconds=5)
    assert 0 < context.get_remaining_time_in_millis() <= 5_000
    assert LocalContext("f", timeout_seconds=0).get_remaining_time_in_millis() == 0
    assert context.aws_request_id != LocalContext("f", 1).aws_request_id


async def test_a_sync_handler_runs_in_its_own_thread_with_a_context() -> None:
    seen: list[tuple[dict[str, Any], int, str]] = []
    main = threading.get_ident()

    def handler(event: dict[str, Any], context: LocalContext) -> None:
        assert threading.get_ident() != main
        seen.append((event, context.get_remaining_time_in_millis(), context.function_name))

    invoker = LocalInvoker(handler, timeout_seconds=7)
    await invoker.invoke({"kind": "run", "owner": "o", "thread_id": "t", "run_id": "r"})
    await invoker.wait_idle(10)
    assert seen[0][0]["run_id"] == "r" and 0 < seen[0][1] <= 7_000
    assert seen[0][2] == "WorkerFunction"


async def test_an_async_handler_runs_as_a_task_and_failures_are_contained() -> None:
    calls: list[str] = []

    async def handler(event: dict[str, Any], context: LocalContext) -> None:
        calls.append(event["run_id"])
        if event["run_id"] == "bad":
            raise RuntimeError("boom")

    invoker = LocalInvoker(handler, timeout_seconds=3)
    for run_id in ("a", "bad", "b"):
        await invoker.invoke({"kind": "run", "owner": "o", "thread_id": "t", "run_id": run_id})
    await invoker.wait_idle(10)
    assert sorted(calls) == ["a", "b", "bad"]
