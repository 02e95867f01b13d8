"""What a run response's ``Location`` points to answers sensibly, for every kind of run."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth, user_message


@pytest.fixture
def http(shared_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_stack.url, headers=auth("alice"), timeout=30) as client:
        yield client


def test_the_location_of_a_plain_stream_answers_with_the_runs_values(http: httpx.Client) -> None:
    tid = http.post("/threads", json={}).json()["thread_id"]
    body = {"assistant_id": "agent", "input": user_message("count to 3")}
    with http.stream("POST", f"/threads/{tid}/runs/stream", json=body) as response:
        response.read()
    location = response.headers["location"]

    joined = http.get(location, headers={"Last-Event-ID": "-1"})

    assert joined.status_code == 200
    frames = [f for f in joined.text.split("\n\n") if f.startswith("event:")]
    assert len(frames) == 1 and frames[0].startswith("event: values\ndata: ")
    assert '"content":"1 2 3"' in frames[0]


@pytest.mark.parametrize("route", ["/runs/wait", "/runs/stream"])
def test_a_stateless_run_names_itself_but_points_to_nothing_to_rejoin(
    http: httpx.Client, route: str
) -> None:
    body = {"assistant_id": "agent", "input": user_message("count to 2")}
    with http.stream("POST", route, json=body) as response:
        response.read()

    assert response.status_code == 200
    assert "location" not in response.headers  # its records went with its temporary thread
    assert response.headers["content-location"].startswith("/threads/")
