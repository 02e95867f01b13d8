"""Streaming runs through the real SDK: tokens, message ids, interrupts, resume, errors, wait."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from langgraph_sdk.schema import StreamPart

from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth, user_message


async def _collect(stream: Any) -> list[StreamPart]:
    return [part async for part in stream]


def _events(parts: list[StreamPart], name: str) -> list[Any]:
    return [part.data for part in parts if part.event == name]


async def test_tokens_arrive_while_the_run_is_still_running(
    client: LangGraphClient, stack: LocalStack
) -> None:
    thread = await client.threads.create()
    created: dict[str, str] = {}
    stream = client.runs.stream(
        thread["thread_id"],
        "agent",
        input=user_message("count to 3000"),
        stream_mode="messages-tuple",
        on_run_created=lambda meta: created.update(meta),
    )
    second = get_client(url=stack.url, headers=auth("alice"))
    seen: dict[str, Any] = {}
    tokens = 0
    async for part in stream:
        if part.event == "messages":
            tokens += 1
            if not seen:
                # The first token is here: another client sees the run still going.
                seen = await second.runs.get(thread["thread_id"], created["run_id"])
                await second.runs.cancel(thread["thread_id"], created["run_id"])

    assert seen["status"] == "running"
    assert 0 < tokens < 3000
    final = await second.runs.get(thread["thread_id"], created["run_id"])
    assert final["status"] == "interrupted"


async def test_chunks_of_a_message_share_the_id_it_has_in_the_final_values(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()

    parts = await _collect(
        client.runs.stream(
            thread["thread_id"],
            "agent",
            input=user_message("count to 20"),
            stream_mode=["messages-tuple", "values"],
        )
    )

    assert parts[0].event == "metadata"
    chunks = [chunk for chunk, _meta in _events(parts, "messages")]
    assert len(chunks) >= 20
    assert {chunk["id"] for chunk in chunks} == {chunks[0]["id"]}
    assert "".join(chunk["content"] for chunk in chunks).split() == [str(i) for i in range(1, 21)]
    final = _events(parts, "values")[-1]["messages"][-1]
    assert final["type"] == "ai"
    assert final["id"] == chunks[0]["id"]


async def test_interrupt_surfaces_in_updates_and_resumes_in_a_separate_request(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]

    first = await _collect(
        client.runs.stream(
            tid, "agent", input=user_message("send an email to bob@example.com"),
            stream_mode=["updates", "messages-tuple"],
        )
    )
    interrupts = [u["__interrupt__"] for u in _events(first, "updates") if "__interrupt__" in u]
    paused = await client.threads.get(tid)
    state = await client.threads.get_state(tid)
    second = await _collect(
        client.runs.stream(
            tid, "agent", command={"resume": {"approved": True}}, stream_mode="values"
        )
    )

    assert len(interrupts) == 1
    assert interrupts[0][0]["value"]["action"] == "send_email"
    assert interrupts[0][0]["value"]["args"]["to"] == "bob@example.com"
    assert paused["status"] == "interrupted"
    assert state["next"] == ["tools"]
    assert state["tasks"][0]["interrupts"][0]["id"] == interrupts[0][0]["id"]
    messages = _events(second, "values")[-1]["messages"]
    tool_results = [m for m in messages if m["type"] == "tool"]
    assert tool_results[-1]["content"] == "sent"
    assert messages[-1]["content"] == "Email sent to bob@example.com."
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_interrupt_comes_as_values_when_updates_were_not_requested(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()

    parts = await _collect(
        client.runs.stream(
            thread["thread_id"], "agent", input=user_message("send an email to a@b.c"),
            stream_mode="values",
        )
    )

    assert "updates" not in {part.event for part in parts}
    last = _events(parts, "values")[-1]
    assert last["__interrupt__"][0]["value"]["action"] == "send_email"


async def test_a_rejected_email_is_not_sent(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await _collect(client.runs.stream(tid, "agent", input=user_message("send an email to a@b.c")))

    result = await client.runs.wait(tid, "agent", command={"resume": {"approved": False}})

    tool = [m for m in result["messages"] if m["type"] == "tool"][-1]
    assert tool["content"].startswith("not sent")
    assert result["messages"][-1]["content"] == "Email to a@b.c was not sent."


async def test_a_failing_run_ends_with_an_error_event_without_internals(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()

    parts = await _collect(
        client.runs.stream(thread["thread_id"], "agent", input=user_message("trigger an error"))
    )
    runs = await client.runs.list(thread["thread_id"])

    assert parts[-1].event == "error"
    error = parts[-1].data
    assert set(error) == {"error", "message"}
    assert "Traceback" not in error["message"] and ".py" not in error["message"]
    assert runs[0]["status"] == "error"
    assert (await client.threads.get(thread["thread_id"]))["status"] == "error"


def test_sync_client_streams_and_waits(sync_client: SyncLangGraphClient) -> None:
    thread = sync_client.threads.create()

    parts = list(
        sync_client.runs.stream(
            thread["thread_id"], "agent", input=user_message("weather in Paris"),
            stream_mode=["updates"],
        )
    )
    waited = sync_client.runs.wait(
        thread["thread_id"], "agent", input=user_message("calculate 6 * 7")
    )

    nodes = [next(iter(update)) for update in _events(parts, "updates")]
    assert nodes == ["model", "tools", "model"]
    assert waited["messages"][-1]["content"].endswith("42")
    assert len(sync_client.runs.list(thread["thread_id"])) == 2


async def test_wait_returns_the_interrupt_when_the_run_pauses(client: LangGraphClient) -> None:
    thread = await client.threads.create()

    result = await client.runs.wait(
        thread["thread_id"], "agent", input=user_message("send an email to a@b.c")
    )

    assert result["__interrupt__"][0]["value"]["action"] == "send_email"


async def test_stateless_runs_stream_and_wait(client: LangGraphClient) -> None:
    parts = await _collect(
        client.runs.stream(None, "agent", input=user_message("count to 3"),
                           stream_mode="messages-tuple")
    )
    waited = await client.runs.wait(None, "agent", input=user_message("count to 2"))

    text = "".join(chunk["content"] for chunk, _ in _events(parts, "messages"))
    assert text.split() == ["1", "2", "3"]
    assert waited["messages"][-1]["content"].split() == ["1", "2"]
    assert await client.threads.search() == []


async def test_state_and_history_follow_the_runs(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "agent", input=user_message("count to 2"))

    state = await client.threads.get_state(tid)
    history = await client.threads.get_history(tid, limit=100)

    assert [m["type"] for m in state["values"]["messages"]] == ["human", "ai"]
    assert state["checkpoint"]["thread_id"] == tid
    assert history[0]["checkpoint"]["checkpoint_id"] == state["checkpoint"]["checkpoint_id"]
    assert history[-1]["parent_checkpoint"] is None
    assert len(history) >= 3


def test_stream_response_headers_point_at_the_run(stack: LocalStack) -> None:
    with httpx.Client(base_url=stack.url, headers=auth("alice"), timeout=30) as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        with http.stream(
            "POST", f"/threads/{tid}/runs/stream",
            json={"assistant_id": "agent", "input": user_message("count to 2")},
        ) as response:
            body = response.read().decode()
        run_id = body.split('"run_id":"', 1)[1].split('"', 1)[0]

    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["location"] == f"/threads/{tid}/runs/{run_id}/stream"
    assert response.headers["content-location"] == f"/threads/{tid}/runs/{run_id}"
    assert body.startswith("event: metadata\ndata: {")


async def test_usage_mode_reports_token_counts(client: LangGraphClient) -> None:
    thread = await client.threads.create()

    parts = await _collect(
        client.runs.stream(thread["thread_id"], "agent", input=user_message("count to 5"),
                           stream_mode=["values", "usage"])
    )

    usage = _events(parts, "usage")
    assert usage and usage[-1]["total"]["output_tokens"] > 0


async def test_concurrent_streams_on_separate_threads(client: LangGraphClient) -> None:
    threads = [await client.threads.create() for _ in range(3)]

    results = await asyncio.gather(
        *(
            _collect(client.runs.stream(t["thread_id"], "agent",
                                        input=user_message(f"count to {n + 2}"),
                                        stream_mode="messages-tuple"))
            for n, t in enumerate(threads)
        )
    )

    texts = ["".join(c["content"] for c, _ in _events(parts, "messages")) for parts in results]
    assert [len(text.split()) for text in texts] == [2, 3, 4]


async def test_debug_events_and_custom_modes_stream_with_subgraphs_on(
    client: LangGraphClient,
) -> None:
    thread = await client.threads.create()

    parts = await _collect(
        client.runs.stream(
            thread["thread_id"], "agent", input=user_message("weather in Oslo"),
            stream_mode=["debug", "events", "custom", "values"], stream_subgraphs=True,
        )
    )

    names = {part.event.split("|")[0] for part in parts}
    assert {"metadata", "debug", "events", "values"} <= names
    assert "error" not in names
    assert any(e.get("event") == "on_chat_model_stream" for e in _events(parts, "events"))


async def test_history_pages_backwards_with_before(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "agent", input=user_message("count to 2"))
    newest = (await client.threads.get_history(thread["thread_id"], limit=1))[0]

    by_id = await client.threads.get_history(
        thread["thread_id"], limit=1, before=newest["checkpoint"]["checkpoint_id"]
    )
    by_config = await client.threads.get_history(
        thread["thread_id"], limit=1, before=newest["checkpoint"]
    )

    assert by_id[0]["checkpoint"] == by_config[0]["checkpoint"] == newest["parent_checkpoint"]
