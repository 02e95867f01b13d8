"""``/openapi.json`` describes what the server answers: real responses, success and error,
validated against it (status declared, content type, body schema), and its shape."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth, user_message

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
MISSING = str(uuid.UUID(int=1))
RUN = {"assistant_id": "agent", "input": user_message("hi")}


@pytest.fixture(scope="module")
def http(shared_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_stack.url, headers=auth("alice"), timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def document(http: httpx.Client) -> dict[str, Any]:
    answer = http.get("/openapi.json")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture(scope="module")
def api_schema(document: dict[str, Any]) -> BaseSchema:
    return schemathesis.openapi.from_dict(document)


@pytest.fixture(scope="module")
def thread_id(http: httpx.Client) -> str:
    return str(http.post("/threads", json={}).json()["thread_id"])


def check(api_schema: BaseSchema, template: str, response: httpx.Response) -> None:
    """Validate one real response against the operation it answered."""
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
    matched = re.fullmatch(pattern, response.request.url.path)
    assert matched, (template, response.request.url.path)
    operation = api_schema[template][response.request.method]
    case = operation.Case(path_parameters=matched.groupdict())
    case.validate_response(response, checks=CHECKS)


def test_every_error_is_one_declared_schema_and_no_validation_error_list(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ErrorResponse"]["properties"] == {
        "detail": {"title": "Detail", "type": "string"}
    }
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
            assert {"400", "413"} <= set(errors), (method, path)
            for status, response in errors.items():
                assert response["content"] == {"application/json": {"schema": ref}}, status


def test_stream_routes_declare_server_sent_events(document: dict[str, Any]) -> None:
    streams = [
        ("post", "/runs/stream"),
        ("post", "/threads/{thread_id}/runs/stream"),
        ("get", "/threads/{thread_id}/runs/{run_id}/stream"),
    ]
    for method, path in streams:
        ok = document["paths"][path][method]["responses"]["200"]
        assert list(ok["content"]) == ["text/event-stream"], path
        assert "404" in document["paths"][path][method]["responses"]


def test_successful_answers_match_the_document(
    http: httpx.Client, api_schema: BaseSchema, thread_id: str
) -> None:
    created = http.post("/threads", json={})
    check(api_schema, "/threads", created)
    check(api_schema, "/threads/{thread_id}", http.get(f"/threads/{thread_id}"))
    check(api_schema, "/threads/search", http.post("/threads/search", json={}))
    check(api_schema, "/threads/{thread_id}/state", http.get(f"/threads/{thread_id}/state"))
    streamed = http.post(f"/threads/{thread_id}/runs/stream", json=RUN)
    assert streamed.status_code == 200
    check(api_schema, "/threads/{thread_id}/runs/stream", streamed)
    waited = http.post(f"/threads/{thread_id}/runs/wait", json=RUN)
    check(api_schema, "/threads/{thread_id}/runs/wait", waited)
    [run, *_] = http.get(f"/threads/{thread_id}/runs").json()
    run_path = f"/threads/{thread_id}/runs/{run['run_id']}"
    check(api_schema, "/threads/{thread_id}/runs/{run_id}", http.get(run_path))
    check(api_schema, "/threads/{thread_id}/runs/{run_id}/join", http.get(f"{run_path}/join"))
    ended = http.post(f"{run_path}/cancel")
    assert ended.status_code == 404  # the run had ended: nothing to stop (LangGraph's answer)
    check(api_schema, "/threads/{thread_id}/runs/{run_id}/cancel", ended)
    long = {**RUN, "input": user_message("count to 100000"), "stream_mode": "messages-tuple"}
    going = http.post(f"/threads/{thread_id}/runs", json=long).json()
    going_path = f"/threads/{thread_id}/runs/{going['run_id']}"
    cancelled = http.post(f"{going_path}/cancel")
    assert cancelled.status_code == 202
    check(api_schema, "/threads/{thread_id}/runs/{run_id}/cancel", cancelled)
    http.get(f"{going_path}/join")
    deleted_run = http.delete(going_path)
    assert deleted_run.status_code == 204
    check(api_schema, "/threads/{thread_id}/runs/{run_id}", deleted_run)
    batch = http.post("/runs/batch", json=[long])
    check(api_schema, "/runs/batch", batch)
    bulk = http.post("/runs/cancel", json={"status": "all"})
    assert bulk.status_code == 204
    check(api_schema, "/runs/cancel", bulk)
    check(api_schema, "/assistants/search", http.post("/assistants/search", json={}))
    check(api_schema, "/assistants/{assistant_id}", http.get("/assistants/agent"))
    deleted = http.delete(f"/threads/{created.json()['thread_id']}")
    assert deleted.status_code == 204
    check(api_schema, "/threads/{thread_id}", deleted)
    check(api_schema, "/ok", http.get("/ok"))


@pytest.mark.parametrize(
    ("template", "method", "path", "kwargs", "status"),
    [
        ("/threads/{thread_id}", "GET", f"/threads/{MISSING}", {}, 404),
        ("/threads/{thread_id}", "GET", "/threads/not-a-uuid", {}, 422),
        ("/threads", "POST", "/threads", {"json": {"if_exists": "maybe"}}, 422),
        ("/threads", "POST", "/threads", {"content": b"\x80abc", "headers": {}}, 422),
        ("/threads/search", "POST", "/threads/search", {"content": b"{", "headers": {}}, 422),
        ("/runs/stream", "POST", "/runs/stream", {"json": {"assistant_id": "nope"}}, 404),
        ("/runs/stream", "POST", "/runs/stream", {"json": {"input": {}}}, 422),
        ("/runs/wait", "POST", "/runs/wait", {"json": {"assistant_id": "nope"}}, 404),
        ("/threads/{thread_id}/runs/{run_id}/stream", "GET",
         f"/threads/{MISSING}/runs/{MISSING}/stream", {}, 404),
        ("/threads/search", "POST", "/threads/search",
         {"content": b"x" * (7 * 1024 * 1024), "headers": {}}, 413),
    ],
)
def test_error_answers_match_the_document(
    http: httpx.Client,
    api_schema: BaseSchema,
    template: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    headers = {"content-type": "application/json", **kwargs.pop("headers", {})}
    response = http.request(method, path, headers=headers if "content" in kwargs else None,
                            **kwargs)
    assert response.status_code == status, response.text
    check(api_schema, template, response)


def test_a_missing_credential_is_a_declared_401(
    shared_stack: LocalStack, api_schema: BaseSchema
) -> None:
    response = httpx.get(f"{shared_stack.url}/threads/{MISSING}", timeout=30)
    assert response.status_code == 401
    check(api_schema, "/threads/{thread_id}", response)


def test_a_conflict_is_a_declared_409(
    http: httpx.Client, api_schema: BaseSchema, thread_id: str
) -> None:
    response = http.post("/threads", json={"thread_id": thread_id})
    assert response.status_code == 409
    check(api_schema, "/threads", response)
