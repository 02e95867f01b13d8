"""infra/smoke_observe.py on botocore Stubber answers: what it prints and when it fails."""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.deploy.template import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "infra"))
from smoke_observe import ObservabilityChecks, ObservabilityError, stack_traces

RUN = "1f0c-run"
SINCE = 1_764_000_000.0


def emf(values: dict[str, float], **properties: str) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "lg",
                        "Dimensions": [[]],
                        "Metrics": [{"Name": n, "Unit": "Count"} for n in values],
                    }
                ],
            },
            "run_id": RUN,
            **properties,
            **{name: [value] for name, value in values.items()},
        }
    )


def client(service: str) -> Any:
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


class Clock:
    def __init__(self) -> None:
        self.now = SINCE + 5

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def checks(tracing: bool, clock: Clock) -> tuple[ObservabilityChecks, list[Stubber]]:
    logs, cloudwatch, xray = client("logs"), client("cloudwatch"), client("xray")
    observe = ObservabilityChecks(
        logs, cloudwatch, xray, "lg", tracing=tracing, wait=30, interval=10,
        sleep=clock.sleep, clock=clock,
    )  # fmt: skip
    return observe, [Stubber(logs), Stubber(cloudwatch), Stubber(xray)]


def log_answer(*messages: str) -> dict[str, Any]:
    return {"events": [{"message": m, "timestamp": 1} for m in messages]}


LOG_QUERY = {
    "logGroupName": "/aws/lambda/lg-worker",
    "startTime": int(SINCE * 1000),
    "filterPattern": f'{{ $.run_id = "{RUN}" }}',
}


def test_prints_the_runs_metrics_and_finds_metric_and_trace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = Clock()
    observe, (logs, cloudwatch, xray) = checks(True, clock)
    logs.add_response("filter_log_events", log_answer(), LOG_QUERY)  # not there yet: polls
    ended = emf({"RunsEnded": 1}, status="success")
    timing = emf({"TimeToFirstToken": 412.5, "RunErrors": 0})
    logs.add_response("filter_log_events", log_answer("START RequestId", ended, timing), LOG_QUERY)
    cloudwatch.add_response(
        "list_metrics",
        {"Metrics": [{"Namespace": "lg", "MetricName": "RunsEnded"}]},
        {"Namespace": "lg", "MetricName": "RunsEnded"},
    )
    xray.add_response(
        "get_trace_summaries",
        {"TraceSummaries": [{"Id": "1-abc"}]},
        {"StartTime": ANY, "EndTime": ANY, "FilterExpression": f'annotation.run_id = "{RUN}"'},
    )
    with logs, cloudwatch, xray:
        summary = observe.check(RUN, SINCE)
    assert summary == "3 metrics, in CloudWatch; trace in X-Ray"
    out = capsys.readouterr().out
    assert f"run {RUN} metrics: RunErrors=0, RunsEnded=1, TimeToFirstToken=412.5" in out
    for stub in (logs, cloudwatch, xray):
        stub.assert_no_pending_responses()


def test_a_metric_that_never_arrives_fails_after_the_wait() -> None:
    clock = Clock()
    observe, (logs, cloudwatch, xray) = checks(False, clock)
    logs.add_response("filter_log_events", log_answer(emf({"RunsEnded": 1})), LOG_QUERY)
    for _ in range(4):  # at 0, 10, 20 and 30 s of the 30 s wait
        cloudwatch.add_response("list_metrics", {"Metrics": []})
    with logs, cloudwatch, xray, pytest.raises(ObservabilityError, match="within 30 s"):
        observe.check(RUN, SINCE)
    cloudwatch.assert_no_pending_responses()


def test_tracing_comes_from_the_stacks_parameter() -> None:
    cloudformation = client("cloudformation")
    stub = Stubber(cloudformation)
    stack = {"StackName": "lg", "CreationTime": "2026-01-01T00:00:00Z", "StackStatus": "CREATE_COMPLETE"}  # noqa: E501
    stub.add_response(
        "describe_stacks",
        {"Stacks": [{**stack, "Parameters": [{"ParameterKey": "Tracing", "ParameterValue": "Active"}]}]},  # noqa: E501
    )
    stub.add_response("describe_stacks", {"Stacks": [stack]})
    with stub:
        assert stack_traces(cloudformation, "lg") is True
        assert stack_traces(cloudformation, "lg") is False
