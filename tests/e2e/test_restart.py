"""Nothing lives in memory: a thread interrupted under one server resumes under the next."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

import pytest
from langgraph_sdk import get_client, get_sync_client

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import running_stack
from tests.conftest import Tables
from tests.e2e.conftest import TokenIsUser, auth, stack_settings, user_message


async def test_a_restarted_server_on_the_same_dynamodb_resumes_the_interrupt(
    tables: Tables,
) -> None:
    settings = stack_settings(tables)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as first:
        client = get_client(url=first.url, headers=auth("alice"))
        thread = await client.threads.create()
        paused: dict[str, Any] = await client.runs.wait(  # type: ignore[assignment]
            thread["thread_id"], "agent", input=user_message("send an email to c@d.e")
        )
    with running_stack(settings=settings, authenticator=TokenIsUser()) as second:
        client = get_client(url=second.url, headers=auth("alice"))
        before = await client.threads.get(thread["thread_id"])
        resumed: dict[str, Any] = await client.runs.wait(  # type: ignore[assignment]
            thread["thread_id"], "agent", command={"resume": {"approved": True}}
        )
        runs = await client.runs.list(thread["thread_id"])

    assert paused["__interrupt__"][0]["value"]["args"]["to"] == "c@d.e"
    assert before["status"] == "interrupted"
    assert resumed["messages"][-1]["content"] == "Email sent to c@d.e."
    # As in LangGraph Server, a run that paused at an interrupt succeeded; its thread waits.
    assert [run["status"] for run in runs] == ["success", "success"]
    assert second.created_tables == []


def test_lambdagraph_dynamodb_keeps_large_state_across_dev_restarts(
    tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from lambdagraph_client.cli import main; sys.exit(main())",
            "dynamodb",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        endpoint = banner.split()[1]
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        settings = Settings(app_table="lambdagraph-app", scripted_delay_ms=0)  # as `make dev`
        # 400 KB: the run's input goes to the bucket ("count to 3": a short answer, no echo)
        text = "count to 3. " + "a pasted report " * 25_000
        with running_stack(settings=settings, authenticator=TokenIsUser()) as first:
            client = get_sync_client(url=first.url, headers=auth("alice"))
            thread = client.threads.create()
            client.runs.wait(thread["thread_id"], "agent", input=user_message(text))
        with running_stack(settings=settings, authenticator=TokenIsUser()) as second:
            client = get_sync_client(url=second.url, headers=auth("alice"))
            runs = client.runs.list(thread["thread_id"])
            state = client.threads.get_state(thread["thread_id"])
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)

    assert "bucket: lambdagraph-checkpoints" in banner
    assert second.settings.checkpoint_bucket == "lambdagraph-checkpoints"
    assert runs[0]["kwargs"]["input"] == user_message(text)  # type: ignore[typeddict-item]
    values: dict[str, Any] = state["values"]  # type: ignore[assignment]
    assert values["messages"][0]["content"] == text
