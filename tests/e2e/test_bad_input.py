"""Every bad request gets the right 4xx with a clear ``detail``, and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth


@pytest.fixture
def http(shared_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_stack.url, headers=auth("alice"), timeout=30) as client:
        yield client


@pytest.fixture
def thread_id(http: httpx.Client) -> str:
    return str(http.post("/threads", json={}).json()["thread_id"])


def _detail(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"detail"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in body["detail"]
    return str(body["detail"])


def _unchanged(http: httpx.Client, thread_id: str) -> None:
    assert http.get(f"/threads/{thread_id}").json()["status"] == "idle"
    assert http.get(f"/threads/{thread_id}/runs").json() == []


RUN = {"assistant_id": "agent", "input": {"messages": []}}


@pytest.mark.parametrize("route", ["runs/stream", "runs/wait"])
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({**RUN, "stream_mode": ["values", "bogus"]}, "unknown stream mode 'bogus'"),
        ({**RUN, "stream_mode": 5}, "stream_mode"),
        ({**RUN, "config": "fast"}, "config: Input should be a valid dictionary"),
        ({**RUN, "stream_subgraphs": "yes"}, "stream_subgraphs"),
        ({**RUN, "multitask_strategy": "whatever"}, "multitask_strategy"),
        ({**RUN, "on_disconnect": "explode"}, "on_disconnect"),
        ({**RUN, "command": {"resume": 1, "bogus": 2}}, "command.bogus"),
        ({"assistant_id": "agent", "command": {"goto": {"x": 1}}}, "command.goto"),
        ({**RUN, "checkpoint": {"checkpoint_id": 5}}, "checkpoint_id must be a string"),
        (
            {**RUN, "config": {"configurable": {"checkpoint_ns": 5}}},
            "configurable.checkpoint_ns must be a string",
        ),
        ({"input": {"messages": []}}, "assistant_id: Field required"),
        ([RUN], "must be a JSON object"),
        ({**RUN, "timeout_seconds": 0}, "timeout_seconds: Input should be greater than 0"),
        ({**RUN, "timeout_seconds": -5}, "timeout_seconds: Input should be greater than 0"),
        ({**RUN, "timeout_seconds": "10"}, "timeout_seconds: Input should be a valid number"),
        ({**RUN, "timeout_seconds": True}, "timeout_seconds: Input should be a valid number"),
        ({**RUN, "timeout_seconds": 1e9}, "timeout_seconds: Input should be less than or equal"),
    ],
)
def test_invalid_run_bodies_are_422(
    http: httpx.Client, thread_id: str, route: str, body: Any, expected: str
) -> None:
    response = http.post(f"/threads/{thread_id}/{route}", json=body)

    assert response.status_code == 422
    assert expected in _detail(response)
    _unchanged(http, thread_id)


@pytest.mark.parametrize("minutes", [5e-324, 0, -1, 1e12])
def test_a_thread_ttl_out_of_range_is_422_and_creates_nothing(
    http: httpx.Client, minutes: float
) -> None:
    before = http.post("/threads/search", json={"limit": 1000}).json()

    response = http.post("/threads", json={"ttl": {"ttl": minutes, "strategy": "delete"}})

    assert response.status_code == 422
    assert "ttl.ttl: Input should be" in _detail(response)
    assert http.post("/threads/search", json={"limit": 1000}).json() == before


def test_invalid_json_is_422(http: httpx.Client, thread_id: str) -> None:
    response = http.post(
        f"/threads/{thread_id}/runs/stream",
        content=b'{"assistant_id": "agent",',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert _detail(response) == "Request body is not valid JSON"
    _unchanged(http, thread_id)


def test_missing_body_is_422(http: httpx.Client, thread_id: str) -> None:
    response = http.post(f"/threads/{thread_id}/runs/stream")

    assert response.status_code == 422
    assert _detail(response) == "Request body is required"


@pytest.mark.parametrize(
    "body", [{"before": {"checkpoint_id": 5}}, {"checkpoint": {"checkpoint_ns": 7}}]
)
def test_history_with_a_malformed_checkpoint_is_422(
    http: httpx.Client, thread_id: str, body: dict[str, Any]
) -> None:
    response = http.post(f"/threads/{thread_id}/history", json=body)

    assert response.status_code == 422
    assert "must be a string" in _detail(response)


def test_resume_without_a_thread_is_422(http: httpx.Client) -> None:
    response = http.post("/runs/stream", json={"assistant_id": "agent", "command": {"resume": 1}})

    assert response.status_code == 422
    assert "needs a thread" in _detail(response)


def test_malformed_ids_are_422(http: httpx.Client) -> None:
    for response in (
        http.get("/threads/not-a-uuid"),
        http.post("/threads", json={"thread_id": "not-a-uuid"}),
        http.get(f"/threads/{uuid.uuid4()}/runs/nope"),
    ):
        assert response.status_code == 422
        assert "must be a UUID" in _detail(response)


def test_unknown_things_are_404(http: httpx.Client, thread_id: str) -> None:
    missing = str(uuid.uuid4())

    responses = {
        "thread": http.get(f"/threads/{missing}"),
        "state": http.get(f"/threads/{missing}/state"),
        "stream": http.post(f"/threads/{missing}/runs/stream", json=RUN),
        "run": http.get(f"/threads/{thread_id}/runs/{missing}"),
        "cancel": http.post(f"/threads/{thread_id}/runs/{missing}/cancel"),
        "assistant": http.post(f"/threads/{thread_id}/runs/stream",
                               json={**RUN, "assistant_id": "no-such-graph"}),
        "route": http.get("/no/such/route"),
    }

    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(responses, 404)
    assert "no-such-graph" in _detail(responses["assistant"])
    _unchanged(http, thread_id)


def test_bad_query_parameters_are_422(http: httpx.Client, thread_id: str) -> None:
    run = str(uuid.uuid4())

    for response in (
        http.post(f"/threads/{thread_id}/runs/{run}/cancel", params={"action": "explode"}),
        http.post(f"/threads/{thread_id}/runs/{run}/cancel", params={"wait": "maybe"}),
        http.get(f"/threads/{thread_id}/runs", params={"limit": 0}),
    ):
        assert response.status_code == 422
        _detail(response)


def test_oversized_bodies_are_413(
    http: httpx.Client, shared_stack: LocalStack, thread_id: str
) -> None:
    padding = "x" * (shared_stack.settings.max_body_bytes + 1)

    response = http.post(
        f"/threads/{thread_id}/runs/stream",
        json={**RUN, "input": {"messages": [{"role": "user", "content": padding}]}},
    )

    assert response.status_code == 413
    assert "exceeds the limit" in _detail(response)
    _unchanged(http, thread_id)


def test_wrong_method_is_405_with_a_detail(http: httpx.Client) -> None:
    response = http.put("/threads")

    assert response.status_code == 405
    _detail(response)
