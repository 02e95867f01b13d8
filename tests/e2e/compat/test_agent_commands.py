"""v2 commands whose answers lambdagraph and ``langgraph dev`` share: ``run.start`` while a
run is active (``reject`` and ``interrupt``), ``agent.getTree`` on a thread with no run.

(LangGraph Server 0.16.7 answers ``state.*`` and ``input.inject`` with ``unknown_command``,
so those are tested against lambdagraph alone, in ``tests/e2e/test_agent_commands.py``.)
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.timeout(120)

_DEADLINE = 40.0


def command(http: httpx.Client, tid: str, method: str, params: dict[str, Any]) -> Any:
    response = http.post(
        f"/threads/{tid}/commands", json={"id": 4, "method": method, "params": params}
    )
    assert response.status_code == 200, response.text
    return response.json()


def statuses(http: httpx.Client, tid: str) -> dict[str, str]:
    return {run["run_id"]: run["status"] for run in http.get(f"/threads/{tid}/runs").json()}


def until(check: Any, what: str) -> None:
    deadline = time.monotonic() + _DEADLINE
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def start_slow(http: httpx.Client, seconds: float) -> tuple[str, str]:
    tid = str(uuid.uuid4())
    body = command(http, tid, "run.start", {"assistant_id": "slow", "input": {"seconds": seconds}})
    assert body["type"] == "success", body
    return tid, body["result"]["run_id"]


def test_reject_refuses_a_second_run_while_one_is_active(http: httpx.Client) -> None:
    # Longer than the 5 s langgraph dev waits, on a busy thread, for interrupts to settle.
    tid, first = start_slow(http, 9)
    second = {"assistant_id": "slow", "input": {"seconds": 0.1}, "multitaskStrategy": "reject"}
    body = command(http, tid, "run.start", second)
    assert body["type"] == "error" and body["id"] == 4
    assert body["error"] == "unknown_error"
    assert "is already running a task" in body["message"]
    assert list(statuses(http, tid)) == [first]
    http.post(f"/threads/{tid}/runs/{first}/cancel", params={"wait": "true"})


def test_interrupt_cancels_the_active_run_for_the_new_one(http: httpx.Client) -> None:
    tid, first = start_slow(http, 9)
    second = {"assistant_id": "slow", "input": {"seconds": 0.1}, "multitaskStrategy": "interrupt"}
    body = command(http, tid, "run.start", second)
    assert body["type"] == "success", body
    run_id = body["result"]["run_id"]
    until(lambda: statuses(http, tid).get(run_id) == "success", "the new run")
    assert statuses(http, tid) == {run_id: "success", first: "interrupted"}
    assert http.get(f"/threads/{tid}/state").json()["values"] == {"seconds": 0.1, "woke": True}


def test_the_tree_of_a_thread_without_a_run_is_no_such_run(http: httpx.Client) -> None:
    body = command(http, str(uuid.uuid4()), "agent.getTree", {})
    assert body["type"] == "error" and body["error"] == "no_such_run" and body["id"] == 4
