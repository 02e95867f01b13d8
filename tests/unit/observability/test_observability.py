"""The EMF emitter, the AWS call counts, the run meter's arithmetic, and tracing that costs
nothing when off."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from lambdagraph import aws, observability
from lambdagraph.observability import RunContextFilter, RunMeter, bind_run, unbind
from lambdagraph.observability.emf import MetricsEmitter

RUN: dict[str, Any] = {
    "run_id": "r1", "thread_id": "t1", "owner": "alice", "metadata": {}, "kwargs": {},
}  # fmt: skip


@pytest.fixture
def lines() -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def take(line: str) -> None:
        seen.append(json.loads(line))

    emitter = observability.metrics()
    emitter.listeners.append(take)
    yield seen
    emitter.listeners.remove(take)


def test_stdout_gets_one_emf_line_unless_powertools_disables_metrics(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    emitter = MetricsEmitter("ns", "lambdagraph-worker", stdout=True)
    emitter.emit({"RunsStarted": (1, "Count")}, {}, {"transport": "websocket"})
    (line,) = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    assert document["_aws"]["CloudWatchMetrics"][0] == {
        "Namespace": "ns",
        "Dimensions": [[], ["transport"]],
        "Metrics": [{"Name": "RunsStarted", "Unit": "Count"}],
    }
    assert document["service"] == "lambdagraph-worker" and document["RunsStarted"] == [1.0]
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    emitter.emit({"RunsStarted": (1, "Count")})
    assert capsys.readouterr().out == ""


def test_counts_add_up_until_one_flush(lines: list[dict[str, Any]]) -> None:
    emitter = observability.metrics()
    for _ in range(250):  # e.g. posts: counted, not one line each
        emitter.count("WebSocketPosts")
    emitter.count("WorkerRetries")
    assert lines == []
    emitter.flush()
    (document,) = lines
    assert document["WebSocketPosts"] == [250.0] and document["WorkerRetries"] == [1.0]
    emitter.flush()
    assert len(lines) == 1  # nothing new: nothing written


def dynamodb() -> Any:
    made = aws.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return made


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def test_throttled_dynamodb_attempts_are_counted_even_when_a_retry_succeeds(
    lines: list[dict[str, Any]],
) -> None:
    client = dynamodb()
    throttled = b'{"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException"}'
    answers = [(400, throttled), (400, throttled), (200, b'{"Item": {}}')]

    def send(request: Any, **_: Any) -> AWSResponse:
        # botocore's own hook for a transport: the answer as if DynamoDB had sent it.
        status, body = answers.pop(0)
        return AWSResponse(request.url, status, {}, _Body(body))

    client.meta.events.register("before-send.dynamodb.GetItem", send)
    client.get_item(TableName="t", Key={"PK": {"S": "a"}})  # third attempt succeeds
    observability.metrics().flush()
    assert lines[-1]["DynamoDBThrottles"] == [2.0]


def test_websocket_posts_and_gone_clients_are_counted(lines: list[dict[str, Any]]) -> None:
    client = aws.client(
        "apigatewaymanagementapi",
        endpoint_url="https://example.execute-api.us-east-1.amazonaws.com/ws",
        region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
    )  # fmt: skip
    stub = Stubber(client)
    stub.add_response("post_to_connection", {})
    stub.add_response("post_to_connection", {})
    stub.add_client_error("post_to_connection", "GoneException", http_status_code=410)
    with stub:
        client.post_to_connection(ConnectionId="c1", Data=b"{}")
        client.post_to_connection(ConnectionId="c1", Data=b"{}")
        with pytest.raises(client.exceptions.GoneException):
            client.post_to_connection(ConnectionId="c1", Data=b"{}")
    observability.metrics().flush()
    assert lines[-1]["WebSocketPosts"] == [2.0] and lines[-1]["WebSocketGone"] == [1.0]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_run_meter_arithmetic(lines: list[dict[str, Any]]) -> None:
    clock, wall = Clock(), Clock()
    wall.now = 1_764_000_000.0
    meter = RunMeter({**RUN, "metadata": {"transport": "websocket"}}, clock=clock, wall=wall)
    meter.started()
    clock.now += 0.25
    meter.token()
    clock.now += 2.0
    meter.token()  # later tokens change nothing
    meter.cancel_seen({"updated_at": "2025-11-24T16:00:00+00:00"})  # = wall.now
    wall.now += 0.3
    meter.ended("interrupted", {"output_tokens": 100, "cost_usd": 0.0021}, interrupts=1)
    started, ended, timing = lines
    assert started["RunsStarted"] == [1.0] and started["transport"] == "websocket"
    assert ended["RunsEnded"] == [1.0] and ended["status"] == "interrupted"
    assert ended["run_id"] == "r1" and ended["thread_id"] == "t1"
    assert timing["TimeToFirstToken"] == [250.0]
    assert timing["TokensPerSecond"] == [50.0]  # 100 tokens over the 2 s after the first
    assert timing["RunDuration"] == [2250.0] and timing["RunErrors"] == [0.0]
    assert timing["CancelToStop"][0] == pytest.approx(300.0)
    assert timing["Interrupts"] == [1.0] and timing["CostUSD"] == [0.0021]


def test_a_continuation_is_not_a_new_run_and_an_error_counts(lines: list[dict[str, Any]]) -> None:
    meter = RunMeter({**RUN, "kwargs": {"protocol": "v2"}}, continued=True)
    meter.started()
    meter.ended("error")
    ended, timing = lines
    assert ended["transport"] == "agent-protocol"
    assert timing["RunErrors"] == [1.0] and "TimeToFirstToken" not in timing


def test_bound_run_ids_reach_records_of_any_logger() -> None:
    record = logging.LogRecord("lambdagraph.store.x", logging.INFO, "", 0, "hi", (), None)
    token = bind_run(RUN)
    try:
        RunContextFilter().filter(record)
    finally:
        unbind(token)
    assert (record.run_id, record.thread_id, record.user_id) == ("r1", "t1", "alice")  # type: ignore[attr-defined]
    later = logging.LogRecord("lambdagraph.store.x", logging.INFO, "", 0, "hi", (), None)
    RunContextFilter().filter(later)
    assert not hasattr(later, "run_id")


def test_tracing_off_loads_nothing_of_xray() -> None:
    code = (
        "import sys, lambdagraph.engine.executor, lambdagraph.entry, lambdagraph.wiring;"
        "from lambdagraph import aws;"
        "aws.client('dynamodb', region_name='us-east-1');"
        "print([m for m in sys.modules if m.startswith('aws_xray_sdk')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


_TRACED_CALL = """
from botocore.stub import Stubber
from lambdagraph import aws
client = aws.client("dynamodb", region_name="us-east-1")  # built before tracing is on
from lambdagraph.observability import tracing
tracing.enable("test")
from aws_xray_sdk.core import xray_recorder
sent = []
class Collect:
    def send_entity(self, entity): sent.append(entity.to_dict())
    def set_daemon_address(self, address): pass
xray_recorder.emitter = Collect()
with Stubber(client) as stub:
    stub.add_response("get_item", {}, {"TableName": "t", "Key": {"PK": {"S": "x"}}})
    client.get_item(TableName="t", Key={"PK": {"S": "x"}})
print([(e["name"], e.get("aws", {}).get("operation")) for e in sent])
"""


def test_tracing_on_in_lambda_makes_each_aws_call_a_subsegment() -> None:
    # As the Lambda runtime sets it: a task root and the invocation's trace header.
    env = {
        **os.environ,
        "LAMBDA_TASK_ROOT": "/var/task",
        "AWS_LAMBDA_FUNCTION_NAME": "stream",
        "_X_AMZN_TRACE_ID": (
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        ),
    }
    out = subprocess.run(
        [sys.executable, "-c", _TRACED_CALL], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[('dynamodb', 'GetItem')]"
