"""Durable runs end to end on the local stack with the real ``langgraph_sdk`` client:
background runs and joins, resumable streams, continuations past the deadline, cancel,
``on_disconnect`` and a worker that dies mid-run."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from lambdagraph.store.app import AppStore
from lambdagraph.store.events import EventLog
from lambdagraph.store.leases import RunLeases
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import (
    TokenIsUser,
    auth,
    eventually,
    short_lived_settings,
    stack_settings,
    user_message,
)
from tests.e2e.proxy import CuttingProxy


def _tokens(parts: list[Any]) -> list[str]:
    return [
        p.data[0]["content"] for p in parts if p.event == "messages" and p.data[0].get("content")
    ]


def _ids(parts: list[Any]) -> list[int]:
    return [int(p.id) for p in parts]


async def _collect(stream: Any) -> list[Any]:
    return [part async for part in stream]


async def test_background_run_joined_from_the_start_and_from_a_mid_run_id(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    run = await client.runs.create(
        thread["thread_id"],
        "agent",
        input=user_message("count to 40"),
        stream_mode=["messages-tuple", "values"],
    )
    assert run["status"] in ("pending", "running")
    everything = await _collect(
        client.runs.join_stream(thread["thread_id"], run["run_id"], last_event_id="-1")
    )
    assert everything[0].event == "metadata"
    assert _ids(everything) == list(range(len(everything)))
    assert "".join(_tokens(everything)).split() == [str(n) for n in range(1, 41)]
    assert everything[-1].event == "values"

    middle = everything[len(everything) // 2]
    rest = await _collect(
        client.runs.join_stream(thread["thread_id"], run["run_id"], last_event_id=middle.id)
    )
    assert [(p.id, p.event, p.data) for p in rest] == [
        (p.id, p.event, p.data) for p in everything[len(everything) // 2 + 1 :]
    ]
    only_values = await _collect(
        client.runs.join_stream(
            thread["thread_id"], run["run_id"], last_event_id="-1", stream_mode="values"
        )
    )
    assert {p.event for p in only_values} == {"metadata", "values"}
    assert (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] == "success"
    final = await client.runs.join(thread["thread_id"], run["run_id"])
    assert final["messages"][-1]["content"].split()[-1] == "40"


async def test_the_sdk_reconnects_after_a_cut_and_sees_every_event_once(stack: LocalStack) -> None:

    host, port = httpx.URL(stack.url).host, httpx.URL(stack.url).port
    async with CuttingProxy(host, port, cut_after=3_000) as proxy:
        client = get_client(url=proxy.url, headers=auth("alice"))
        thread = await client.threads.create()
        parts = await _collect(
            client.runs.stream(
                thread["thread_id"],
                "agent",
                input=user_message("count to 120"),
                stream_mode="messages-tuple",
                stream_resumable=True,
            )
        )
    assert proxy.cuts == 1
    assert _ids(parts) == list(range(len(parts)))
    assert "".join(_tokens(parts)).split() == [str(n) for n in range(1, 121)]
    assert [p.event for p in parts].count("metadata") == 1


@pytest.fixture
def short_lived_stack(tables: Tables) -> Iterator[LocalStack]:
    """A stack whose worker times out after 1 s and drains 0.6 s before that."""
    settings = short_lived_settings(tables)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


async def test_a_run_longer_than_the_function_timeout_continues_as_one_stream(
    short_lived_stack: LocalStack, tables: Tables
) -> None:
    client = get_client(url=short_lived_stack.url, headers=auth("alice"))
    thread = await client.threads.create()
    total = 20  # 20 steps of 0.12 s: 2.4 s of work, 2.4 times the 1 s function timeout
    run = await client.runs.create(
        thread["thread_id"],
        "steps",
        input={"total": total, "done": []},
        stream_mode=["custom", "values"],
    )
    parts = await _collect(
        client.runs.join_stream(thread["thread_id"], run["run_id"], last_event_id="-1")
    )
    assert _ids(parts) == list(range(len(parts)))
    assert [p.event for p in parts].count("metadata") == 1
    assert [p.data["step"] for p in parts if p.event == "custom"] == list(range(total))
    assert parts[-1].event == "values" and parts[-1].data["done"] == list(range(total))
    assert (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] == "success"
    lease = await RunLeases(tables.app).get(run["run_id"])
    assert lease is not None and lease["attempt"] >= 3, lease
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["done"] == list(range(total))


async def test_cancelling_a_background_run_ends_it_and_its_joins(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    run = await client.runs.create(
        thread["thread_id"],
        "agent",
        input=user_message("count to 100000"),
        stream_mode="messages-tuple",
    )
    seen: list[Any] = []
    async for part in client.runs.join_stream(
        thread["thread_id"], run["run_id"], last_event_id="-1"
    ):
        seen.append(part)
        if len(_tokens(seen)) == 20:
            await client.runs.cancel(thread["thread_id"], run["run_id"])
    assert len(_tokens(seen)) < 100_000
    assert (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] == "interrupted"
    assert (await client.threads.get(thread["thread_id"]))["status"] != "busy"


async def _open_and_drop(
    stack: LocalStack, thread_id: str, on_disconnect: str, count: int = 400
) -> str:
    """Start a resumable streamed run, read a few events, then hang up; returns the run id."""
    body = {
        "assistant_id": "agent",
        "input": user_message(f"count to {count}"),
        "stream_mode": ["messages-tuple"],
        "stream_resumable": True,
        "on_disconnect": on_disconnect,
    }
    async with (
        httpx.AsyncClient(base_url=stack.url, headers=auth("alice")) as http,
        http.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as response,
    ):
        assert response.status_code == 200
        run_id = response.headers["content-location"].rsplit("/", 1)[-1]
        frames = 0
        async for line in response.aiter_lines():
            frames += line.startswith("id: ")
            if frames == 10:
                break
    return run_id


async def test_on_disconnect_cancel_stops_the_run(
    stack: LocalStack, client: LangGraphClient
) -> None:
    thread = await client.threads.create()
    run_id = await _open_and_drop(stack, thread["thread_id"], "cancel", count=5_000)

    async def interrupted() -> bool:
        return (await client.runs.get(thread["thread_id"], run_id))["status"] == "interrupted"

    await eventually(interrupted, "the run to be cancelled")
    logged = await _collect(
        client.runs.join_stream(thread["thread_id"], run_id, last_event_id="-1")
    )
    assert 0 < len(_tokens(logged)) < 5_000


async def test_on_disconnect_continue_finishes_and_stays_joinable(
    stack: LocalStack, client: LangGraphClient
) -> None:
    thread = await client.threads.create()
    run_id = await _open_and_drop(stack, thread["thread_id"], "continue")
    parts = await _collect(client.runs.join_stream(thread["thread_id"], run_id, last_event_id="5"))
    assert _ids(parts)[0] == 6 and _ids(parts) == list(range(6, 6 + len(parts)))
    assert "".join(_tokens(parts)).split()[-1] == "400"
    assert (await client.runs.get(thread["thread_id"], run_id))["status"] == "success"


async def test_join_query_forms_and_bad_input(stack: LocalStack, client: LangGraphClient) -> None:
    thread = await client.threads.create()
    run = await client.runs.create(
        thread["thread_id"],
        "agent",
        input=user_message("count to 3"),
        stream_mode=["messages-tuple", "values", "updates"],
    )
    await client.runs.join(thread["thread_id"], run["run_id"])
    path = f"/threads/{thread['thread_id']}/runs/{run['run_id']}/stream"
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice")) as http:

        async def events(query: str, last: str = "-1") -> set[str]:
            response = await http.get(f"{path}{query}", headers={"Last-Event-ID": last})
            assert response.status_code == 200, response.text
            lines = response.text.splitlines()
            return {line[7:] for line in lines if line.startswith("event: ")}

        assert await events("?stream_mode=updates") == {"metadata", "updates"}
        assert await events('?stream_mode=["updates","values"]') == {
            "metadata",
            "updates",
            "values",
        }
        assert await events("?stream_mode=updates&stream_mode=messages-tuple") == {
            "metadata",
            "updates",
            "messages",
        }
        bad_mode = await http.get(f"{path}?stream_mode=nope", headers={"Last-Event-ID": "-1"})
        assert bad_mode.status_code == 422 and "nope" in bad_mode.text
        bad_id = await http.get(path, headers={"Last-Event-ID": "1700000000000-0"})
        assert bad_id.status_code == 422
        other_user = await http.get(path, headers={**auth("bob"), "Last-Event-ID": "-1"})
        assert other_user.status_code == 404


_WORKER_PROCESS = """
import importlib.util, json, sys
from lambdagraph_client.local.invoker import LocalContext
spec = importlib.util.spec_from_file_location("worker_app", sys.argv[1])
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
app.handler(json.loads(sys.argv[2]), LocalContext("WorkerFunction", 900))
"""


@pytest.fixture
def quick_lease_stack(tables: Tables) -> Iterator[LocalStack]:
    """A stack whose runs count as lost one second after their worker's last renewal."""
    settings = stack_settings(tables, run_lease_seconds=1.0)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


async def test_a_killed_worker_leaves_a_failed_run_not_a_running_one(
    quick_lease_stack: LocalStack, tables: Tables
) -> None:

    root = Path(__file__).resolve().parents[2]
    client = get_client(url=quick_lease_stack.url, headers=auth("alice"))
    thread = await client.threads.create()
    # Recorded as the background route does, but handed to a worker in another process.
    run = await AppStore(tables.app).create_run(
        "alice",
        thread_id=thread["thread_id"],
        assistant_id="agent",
        kwargs={"input": user_message("count to 100000"), "stream_mode": ["messages-tuple"]},
    )
    await RunLeases(tables.app).reserve(run["run_id"])
    payload = {
        "kind": "run",
        "owner": "alice",
        "thread_id": run["thread_id"],
        "run_id": run["run_id"],
    }
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "layers" / "lambdagraph"), str(root)]),
        "LAMBDAGRAPH_APP_TABLE": tables.app,
        "LAMBDAGRAPH_CHECKPOINT_TABLE": tables.checkpoints,
        "LAMBDAGRAPH_CHECKPOINT_BUCKET": tables.bucket,
        "LAMBDAGRAPH_WORKER_FUNCTION": "lambdagraph-worker",
        "LAMBDAGRAPH_RUN_LEASE_SECONDS": "1",
        "LAMBDAGRAPH_SCRIPTED_DELAY_MS": "2",
        "LAMBDAGRAPH_LOG_LEVEL": "WARNING",
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _WORKER_PROCESS,
        str(root / "functions" / "worker" / "app.py"),
        json.dumps(payload),
        env=env,
    )
    log = EventLog(tables.app)
    try:

        async def streaming() -> bool:
            assert worker.returncode is None, "the worker exited before it was killed"
            return await log.last_seq(run["run_id"]) >= 30

        await eventually(streaming, "the worker to log events")
    finally:
        worker.kill()
        await worker.wait()

    parts = await _collect(
        client.runs.join_stream(thread["thread_id"], run["run_id"], last_event_id="-1")
    )
    assert _ids(parts) == list(range(len(parts)))
    assert len(_tokens(parts)) >= 20
    assert parts[-1].event == "error" and parts[-1].data["error"] == "WorkerLost"
    assert (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] == "error"
    assert (await client.threads.get(thread["thread_id"]))["status"] == "error"
    # The thread is usable again: a new run starts and finishes.
    result = await client.runs.wait(thread["thread_id"], "agent", input=user_message("count to 3"))
    assert result["messages"][-1]["content"].split()[-1] == "3"


async def test_a_joiner_that_asked_to_cancel_on_disconnect_cancels_the_run(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    run = await client.runs.create(
        thread["thread_id"],
        "agent",
        input=user_message("count to 100000"),
        stream_mode="messages-tuple",
    )
    seen: list[Any] = []
    async for part in client.runs.join_stream(
        thread["thread_id"], run["run_id"], last_event_id="-1", cancel_on_disconnect=True
    ):
        seen.append(part)
        if len(_tokens(seen)) == 10:
            break

    async def interrupted() -> bool:
        return (await client.runs.get(thread["thread_id"], run["run_id"]))[
            "status"
        ] == "interrupted"

    await eventually(interrupted, "the joiner's disconnect to cancel the run")


async def test_joining_a_run_that_was_not_logged_ends_when_it_does_with_its_values(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    parts: list[Any] = []
    async for part in client.runs.stream(
        thread["thread_id"],
        "agent",
        input=user_message("count to 300"),
        stream_mode="messages-tuple",
    ):
        parts.append(part)
        if part.event == "metadata":
            run_id = part.data["run_id"]
            joined = await _collect(
                client.runs.join_stream(thread["thread_id"], run_id, last_event_id="-1")
            )
    # Nothing was logged to replay: the join ends with the run and hands over its outcome,
    # the thread's final values, instead of an empty body.
    assert [part.event for part in joined] == ["values"]
    assert joined[0].data["messages"][-1]["content"].split()[-1] == "300"
    assert "".join(_tokens(parts)).split()[-1] == "300"


async def test_a_streamed_run_near_the_http_deadline_moves_to_a_worker_and_the_sdk_follows(
    short_lived_stack: LocalStack, tables: Tables
) -> None:

    client = get_client(url=short_lived_stack.url, headers=auth("alice"))
    thread = await client.threads.create()
    total = 20
    # The serving invocation ends in 1 s (as the Lambda Web Adapter reports it); the stack
    # drains 0.6 s before that, so the worker has to take over.
    lambda_context = {"request_id": "r-1", "deadline": int(time.time() * 1000) + 1_000}
    parts = await _collect(
        client.runs.stream(
            thread["thread_id"],
            "steps",
            input={"total": total, "done": []},
            stream_mode=["custom"],
            stream_resumable=True,
            headers={"x-amzn-lambda-context": json.dumps(lambda_context)},
        )
    )
    assert _ids(parts) == list(range(len(parts)))
    assert [p.event for p in parts].count("metadata") == 1
    assert [p.data["step"] for p in parts if p.event == "custom"] == list(range(total))
    run_id = parts[0].data["run_id"]
    assert (await client.runs.get(thread["thread_id"], run_id))["status"] == "success"
    lease = await RunLeases(tables.app).get(run_id)
    assert lease is not None and lease["attempt"] >= 2 and lease["holder"] != "http"


async def test_join_waits_for_a_background_run_and_answers_its_values(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], "agent", input=user_message("count to 200"))
    values = await client.runs.join(thread["thread_id"], run["run_id"])
    assert values["messages"][-1]["content"].split()[-1] == "200"
    assert (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] == "success"
