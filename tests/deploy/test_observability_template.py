"""The template's operations side: log retention, the dashboard of the metrics the code
emits, the alarms, tracing behind a parameter, LangSmith's variables passed through."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.deploy.template import deployed, document, functions, resolve, resolved_environment

#: Every metric name the package writes (observability.runs, .aws_calls, engine.durable).
EMITTED = {
    "RunsStarted", "RunsEnded", "RunErrors", "TimeToFirstToken", "TokensPerSecond",
    "CancelToStop", "Interrupts", "Resumes", "Continuations", "WorkerRetries",
    "RunsRecovered", "DynamoDBThrottles", "WebSocketPosts", "WebSocketGone", "CostUSD",
}  # fmt: skip


def resources(kind: str, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        name: body["Properties"]
        for name, body in deployed(parameters)["Resources"].items()
        if body["Type"] == kind
    }


def dashboard_body() -> Any:
    (dashboard,) = resources("AWS::CloudWatch::Dashboard").values()
    return json.loads(resolve(dashboard["DashboardBody"]))


def test_every_function_logs_to_a_group_with_the_retention_parameter() -> None:
    groups = resources("AWS::Logs::LogGroup")
    named = {resolve(g["LogGroupName"]) for g in groups.values()}
    assert named == {f"/aws/lambda/lg-{name}" for name in functions()}
    assert all(g["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in groups.values())
    assert document()["Parameters"]["LogRetentionDays"]["Default"] == 30


def test_the_dashboard_charts_every_metric_the_code_emits() -> None:
    body = dashboard_body()
    charted: set[str] = set()
    for widget in body["widgets"]:
        for row in widget["properties"]["metrics"]:
            if isinstance(row[0], dict):  # a SEARCH expression
                charted |= set(re.findall(r'MetricName="(\w+)"', row[0]["expression"]))
            else:
                assert row[0] in ("lg", "AWS/SQS")  # the stack's namespace
                charted.add(row[1])
    assert charted >= EMITTED
    assert "ApproximateNumberOfMessagesVisible" in charted


def test_alarms_watch_the_dead_letter_queue_errors_throttles_and_first_token() -> None:
    alarms = resources("AWS::CloudWatch::Alarm")
    by_metric = {a["MetricName"]: a for a in alarms.values()}
    assert set(by_metric) == {
        "ApproximateNumberOfMessagesVisible", "RunErrors", "DynamoDBThrottles",
        "TimeToFirstToken",
    }  # fmt: skip
    dlq = by_metric["ApproximateNumberOfMessagesVisible"]
    assert dlq["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["WorkerDeadLetterQueue", "QueueName"]}
    assert dlq["Threshold"] == 1
    assert by_metric["RunErrors"]["Statistic"] == "Average"
    assert by_metric["TimeToFirstToken"]["ExtendedStatistic"] == "p95"
    assert by_metric["TimeToFirstToken"]["Threshold"] == {"Ref": "FirstTokenP95ThresholdMs"}
    ours = [a for a in alarms.values() if a["Namespace"] != "AWS/SQS"]
    assert all(a["Namespace"] == {"Ref": "AWS::StackName"} for a in ours)
    assert all("AlarmActions" not in a for a in alarms.values())  # no topic by default
    topic = "arn:aws:sns:us-east-1:123456789012:oncall"
    with_topic = resources("AWS::CloudWatch::Alarm", {"AlarmTopicArn": topic})
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopicArn"}] for a in with_topic.values())


def test_tracing_is_off_by_default_and_active_with_its_parameter() -> None:
    off = resources("AWS::Lambda::Function")
    assert all(f["TracingConfig"]["Mode"] == "PassThrough" for f in off.values())
    assert resolved_environment("WorkerFunction")["LAMBDAGRAPH_TRACING"] == "false"
    on = resources("AWS::Lambda::Function", {"Tracing": "Active"})
    assert all(f["TracingConfig"]["Mode"] == "Active" for f in on.values())
    env = resolved_environment("WorkerFunction", {"Tracing": "Active"})
    assert env["LAMBDAGRAPH_TRACING"] == "true"
    roles = resources("AWS::IAM::Role", {"Tracing": "Active"})
    worker_role = next(r for n, r in roles.items() if n.startswith("WorkerFunction"))
    assert any("AWSXrayWriteOnlyAccess" in str(p) for p in worker_role["ManagedPolicyArns"])


def test_metrics_namespace_is_the_stack_and_langsmith_passes_through() -> None:
    env = resolved_environment("StreamFunction")
    assert env["LAMBDAGRAPH_METRICS_NAMESPACE"] == "lg"
    assert env["LANGSMITH_TRACING"] == "false"
    fn = resources("AWS::Lambda::Function")
    stream = next(f for n, f in fn.items() if n == "StreamFunction")
    assert "LANGSMITH_API_KEY" not in stream["Environment"]["Variables"]  # empty: unset
    on = resources(
        "AWS::Lambda::Function",
        {"LangSmithTracing": "true", "LangSmithApiKey": "lsv2-key", "LangSmithProject": "p"},
    )
    variables = on["StreamFunction"]["Environment"]["Variables"]
    assert variables["LANGSMITH_TRACING"] == {"Ref": "LangSmithTracing"}
    assert variables["LANGSMITH_API_KEY"] == {"Ref": "LangSmithApiKey"}
    assert variables["LANGSMITH_PROJECT"] == {"Ref": "LangSmithProject"}
    assert "LANGSMITH_ENDPOINT" not in variables
    assert document()["Parameters"]["LangSmithApiKey"]["NoEcho"] is True
