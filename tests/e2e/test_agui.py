"""AG-UI at ``POST /ag-ui/{assistant_id}``: the official client (``@ag-ui/client``'s
``HttpAgent``, from Node: ``tests/js/agui_client.mjs``) and raw HTTP against the local stack.

A full approval flow (tool call, interrupt, resume), a cancel by the client and one by the
LangGraph API, a failing run, and every bad input the issue lists: a 4xx before anything
streams, and the thread unchanged.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import DEADLINE, auth

_JS = Path(__file__).parents[1] / "js"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (the AG-UI client needs Node 20 or later)")
    if not (_JS / "node_modules" / "@ag-ui" / "client").is_dir():
        pytest.skip("the AG-UI client is not installed: make js (npm ci in tests/js)")
    return node


def _http_agent(url: str, scenario: str, message: str) -> dict[str, Any]:
    result = subprocess.run(
        [_node(), "agui_client.mjs", url, "agent", "alice", scenario, message],
        cwd=_JS, capture_output=True, text=True, timeout=DEADLINE * 2, check=False,
    )
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return seen


@pytest.fixture
def http(shared_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_stack.url, headers=auth("alice"), timeout=30) as client:
        yield client


def _frames(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line[len("data: "):])


def _agui(http: httpx.Client, body: dict[str, Any], path: str = "/ag-ui/agent") -> list[Any]:
    with http.stream("POST", path, json=body) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(_frames(response))


def _input(thread_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "threadId": thread_id,
        "runId": str(uuid.uuid4()),
        "messages": [{"id": str(uuid.uuid4()), "role": "user", "content": text}],
        **extra,
    }


def _wait_status(http: httpx.Client, thread_id: str, run_id: str, status: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while http.get(f"/threads/{thread_id}/runs/{run_id}").json()["status"] != status:
        assert time.monotonic() < deadline, f"run {run_id} never became {status}"
        time.sleep(0.05)


def test_http_agent_streams_a_tool_call_its_approval_and_the_answer(
    shared_stack: LocalStack, http: httpx.Client
) -> None:
    seen = _http_agent(shared_stack.url, "approval", "send an email to bob@example.com")

    asked, answered = seen["runs"]
    assert asked["types"][0] == "RUN_STARTED" and asked["types"][-1] == "RUN_FINISHED"
    assert asked["types"][2:4] == ["TOOL_CALL_START", "TOOL_CALL_ARGS"]
    assert asked["toolCalls"][0]["name"] == "send_email"
    interrupt = asked["finished"]["outcome"]["interrupts"][0]
    assert asked["finished"]["outcome"]["type"] == "interrupt"
    assert interrupt["toolCallId"] == asked["toolCalls"][0]["id"]
    assert interrupt["metadata"]["value"]["args"]["to"] == "bob@example.com"
    assert asked["finished"]["usage"][0]["outputTokens"] > 0

    assert answered["results"] == [{"toolCallId": asked["toolCalls"][0]["id"], "content": "sent"}]
    assert answered["text"] == "Email sent to bob@example.com."
    assert answered["finished"]["outcome"] is None  # success
    assert [m["role"] for m in seen["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert seen["messages"][-1]["content"] == "Email sent to bob@example.com."

    # The same thread through the LangGraph API: the AG-UI ids are LangGraph's.
    state = http.get(f"/threads/{seen['threadId']}/state").json()
    ai = state["values"]["messages"][1]
    assert ai["tool_calls"][0]["id"] == asked["toolCalls"][0]["id"]
    assert http.get(f"/threads/{seen['threadId']}").json()["status"] == "idle"


def test_http_agent_abort_cancels_the_run(shared_stack: LocalStack, http: httpx.Client) -> None:
    seen = _http_agent(shared_stack.url, "cancel", "count to 100000")

    run = seen["runs"][0]
    assert run["text"] and not run["text"].endswith("100000")
    _wait_status(http, seen["threadId"], run["runId"], "interrupted")


def test_a_cancel_through_the_langgraph_api_finishes_the_stream_as_cancelled(
    http: httpx.Client,
) -> None:
    thread_id = str(uuid.uuid4())
    frames = []
    with http.stream("POST", "/ag-ui/agent", json=_input(thread_id, "count to 100000")) as stream:
        for frame in _frames(stream):
            frames.append(frame)
            if frame["type"] == "TEXT_MESSAGE_CONTENT" and len(frames) < 5:
                run_id = frames[0]["metadata"]["lambdagraph_run_id"]
                assert http.post(f"/threads/{thread_id}/runs/{run_id}/cancel").status_code == 202

    assert frames[-1]["type"] == "RUN_FINISHED"
    assert frames[-1]["outcome"] == {"type": "cancelled"}
    text = "".join(f["delta"] for f in frames if f["type"] == "TEXT_MESSAGE_CONTENT")
    assert not text.endswith("100000")


def test_a_failing_run_ends_with_run_error_and_no_internals(shared_stack: LocalStack) -> None:
    seen = _http_agent(shared_stack.url, "error", "please trigger an error")

    run = seen["runs"][0]
    assert run["types"][-1] == "RUN_ERROR"
    assert run["error"]["code"] == "ScriptedModelError"
    assert "Traceback" not in run["error"]["message"] and "File " not in run["error"]["message"]


def test_state_and_resume_through_raw_http(http: httpx.Client) -> None:
    thread_id = str(uuid.uuid4())
    frames = _agui(http, _input(thread_id, "send an email to ann@example.com"))
    assert frames[0]["type"] == "RUN_STARTED" and frames[0]["threadId"] == thread_id
    assert any(f["type"] == "STATE_SNAPSHOT" for f in frames)
    snapshot = next(f for f in frames if f["type"] == "MESSAGES_SNAPSHOT")
    assert [m["role"] for m in snapshot["messages"]] == ["user", "assistant"]
    interrupt_id = frames[-1]["outcome"]["interrupts"][0]["id"]

    rejected = _agui(
        http,
        {"threadId": thread_id, "runId": "r2", "messages": [],
         "resume": [{"interruptId": interrupt_id, "status": "cancelled"}]},
    )
    result = next(f for f in rejected if f["type"] == "TOOL_CALL_RESULT")
    assert "not sent" in result["content"].lower() or "reject" in result["content"].lower()
    assert rejected[-1]["type"] == "RUN_FINISHED" and "outcome" not in rejected[-1]


def _detail(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"detail"}, body
    assert "Traceback" not in body["detail"]
    return str(body["detail"])


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"runId": "r", "messages": []}, "threadId"),
        ({"threadId": str(uuid.uuid4()), "runId": "r", "messages": "hi"}, "messages"),
        ({"threadId": "not-a-uuid", "runId": "r", "messages": []}, "UUID"),
        ({"threadId": str(uuid.uuid4()), "runId": "r", "messages": []}, "no new message"),
        (
            {"threadId": str(uuid.uuid4()), "runId": "r", "messages": [
                {"id": "m", "role": "user",
                 "content": [{"type": "image", "source": {"type": "url", "value": "x"}}]}]},
            "only text parts",
        ),
    ],
)
def test_malformed_input_is_a_422_naming_the_problem(
    http: httpx.Client, body: dict[str, Any], words: str
) -> None:
    response = http.post("/ag-ui/agent", json=body)
    assert response.status_code == 422
    assert words in _detail(response)


def test_an_unknown_assistant_is_a_404_and_creates_no_thread(http: httpx.Client) -> None:
    thread_id = str(uuid.uuid4())
    response = http.post("/ag-ui/nobody", json=_input(thread_id, "hi"))
    assert response.status_code == 404
    _detail(response)
    assert http.get(f"/threads/{thread_id}").status_code == 404


def test_a_resume_of_an_interrupt_the_thread_does_not_wait_on_is_a_422(
    http: httpx.Client,
) -> None:
    thread_id = str(uuid.uuid4())
    _agui(http, _input(thread_id, "hello"))
    response = http.post(
        "/ag-ui/agent",
        json={"threadId": thread_id, "runId": "r", "messages": [],
              "resume": [{"interruptId": "nope", "status": "resolved", "payload": {}}]},
    )
    assert response.status_code == 422
    assert "not waiting on interrupt nope" in _detail(response)
    assert len(http.get(f"/threads/{thread_id}/runs").json()) == 1


def test_another_users_thread_is_a_404(shared_stack: LocalStack, http: httpx.Client) -> None:
    thread_id = str(uuid.uuid4())
    _agui(http, _input(thread_id, "hello"))
    with httpx.Client(base_url=shared_stack.url, headers=auth("bob"), timeout=30) as bob:
        response = bob.post("/ag-ui/agent", json=_input(thread_id, "mine now?"))
    assert response.status_code == 404
    _detail(response)
    assert len(http.get(f"/threads/{thread_id}/runs").json()) == 1


def _langgraph_agent(url: str, message: str) -> dict[str, Any]:
    _node()
    result = subprocess.run(
        [_node(), "langgraph_agent.mjs", url, "agent", "alice", message],
        cwd=_JS, capture_output=True, text=True, timeout=DEADLINE * 2, check=False,
    )
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return seen


def test_langgraph_agent_streams_a_tool_call_to_its_interrupt_over_the_langgraph_api(
    shared_stack: LocalStack,
) -> None:
    seen = _langgraph_agent(shared_stack.url, "send an email to bob@example.com")

    asked = seen["runs"][0]
    assert asked["error"] is None
    assert asked["toolCalls"] == ["send_email"]
    assert "TOOL_CALL_ARGS" in asked["types"] and asked["types"][-1] == "RUN_FINISHED"
    interrupt = asked["outcome"]["interrupts"][0]
    assert interrupt["metadata"]["langgraph"]["raw"]["args"]["to"] == "bob@example.com"


def test_langgraph_agent_resumes_its_interrupt(
    shared_stack: LocalStack, http: httpx.Client
) -> None:
    seen = _langgraph_agent(shared_stack.url, "send an email to bob@example.com")

    answered = seen["runs"][1]
    assert "thrown" not in answered, answered["thrown"]
    assert answered["text"] == "Email sent to bob@example.com."
    assert http.get(f"/threads/{seen['threadId']}").json()["status"] == "idle"
