"""What a team watching lambdagraph sees of real runs on the local stack: the EMF lines the
runs write (what CloudWatch makes metrics of), the run ids on every log line, and the
Prometheus text of ``GET /metrics``."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from langgraph_sdk.client import SyncLangGraphClient

from lambdagraph.observability import RunContextFilter, metrics
from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import eventually, user_message

QUESTION = "weather in Paris"


@pytest.fixture
def emf_lines() -> Iterator[list[str]]:
    """Every EMF line the process writes while the test runs."""
    lines: list[str] = []
    metrics().listeners.append(lines.append)
    yield lines
    metrics().listeners.remove(lines.append)


def documents(lines: list[str], run_id: str | None = None) -> list[dict[str, Any]]:
    """The EMF documents among ``lines`` (of one run, if given)."""
    parsed = [json.loads(line) for line in lines]
    return [d for d in parsed if run_id is None or d.get("run_id") == run_id]


def published(document: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(metric names, dimension sets) of an EMF document."""
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    return [m["Name"] for m in directive["Metrics"]], directive["Dimensions"]


def test_a_run_writes_the_emf_metrics_a_dashboard_charts(
    stack: LocalStack, sync_client: SyncLangGraphClient, emf_lines: list[str]
) -> None:
    thread = sync_client.threads.create()
    chunks = list(
        sync_client.runs.stream(
            thread["thread_id"], "agent", input=user_message(QUESTION), stream_mode="messages"
        )
    )
    run_id = chunks[0].data["run_id"]
    ours = documents(emf_lines, run_id)
    assert all(d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "lambdagraph" for d in ours)

    ended = next(d for d in ours if "RunsEnded" in d)
    names, sets = published(ended)
    assert names == ["RunsEnded"] and ended["RunsEnded"] == [1.0]
    assert sets == [["status"], ["status", "transport"]]
    assert ended["status"] == "success" and ended["transport"] == "http"
    assert ended["thread_id"] == thread["thread_id"]  # a log property, not a dimension

    timing = next(d for d in ours if "TimeToFirstToken" in d)
    names, sets = published(timing)
    assert {"TimeToFirstToken", "TokensPerSecond", "RunDuration", "RunErrors"} <= set(names)
    assert sets == [[], ["transport"]]  # the alarm's series, and one per transport
    (first_token,) = timing["TimeToFirstToken"]
    (duration,) = timing["RunDuration"]
    assert 0 < first_token <= duration
    assert timing["RunErrors"] == [0.0] and timing["TokensPerSecond"][0] > 0
    units = {m["Name"]: m["Unit"] for m in timing["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units["TimeToFirstToken"] == "Milliseconds"

    started = [d for d in documents(emf_lines) if "RunsStarted" in d]
    assert any(d["transport"] == "http" for d in started)

    # The cost metric is the run record's cost (the scripted model has a pseudo price).
    run = sync_client.runs.get(thread["thread_id"], run_id)
    assert timing["CostUSD"] == [pytest.approx(run["usage"]["cost_usd"])]
    assert run["usage"]["cost_usd"] > 0


def test_an_interrupted_run_and_its_resume_are_counted(
    stack: LocalStack, sync_client: SyncLangGraphClient, emf_lines: list[str]
) -> None:
    thread = sync_client.threads.create()
    first = sync_client.runs.create(
        thread["thread_id"], "agent", input=user_message("send an email to bob@example.com")
    )
    sync_client.runs.join(thread["thread_id"], first["run_id"])
    timing = next(d for d in documents(emf_lines, first["run_id"]) if "Interrupts" in d)
    assert timing["Interrupts"] == [1.0]

    resumed = sync_client.runs.create(thread["thread_id"], "agent", command={"resume": "yes"})
    sync_client.runs.join(thread["thread_id"], resumed["run_id"])
    assert any(d.get("Resumes") == [1.0] for d in documents(emf_lines))


async def test_a_websocket_run_counts_its_posts(stack: LocalStack, emf_lines: list[str]) -> None:
    async with websockets.connect(f"{stack.ws_url}?token=alice") as socket:
        await socket.send(
            json.dumps(
                {
                    "action": "run",
                    "request_id": "r1",
                    "assistant_id": "agent",
                    "input": user_message(QUESTION),
                }
            )
        )
        while json.loads(await socket.recv())["type"] != "run.ended":
            pass

    def posts() -> float:
        return sum(sum(d.get("WebSocketPosts", [])) for d in documents(emf_lines))

    async def counted() -> bool:
        return posts() >= 3  # run.accepted (ws function), events, run.ended (worker)

    await eventually(counted, "the WebSocket posts to be counted")
    ended = next(d for d in documents(emf_lines) if "RunsEnded" in d)
    assert ended["transport"] == "websocket"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The package's log lines as the deployed functions write them (Powertools' JSON with
    the run context filter), for the length of the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LambdaPowertoolsFormatter())
    handler.addFilter(RunContextFilter())
    package = logging.getLogger("lambdagraph")
    level = package.level
    package.addHandler(handler)
    package.setLevel(logging.INFO)
    yield stream
    package.removeHandler(handler)
    package.setLevel(level)


def test_every_log_line_of_a_run_names_it_and_holds_no_message_content(
    stack: LocalStack, sync_client: SyncLangGraphClient, json_log: io.StringIO
) -> None:
    thread = sync_client.threads.create()
    result = sync_client.runs.wait(thread["thread_id"], "agent", input=user_message(QUESTION))
    answer = result["messages"][-1]["content"]  # type: ignore[index, call-overload]
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    run_lines = [line for line in lines if line.get("thread_id") == thread["thread_id"]]
    assert {"Run started", "Run ended: success (thread idle)"} <= {
        line["message"] for line in run_lines
    }
    for line in run_lines:
        assert line["run_id"] and line["user_id"] == "alice"
    text = json_log.getvalue()
    assert QUESTION not in text and answer and answer not in text


_SAMPLE = re.compile(r'^[a-z_:][a-z0-9_:]*(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.]+(e[+-]?[0-9]+)?$')


def test_metrics_serves_prometheus_text(
    stack: LocalStack, sync_client: SyncLangGraphClient
) -> None:
    thread = sync_client.threads.create()
    sync_client.runs.wait(thread["thread_id"], "agent", input=user_message(QUESTION))
    answer = httpx.get(f"{stack.url}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in answer.text.splitlines():
        if line.startswith("# TYPE "):
            assert line.split()[3] in ("counter", "summary")
            continue
        assert _SAMPLE.match(line), line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    assert samples['lambdagraph_runs_ended_total{status="success"}'] >= 1
    assert samples["lambdagraph_time_to_first_token_ms_count"] >= 1
    assert samples["lambdagraph_time_to_first_token_ms_sum"] > 0
    assert httpx.post(f"{stack.url}/metrics").status_code == 405
    assert "/metrics" not in httpx.get(f"{stack.url}/openapi.json").json()["paths"]
