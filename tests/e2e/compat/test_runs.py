"""Runs through ``langgraph-sdk``: wait, stream, background, cancel, batch, delete, resume."""

from __future__ import annotations

import uuid
from typing import Any, cast

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from langgraph_sdk.schema import RunCreate

from tests.e2e.compat.checks import EMAIL, default_id, refused, until, user_message

# Long enough that a run is surely still going when the test cancels it.
NAP = {"seconds": 30.0}


def _last_text(values: object) -> str:
    assert isinstance(values, dict)
    return str(values["messages"][-1]["content"])


def test_wait_returns_the_final_values(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    assert _last_text(sdk.runs.wait(tid, "agent", input=user_message("count to 3"))) == "1 2 3"


def test_stateless_wait(sdk: SyncLangGraphClient) -> None:
    assert _last_text(sdk.runs.wait(None, "agent", input=user_message("hello there"))) == (
        "You said: hello there"
    )


async def test_stream_sends_metadata_first_then_values(asdk: LangGraphClient) -> None:
    tid = (await asdk.threads.create())["thread_id"]
    parts = [
        part
        async for part in asdk.runs.stream(
            tid, "nested", input={"trail": []}, stream_mode=["values", "updates"]
        )
    ]
    assert parts[0].event == "metadata" and parts[0].data["run_id"]
    updates = [p.data for p in parts if p.event == "updates"]
    assert [next(iter(u)) for u in updates] == ["start", "inner"]
    assert [p.data for p in parts if p.event == "values"][-1] == {"trail": ["start:-", "step"]}


def test_background_run_then_join(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    run = sdk.runs.create(tid, "nested", input={"trail": []})
    assert run["status"] in ("pending", "running")
    assert sdk.runs.join(tid, run["run_id"]) == {"trail": ["start:-", "step"]}
    assert sdk.runs.get(tid, run["run_id"])["status"] == "success"


def test_runs_are_listed_newest_first(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    ids = []
    for _ in range(2):
        run = sdk.runs.create(tid, "nested", input={"trail": []})
        sdk.runs.join(tid, run["run_id"])
        ids.append(run["run_id"])
    assert [r["run_id"] for r in sdk.runs.list(tid)] == ids[::-1]


def test_run_keeps_the_assistant_id_it_was_given(sdk: SyncLangGraphClient) -> None:
    aid = default_id("nested")
    tid = sdk.threads.create()["thread_id"]
    run = sdk.runs.create(tid, aid, input={"trail": []})
    assert run["assistant_id"] == aid
    sdk.runs.join(tid, run["run_id"])
    assert sdk.runs.get(tid, run["run_id"])["assistant_id"] == aid


def test_unknown_run_is_404(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    assert refused(lambda: sdk.runs.get(tid, str(uuid.uuid4()))) == 404


def test_run_on_an_unknown_assistant_is_404(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    assert refused(lambda: sdk.runs.create(tid, str(uuid.uuid4()), input={})) == 404


def _running(sdk: SyncLangGraphClient) -> tuple[str, str]:
    tid = sdk.threads.create()["thread_id"]
    run = sdk.runs.create(tid, "slow", input=NAP)
    until(lambda: sdk.runs.get(tid, run["run_id"])["status"] == "running", "the run to start")
    return tid, run["run_id"]


def test_cancel_is_visible_as_soon_as_it_returns(sdk: SyncLangGraphClient) -> None:
    tid, rid = _running(sdk)
    sdk.runs.cancel(tid, rid)
    assert sdk.runs.get(tid, rid)["status"] == "interrupted"


def test_cancel_with_wait_returns_once_the_run_stopped(sdk: SyncLangGraphClient) -> None:
    tid, rid = _running(sdk)
    sdk.runs.cancel(tid, rid, wait=True)
    assert sdk.runs.get(tid, rid)["status"] == "interrupted"
    assert sdk.threads.get(tid)["status"] == "interrupted"
    # The thread is free at once: a run that refuses to queue is taken.
    after = sdk.runs.wait(tid, "nested", input={"trail": []}, multitask_strategy="reject")
    assert after == {"trail": ["start:-", "step"]}


def test_cancel_of_a_finished_run_is_404(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    run = sdk.runs.create(tid, "nested", input={"trail": []})
    sdk.runs.join(tid, run["run_id"])
    assert refused(lambda: sdk.runs.cancel(tid, run["run_id"])) == 404


def test_cancel_many_by_ids(sdk: SyncLangGraphClient) -> None:
    tid, rid = _running(sdk)
    sdk.runs.cancel_many(thread_id=tid, run_ids=[rid])
    until(lambda: sdk.runs.get(tid, rid)["status"] == "interrupted", "the run to be cancelled")


def test_batch_creates_one_run_per_payload(sdk: SyncLangGraphClient) -> None:
    tids = [sdk.threads.create()["thread_id"] for _ in range(2)]
    payloads = [{"thread_id": t, "assistant_id": "nested", "input": {"trail": []}} for t in tids]
    runs = sdk.runs.create_batch(cast(list[RunCreate], payloads))
    assert len(runs) == 2 and len({r["run_id"] for r in runs}) == 2
    assert {r["assistant_id"] for r in runs} == {default_id("nested")}
    # Checked with langgraph-api 0.16.7: each payload becomes a stateless run on a temporary
    # thread of its own, whatever thread_id it names; the named threads are left alone.
    assert len({r["thread_id"] for r in runs} - set(tids)) == 2
    for tid in tids:
        assert sdk.runs.list(tid) == []


def test_delete_a_finished_run(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    run = sdk.runs.create(tid, "nested", input={"trail": []})
    sdk.runs.join(tid, run["run_id"])
    sdk.runs.delete(tid, run["run_id"])
    assert refused(lambda: sdk.runs.get(tid, run["run_id"])) == 404
    assert sdk.runs.list(tid) == []


def test_reject_while_busy_is_409(sdk: SyncLangGraphClient) -> None:
    tid, rid = _running(sdk)
    status = refused(lambda: sdk.runs.create(tid, "slow", input=NAP, multitask_strategy="reject"))
    sdk.runs.cancel(tid, rid, wait=True)
    assert status == 409


def test_resume_an_interrupt(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    paused = sdk.runs.wait(tid, "agent", input=user_message(EMAIL))
    assert cast(dict[str, Any], paused)["__interrupt__"][0]["value"]["action"] == "send_email"
    done = sdk.runs.wait(tid, "agent", command={"resume": {"approved": True}})
    assert _last_text(done) == "Email sent to bob@example.com."
    assert sdk.threads.get(tid)["status"] == "idle"


@pytest.mark.parametrize("bad", [{"stream_mode": "nope"}, {"input": {}, "command": "resume"}])
def test_bad_run_bodies_are_422(
    sdk: SyncLangGraphClient, http: httpx.Client, bad: dict[str, object]
) -> None:
    tid = sdk.threads.create()["thread_id"]
    response = http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", **bad})
    assert response.status_code == 422
    assert sdk.runs.list(tid) == []


def test_webhook_that_is_not_http_is_422(sdk: SyncLangGraphClient, http: httpx.Client) -> None:
    tid = sdk.threads.create()["thread_id"]
    body = {"assistant_id": "nested", "input": {"trail": []}, "webhook": "ftp://example.com/hook"}
    assert http.post(f"/threads/{tid}/runs", json=body).status_code == 422
    assert sdk.runs.list(tid) == []


async def test_messages_tuple_streams_the_tokens(asdk: LangGraphClient) -> None:
    tid = (await asdk.threads.create())["thread_id"]
    chunks = [
        part.data
        async for part in asdk.runs.stream(
            tid, "agent", input=user_message("count to 3"), stream_mode="messages-tuple"
        )
        if part.event == "messages"
    ]
    assert all(isinstance(c, list) and len(c) == 2 for c in chunks)  # [message, metadata]
    assert "".join(message["content"] for message, _ in chunks) == "1 2 3"
    assert {meta["langgraph_node"] for _, meta in chunks} == {"model"}


async def test_stateless_stream(asdk: LangGraphClient) -> None:
    parts = [p async for p in asdk.runs.stream(None, "nested", input={"trail": []})]
    assert parts[0].event == "metadata"
    assert parts[-1].data == {"trail": ["start:-", "step"]}


async def test_join_stream_follows_a_background_run(asdk: LangGraphClient) -> None:
    tid = (await asdk.threads.create())["thread_id"]
    run = await asdk.runs.create(tid, "slow", input={"seconds": 0.5}, stream_mode="values")
    parts = [p async for p in asdk.runs.join_stream(tid, run["run_id"])]
    assert parts, "the joined stream ended without an event"
    assert (await asdk.runs.get(tid, run["run_id"]))["status"] == "success"
    assert (await asdk.threads.get_state(tid))["values"] == {"seconds": 0.5, "woke": True}


def test_interrupt_before_a_node(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    paused = sdk.runs.wait(tid, "nested", input={"trail": []}, interrupt_before=["inner"])
    assert paused == {"trail": ["start:-"]}
    assert sdk.threads.get(tid)["status"] == "interrupted"
    assert sdk.threads.get_state(tid)["next"] == ["inner"]
    assert sdk.runs.wait(tid, "nested", input=None) == {"trail": ["start:-", "step"]}


def test_if_not_exists_create_makes_the_thread(sdk: SyncLangGraphClient) -> None:
    tid = str(uuid.uuid4())
    assert refused(lambda: sdk.runs.wait(tid, "nested", input={"trail": []})) == 404
    done = sdk.runs.wait(tid, "nested", input={"trail": []}, if_not_exists="create")
    assert done == {"trail": ["start:-", "step"]}
    assert sdk.threads.get(tid)["thread_id"] == tid


def test_deleting_a_thread_takes_its_runs(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    run = sdk.runs.create(tid, "nested", input={"trail": []})
    sdk.runs.join(tid, run["run_id"])
    sdk.threads.delete(tid)
    assert refused(lambda: sdk.runs.get(tid, run["run_id"])) == 404
    assert refused(lambda: sdk.runs.list(tid)) == 404
