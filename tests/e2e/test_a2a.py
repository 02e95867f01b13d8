"""A2A at ``/a2a/{assistant_id}``: ``a2a-sdk``'s own client (A2A 1.0) and raw JSON-RPC
(0.3 method names, and every error code) against the local stack."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.types import GetTaskRequest, Message, Part, Role, SendMessageRequest, TaskState

from lambdagraph.http.a2a import INTERNAL_ERROR, RunTasks
from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import DEADLINE, auth

CARD = "/.well-known/agent-card.json?assistant_id=agent"


@pytest.fixture
def http(shared_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_stack.url, headers=auth("alice"), timeout=30) as client:
        yield client


def _rpc(http: httpx.Client, method: str, params: Any, *, user: str = "alice",
         version: str | None = None, rid: Any = 1) -> dict[str, Any]:
    headers = {**auth(user), **({"A2A-Version": version} if version else {})}
    body = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
    response = http.post("/a2a/agent", json=body, headers=headers)
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        return {"events": [json.loads(line[6:]) for line in response.text.splitlines()
                           if line.startswith("data: ")]}
    out: dict[str, Any] = response.json()
    return out


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"message": {"role": "user", "messageId": str(uuid.uuid4()),
                        "parts": [{"kind": "text", "text": text}], **extra}}


async def _client(url: str, user: str = "alice") -> Any:
    config = ClientConfig(httpx_client=httpx.AsyncClient(headers=auth(user), timeout=DEADLINE))
    return await create_client(url, config, relative_card_path=CARD)


def _message(text: str, **extra: Any) -> SendMessageRequest:
    return SendMessageRequest(message=Message(
        role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text=text)], **extra))


async def _collect(client: Any, request: SendMessageRequest) -> list[Any]:
    return [event async for event in client.send_message(request)]


def test_the_agent_card_names_the_endpoint_skills_and_streaming(http: httpx.Client) -> None:
    card = http.get(CARD).json()
    assert card["capabilities"]["streaming"] is True
    assert card["supportedInterfaces"][0]["url"].endswith("/a2a/agent")
    assert {"send_email", "get_weather"} <= {skill["id"] for skill in card["skills"]}
    assert http.get("/.well-known/agent-card.json?assistant_id=nobody").status_code == 404


def test_sdk_client_streams_a_tool_call_an_interrupt_and_its_resume(
    shared_stack: LocalStack, http: httpx.Client
) -> None:
    async def scenario() -> tuple[list[Any], list[Any], Any]:
        client = await _client(shared_stack.url)
        asked = await _collect(client, _message("send an email to bob@example.com"))
        task = asked[0].task
        answered = await _collect(client, _approval(task.id, task.context_id))
        got = await client.get_task(GetTaskRequest(id=task.id))
        return asked, answered, got

    asked, answered, got = asyncio.run(scenario())
    first = asked[0]
    assert first is not None
    states = [_state(item) for item in asked]
    assert TaskState.TASK_STATE_INPUT_REQUIRED in states
    updates = [_update(item) for item in asked]
    assert any("toolCall" in json.dumps(u) for u in updates if u)
    final = [_update(item) for item in answered]
    answer = "".join(p.get("text", "") for u in final if "artifactUpdate" in u
                     for p in u["artifactUpdate"]["artifact"]["parts"])
    assert answer == "Email sent to bob@example.com."
    assert "toolResult" in json.dumps(final)
    assert final[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert final[0]["task"]["id"] == first.task.id  # the resume continues the same task
    assert got.status.state == TaskState.TASK_STATE_COMPLETED


def _approval(task_id: str, context_id: str) -> SendMessageRequest:
    from google.protobuf.json_format import ParseDict
    from google.protobuf.struct_pb2 import Value

    return SendMessageRequest(message=Message(
        role=Role.ROLE_USER, message_id=str(uuid.uuid4()), task_id=task_id,
        context_id=context_id, parts=[Part(data=ParseDict({"approved": True}, Value()))]))


def _state(item: Any) -> Any:
    response = item[0] if isinstance(item, tuple) else item
    if response.HasField("status_update"):
        return response.status_update.status.state
    if response.HasField("task"):
        return response.task.status.state
    return None


def _update(item: Any) -> Any:
    from google.protobuf.json_format import MessageToDict

    response = item[0] if isinstance(item, tuple) else item
    return MessageToDict(response)


def test_tokens_stream_as_artifact_chunks_with_append(http: httpx.Client) -> None:
    events = _rpc(http, "message/stream", _text("count to 20"))["events"]
    results = [event["result"] for event in events]
    assert results[0]["kind"] == "task"
    chunks = [r for r in results if r["kind"] == "artifact-update"]
    assert len(chunks) > 5
    assert chunks[0].get("append") in (None, False) and chunks[1]["append"] is True
    assert chunks[-1]["lastChunk"] is True
    text = "".join(p["text"] for c in chunks for p in c["artifact"]["parts"])
    assert text.strip().endswith("20")
    assert results[-1]["status"]["state"] == "completed"


def test_send_then_get_with_0_3_and_1_0_names(http: httpx.Client) -> None:
    task = _rpc(http, "message/send", _text("what is the weather in Paris?"))["result"]
    assert task["status"]["state"] == "completed"
    assert "Paris" in json.dumps(task["artifacts"])
    got = _rpc(http, "tasks/get", {"id": task["id"]})["result"]
    assert got["status"]["state"] == "completed"
    got = _rpc(http, "GetTask", {"id": task["id"]}, version="1.0")["result"]
    assert got["status"]["state"] == "TASK_STATE_COMPLETED"


def test_ids_in_another_uuid_spelling_name_the_same_task_and_context(http: httpx.Client) -> None:
    task = _rpc(http, "message/send", _text("hello there"))["result"]
    thread_id, run_id = task["id"].split(".")
    spelled = f"{thread_id.upper()}.{{{run_id}}}"  # upper case, braces: still these UUIDs
    got = _rpc(http, "tasks/get", {"id": spelled})["result"]
    assert got["id"] == task["id"] and got["status"]["state"] == "completed"
    follow = _rpc(http, "message/send", _text("hello again", contextId=f"urn:uuid:{thread_id}"))
    assert follow["result"]["contextId"] == thread_id  # the same thread, keyed canonically
    thread = http.get(f"/threads/{thread_id}").json()
    assert [m["content"] for m in thread["values"]["messages"] if m["type"] == "human"] == [
        "hello there", "hello again"]


def test_cancel_a_long_run_and_resubscribe(http: httpx.Client) -> None:
    task = _rpc(http, "message/send", {**_text("count to 100000"),
                                       "configuration": {"blocking": False}})["result"]
    replay = None
    with httpx.Client(base_url=http.base_url, headers=auth("alice"), timeout=30) as other:
        body = {"jsonrpc": "2.0", "id": 2, "method": "tasks/resubscribe",
                "params": {"id": task["id"]}}
        with other.stream("POST", "/a2a/agent", json=body) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: ") and '"artifact-update"' in line:
                    replay = json.loads(line[6:])
                    break
    assert replay is not None
    cancelled = _rpc(http, "tasks/cancel", {"id": task["id"]})["result"]
    assert cancelled["status"]["state"] == "canceled"
    again = _rpc(http, "tasks/cancel", {"id": task["id"]})
    assert again["error"]["code"] == -32002


def test_bob_cannot_see_cancel_or_resume_alices_task(http: httpx.Client) -> None:
    task = _rpc(http, "message/send", _text("send an email to ann@example.com"))["result"]
    assert task["status"]["state"] == "input-required"
    unknown = f"{task['contextId']}.{uuid.uuid4()}"
    for method, params in [("tasks/get", {"id": task["id"]}), ("tasks/cancel", {"id": task["id"]}),
                           ("message/send", _text("yes", taskId=task["id"]))]:
        bob = _rpc(http, method, params, user="bob")["error"]
        mine = _rpc(http, method, {**params, "id": unknown} if "id" in params
                    else _text("yes", taskId=unknown))["error"]
        assert bob["code"] == mine["code"] == -32001
        assert bob["message"].replace(task["id"], "X") == mine["message"].replace(unknown, "X")
    assert _rpc(http, "tasks/get", {"id": task["id"]})["result"]["status"]["state"] == (
        "input-required")


def test_a_resume_of_a_task_not_waiting_is_refused(http: httpx.Client) -> None:
    task = _rpc(http, "message/send", _text("what is 6 * 7?"))["result"]
    error = _rpc(http, "message/send", _text("more", taskId=task["id"]))["error"]
    assert error["code"] == -32004 and "completed" in error["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", -32700),
        (b'{"jsonrpc": "2.0", "method": "tasks/get"', -32700),
        (b'{"jsonrpc": "2.0", "id": 1}', -32600),
        (b'[1, 2]', -32600),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "tasks/get", "params": {}}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tasks/nope", "params": {}}', -32601),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}}', -32001),
    ],
)
def test_bad_json_rpc_is_an_error_object(http: httpx.Client, body: bytes, code: int) -> None:
    response = http.post("/a2a/agent", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    error = response.json()["error"]
    assert error["code"] == code
    assert "Traceback" not in json.dumps(error)


def test_wrong_params_are_invalid_params(http: httpx.Client) -> None:
    bad = _rpc(http, "SendMessage", {"message": {"messageId": "m", "parts": []}}, version="1.0")
    assert bad["error"]["code"] == -32602
    bad = _rpc(http, "SendMessage", {"message": "hi"}, version="1.0")
    assert bad["error"]["code"] == -32602


def test_the_a2a_version_header_picks_the_generation(http: httpx.Client) -> None:
    unversioned = _rpc(http, "GetTask", {"id": "x"})["error"]
    assert unversioned["code"] == -32009
    assert _rpc(http, "GetTask", {"id": "x"}, version="1.0")["error"]["code"] == -32001
    assert _rpc(http, "tasks/get", {"id": "x"}, version="0.3")["error"]["code"] == -32001


@pytest.mark.parametrize("method", ["tasks/get", "message/stream"])
def test_a_server_fault_is_a_bare_internal_error(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    async def broken(*args: Any) -> Any:
        raise RuntimeError("table arn:aws:dynamodb:us-east-1:123:table/app is on fire")

    monkeypatch.setattr(RunTasks, "read_task", broken)
    monkeypatch.setattr(RunTasks, "_launch", broken)
    params = {"id": f"{uuid.uuid4()}.{uuid.uuid4()}"} if method == "tasks/get" else _text("hi")
    answer = _rpc(http, method, params)
    (error,) = [e["error"] for e in answer["events"]] if "events" in answer else [answer["error"]]
    assert (error["code"], error["message"], error.get("data")) == (-32603, INTERNAL_ERROR, None)


def test_a_run_request_the_run_service_refuses_is_invalid_params(http: httpx.Client) -> None:
    # An assistant id longer than the API takes: the client's mistake, not a -32603.
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": _text("hi")}
    response = http.post(f"/a2a/{'a' * 300}", json=body)
    assert response.status_code == 200, response.text
    error = response.json()["error"]
    assert error["code"] == -32602 and "assistant_id" in error["message"], error
