"""The Agent Streaming Protocol ("v2") over SSE, with the official SDK's thread stream.

``client.threads.stream(assistant_id=..., transport="sse")`` against the local stack, sync
and async: values, messages, tool calls, lifecycle, an interrupt answered with
``run.respond``, cancel through the run API; and the wire itself (``seq`` per thread,
replay after ``since``, bad input) with plain HTTP.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client

from lambdagraph.protocol.agent import CHANNELS
from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack
from tests.conftest import Tables
from tests.e2e.conftest import DEADLINE, auth, eventually, stack_settings, user_message

pytestmark = pytest.mark.timeout(60)

ALL_CHANNELS = sorted(CHANNELS)


def frames_until_end(
    url: str, thread_id: str, *, user: str = "alice", since: int | None = None
) -> list[dict[str, Any]]:
    """Every frame of the thread's stream up to the root's next terminal lifecycle."""
    body: dict[str, Any] = {"channels": ALL_CHANNELS}
    if since is not None:
        body["since"] = since
    frames: list[dict[str, Any]] = []
    with (
        httpx.Client(timeout=DEADLINE) as http,
        http.stream(
            "POST", f"{url}/threads/{thread_id}/stream/events", json=body, headers=auth(user)
        ) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for frame in _sse_frames(response.iter_lines()):
            frames.append(frame)
            if _root_end(frame):
                return frames
    raise AssertionError(f"the stream ended before the run did: {frames[-3:]}")


def _sse_frames(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    event = ident = None
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("id: "):
            ident = line[4:]
        elif line.startswith("data: "):
            frame = json.loads(line[6:])
            assert frame["method"] == event
            assert ident == str(frame["seq"])
            yield frame


def _root_end(frame: dict[str, Any]) -> bool:
    return (
        frame["method"] == "lifecycle"
        and frame["params"]["namespace"] == []
        and frame["params"]["data"]["event"] in ("completed", "failed", "interrupted")
    )


def command(url: str, thread_id: str, method: str, params: dict[str, Any], **kw: Any) -> Any:
    """One command over ``POST /threads/{tid}/commands``; the response body."""
    user = kw.get("user", "alice")
    body = {"id": kw.get("id", 1), "method": method, "params": params}
    response = httpx.post(
        f"{url}/threads/{thread_id}/commands", json=body, headers=auth(user), timeout=DEADLINE
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def url(shared_stack: LocalStack) -> str:
    return shared_stack.url


def test_a_run_streams_lifecycle_values_and_messages_in_seq_order(url: str) -> None:
    thread_id = "00000000-0000-4000-8000-" + "1" * 12
    started = command(
        url, thread_id, "run.start", {"assistant_id": "agent", "input": user_message("hello there")}
    )
    assert started["type"] == "success", started
    assert started["result"]["run_id"]
    frames = frames_until_end(url, thread_id)
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert all(f["event_id"] == str(f["seq"]) for f in frames)
    assert frames[0]["method"] == "lifecycle"
    assert frames[0]["params"]["data"] == {"event": "running", "graph_name": "agent"}
    assert frames[-1]["params"]["data"] == {"event": "completed", "graph_name": "agent"}
    events = [f["params"]["data"]["event"] for f in frames if f["method"] == "messages"]
    assert events[0] == "message-start" and events[-1] == "message-finish"
    text = "".join(
        f["params"]["data"]["delta"]["text"]
        for f in frames
        if f["method"] == "messages" and f["params"]["data"]["event"] == "content-block-delta"
    )
    assert text == "You said: hello there"
    finish = [f for f in frames if f["method"] == "messages"][-1]["params"]["data"]
    assert finish["usage"]["output_tokens"] > 0
    last_values = [f for f in frames if f["method"] == "values"][-1]["params"]["data"]
    assert last_values["messages"][-1]["type"] == "ai"


def test_the_official_async_client_streams_values_and_messages(url: str) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], list[str]]:
        client = get_client(url=url, headers=auth("alice"))
        async with client.threads.stream(assistant_id="agent", transport="sse") as thread:
            await thread.run.start(input=user_message("hello there"))
            # A message's text resolves as the projection reads on: collect, then await.
            messages = [message async for message in thread.messages]
            texts = [await message.text for message in messages]
        async with client.threads.stream(thread.thread_id, assistant_id="agent") as again:
            await again.run.start(input=user_message("hello again"))
            snapshots = [snapshot async for snapshot in again.values]
        return snapshots, texts

    snapshots, texts = asyncio.run(scenario())
    assert texts == ["You said: hello there"]
    contents = [m["content"] for m in snapshots[-1]["messages"]]
    assert contents[0] == "hello there" and contents[2] == "hello again"
    assert len(contents) == 4


def test_the_official_sync_client_streams_values(url: str) -> None:
    client = get_sync_client(url=url, headers=auth("alice"))
    with client.threads.stream(assistant_id="agent", transport="sse") as thread:
        thread.run.start(input=user_message("hello there"))
        snapshots = list(thread.values)
        final = thread.output
    # The stream's values carry protocol-shaped messages, the state (REST) LangChain's dicts.
    assert [m["id"] for m in snapshots[-1]["messages"]] == [m["id"] for m in final["messages"]]
    assert [m["type"] for m in final["messages"]] == ["human", "ai"]


def test_tool_calls_stream_with_their_lifecycle(url: str) -> None:
    async def scenario() -> list[tuple[str, Any, Any]]:
        client = get_client(url=url, headers=auth("alice"))
        async with client.threads.stream(assistant_id="agent") as thread:
            await thread.run.start(input=user_message("what is the weather in Paris"))
            calls = [call async for call in thread.tool_calls]
            return [(call.name, call.input, await call.output) for call in calls]

    calls = asyncio.run(scenario())
    assert len(calls) == 1
    name, args, output = calls[0]
    assert (name, args) == ("get_weather", {"city": "Paris"})
    assert "rainy" in json.dumps(output)


def test_an_interrupt_is_input_requested_and_respond_resumes_the_run(url: str) -> None:
    async def scenario() -> tuple[list[Any], Any, Any]:
        client = get_client(url=url, headers=auth("alice"))
        async with client.threads.stream(assistant_id="agent") as thread:
            await thread.run.start(
                input=user_message("send an email to bob@example.com about lunch")
            )
            async for _ in thread.values:
                pass
            await eventually(_is(lambda: thread.interrupted), "the interrupt")
            interrupts = list(thread.interrupts)
            await thread.run.respond({"approved": True})
            final = await thread.output
            state = await client.threads.get(thread.thread_id)
        return interrupts, final, state

    interrupts, final, state = asyncio.run(scenario())
    assert len(interrupts) == 1 and interrupts[0]["namespace"] == []
    assert final["messages"][-1]["content"][0]["text"].startswith("Email sent")
    assert state["status"] == "idle"


def _is(check: Any) -> Any:
    async def holds() -> bool:
        await asyncio.sleep(0.01)
        return bool(check())

    return holds


def test_input_requested_frames_carry_ids_that_respond_accepts(url: str) -> None:
    thread_id = "00000000-0000-4000-8000-" + "2" * 12
    text = "send an email to bob@example.com about lunch"
    command(url, thread_id, "run.start", {"assistant_id": "agent", "input": user_message(text)})
    frames = frames_until_end(url, thread_id)
    asked = [f for f in frames if f["method"] == "input.requested"]
    assert len(asked) == 1
    request = asked[0]["params"]["data"]
    assert request["payload"]["action"] == "send_email"
    assert frames[-1]["params"]["data"]["event"] == "interrupted"
    wrong = command(
        url, thread_id, "input.respond", {"interrupt_id": "nope", "namespace": [], "response": 1}
    )
    assert wrong["type"] == "error" and wrong["error"] == "no_such_interrupt"
    params = {"interrupt_id": request["interrupt_id"], "namespace": [], "response": {}}
    answered = command(url, thread_id, "input.respond", params, id=2)
    assert answered == {
        "type": "success",
        "id": 2,
        "result": {},
        # The thread's last frames: the values snapshot that follows `interrupted`, as
        # upstream, then the run's final `lambdagraph.usage` report.
        "meta": {"applied_through_seq": frames[-1]["seq"] + 2},
    }
    resumed = frames_until_end(url, thread_id, since=frames[-1]["seq"])
    assert resumed[0]["seq"] == frames[-1]["seq"] + 1
    assert resumed[-1]["params"]["data"]["event"] == "completed"
    again = command(url, thread_id, "input.respond", params, id=3)
    assert again["error"] == "no_such_run"


def test_since_replays_exactly_the_later_frames_across_runs(url: str) -> None:
    thread_id = "00000000-0000-4000-8000-" + "3" * 12
    command(url, thread_id, "run.start", {"assistant_id": "agent", "input": user_message("one")})
    first = frames_until_end(url, thread_id)
    command(url, thread_id, "run.start", {"assistant_id": "agent", "input": user_message("two")})
    second = frames_until_end(url, thread_id, since=first[-1]["seq"])
    assert second[0]["seq"] == first[-1]["seq"] + 1
    middle = first[len(first) // 2]["seq"]
    replayed = frames_until_end(url, thread_id, since=middle)
    assert replayed == [f for f in first if f["seq"] > middle][: len(replayed)]
    everything = frames_until_end(url, thread_id, since=second[-1]["seq"] - 1)
    assert everything == [second[-1]]


def test_cancel_through_the_run_api_ends_the_stream_interrupted(url: str) -> None:
    async def scenario() -> tuple[list[Any], Any]:
        client = get_client(url=url, headers=auth("alice"))
        async with client.threads.stream(assistant_id="agent") as thread:
            started = await thread.run.start(input=user_message("count to 3000"))
            snapshots: list[Any] = []
            async for event in thread.subscribe(["messages", "lifecycle"]):
                snapshots.append(event)
                if len(snapshots) == 5:
                    await client.runs.cancel(thread.thread_id, started["run_id"])
            run = await client.runs.get(thread.thread_id, started["run_id"])
        return snapshots, run

    frames, run = asyncio.run(scenario())
    assert run["status"] == "interrupted"
    assert frames[-1]["method"] == "lifecycle"
    assert frames[-1]["params"]["data"]["event"] == "interrupted"


def test_bad_requests_get_precise_errors(url: str) -> None:
    thread_id = "00000000-0000-4000-8000-" + "4" * 12
    events = f"{url}/threads/{thread_id}/stream/events"
    commands = f"{url}/threads/{thread_id}/commands"
    headers = auth("alice")
    bogus = httpx.post(events, json={"channels": ["bogus"]}, headers=headers)
    assert bogus.status_code == 400 and "bogus" in bogus.json()["detail"]
    assert httpx.post(events, json={}, headers=headers).status_code == 400
    since = httpx.post(events, json={"channels": ["values"], "since": "x"}, headers=headers)
    assert since.status_code == 400 and "since" in since.json()["detail"]
    unknown = httpx.post(events, json={"channels": ["values"]}, headers=headers)
    assert unknown.status_code == 404
    garbage = httpx.post(commands, content=b"garbage", headers=headers)
    assert garbage.status_code == 400
    no_id = httpx.post(commands, json={"method": "run.start"}, headers=headers)
    assert no_id.status_code == 400 and no_id.json()["error"] == "invalid_argument"
    assert command(url, thread_id, "nope.nope", {})["error"] == "unknown_command"
    assert command(url, thread_id, "run.start", {})["error"] == "invalid_argument"
    missing = command(url, thread_id, "run.start", {"assistant_id": "no-such-graph"})
    assert missing["error"] == "invalid_argument"
    nothing = command(url, thread_id, "input.respond", {"interrupt_id": "x", "response": 1})
    assert nothing["error"] == "no_such_run"


def test_another_users_thread_is_not_found(url: str) -> None:
    thread_id = "00000000-0000-4000-8000-" + "5" * 12
    command(url, thread_id, "run.start", {"assistant_id": "agent", "input": user_message("hi")})
    last = frames_until_end(url, thread_id)[-1]["seq"]
    beyond = httpx.post(
        f"{url}/threads/{thread_id}/stream/events",
        json={"channels": ["values"], "since": last + 1},
        headers=auth("alice"),
    )
    assert beyond.status_code == 400 and "beyond" in beyond.json()["detail"]
    events = httpx.post(
        f"{url}/threads/{thread_id}/stream/events",
        json={"channels": ["values"]},
        headers=auth("bob"),
    )
    assert events.status_code == 404
    started = command(
        url,
        thread_id,
        "run.start",
        {"assistant_id": "agent", "input": user_message("x")},
        user="bob",
    )
    assert started["type"] == "error" and started["error"] == "no_such_run"
    respond = command(
        url, thread_id, "input.respond", {"interrupt_id": "x", "response": 1}, user="bob"
    )
    assert respond["error"] == "no_such_run"


@pytest.fixture
def settings(tables: Tables) -> Settings:
    """A stack whose v2 streams end after a second of idleness, with quick heartbeats."""
    return stack_settings(tables, agent_stream_idle_seconds=1.0, heartbeat_seconds=0.2)


def test_an_idle_stream_sends_heartbeats_and_ends_and_since_resumes_it(stack: LocalStack) -> None:
    thread_id = "00000000-0000-4000-8000-" + "6" * 12
    url = stack.url
    command(url, thread_id, "run.start", {"assistant_id": "agent", "input": user_message("hi")})
    first = frames_until_end(url, thread_id)
    body = {"channels": ["lifecycle"], "since": first[-1]["seq"]}
    with httpx.Client(timeout=DEADLINE) as http:
        response = http.post(
            f"{url}/threads/{thread_id}/stream/events", json=body, headers=auth("alice")
        )
    # The thread stayed idle: the stream ended by itself, with heartbeats and no frame.
    assert response.status_code == 200
    assert response.text.count(": heartbeat") >= 2
    assert "data:" not in response.text
    command(url, thread_id, "run.start", {"assistant_id": "agent", "input": user_message("again")})
    resumed = frames_until_end(url, thread_id, since=first[-1]["seq"])
    assert resumed[0]["seq"] == first[-1]["seq"] + 1
    assert resumed[0]["params"]["data"]["event"] == "running"
