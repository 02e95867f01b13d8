"""The v2 thread commands against the local stack, over ``POST /threads/{tid}/commands``:
``run.start`` while a run is active (each multitask strategy, as LangGraph Server 0.16.7
answers them), ``state.get`` / ``state.listCheckpoints`` / ``state.fork``,
``input.inject`` and ``agent.getTree`` after real v2 runs."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lambdagraph_client.local.server import running_stack
from tests.auth import TokenIsUser
from tests.conftest import Tables
from tests.e2e.compat.conftest import COMPAT_GRAPHS
from tests.e2e.conftest import DEADLINE, auth, stack_settings

pytestmark = pytest.mark.timeout(90)

TREE_REFERENCE = json.loads(
    (Path(__file__).parents[1] / "unit" / "engine" / "agent_tree_nested.json").read_text()
)


@pytest.fixture(scope="module")
def url(aws_endpoint: str) -> Iterator[str]:
    """One stack for the module serving the demo ``agent``, ``nested`` and ``slow``."""
    suffix = uuid.uuid4().hex[:10]
    tables = Tables(checkpoints=f"checkpoints-{suffix}", app=f"app-{suffix}", bucket=f"cp-{suffix}")
    graphs = ",".join(f"{name}={target}" for name, target in COMPAT_GRAPHS.items())
    settings = stack_settings(tables, graphs=graphs)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running.url


def command(url: str, tid: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/threads/{tid}/commands", json={"id": 3, "method": method, "params": params},
        headers=auth("alice"), timeout=DEADLINE,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ok(url: str, tid: str, method: str, params: dict[str, Any]) -> Any:
    body = command(url, tid, method, params)
    assert body["type"] == "success", body
    return body["result"]


def rest(url: str, method: str, path: str, **kw: Any) -> Any:
    response = httpx.request(method, f"{url}{path}", headers=auth("alice"), timeout=DEADLINE,
                             **kw)
    assert response.status_code == 200, response.text
    return response.json()


def until(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while not (seen := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return seen


def runs_of(url: str, tid: str) -> dict[str, str]:
    return {r["run_id"]: r["status"] for r in rest(url, "GET", f"/threads/{tid}/runs")}


def idle(url: str, tid: str) -> None:
    until(lambda: rest(url, "GET", f"/threads/{tid}")["status"] == "idle", "an idle thread")


def start_slow(url: str, seconds: float) -> tuple[str, str]:
    tid = str(uuid.uuid4())
    run_id = ok(url, tid, "run.start", {"assistant_id": "slow", "input": {"seconds": seconds}})[
        "run_id"
    ]
    return tid, run_id


SECOND = {"assistant_id": "slow", "input": {"seconds": 0.1}}


# --- run.start while a run is active ----------------------------------------------------


def test_reject_refuses_the_second_run_and_the_first_goes_on(url: str) -> None:
    tid, first = start_slow(url, 20)
    body = command(url, tid, "run.start", {**SECOND, "multitaskStrategy": "reject"})
    assert body["type"] == "error" and body["error"] == "unknown_error"
    assert body["message"] == (
        f"Thread {tid} is already running a task. Wait for it to finish or choose a different"
        " multitask strategy."
    )
    assert runs_of(url, tid).keys() == {first}
    rest(url, "POST", f"/threads/{tid}/runs/{first}/cancel", params={"wait": "true"})


@pytest.mark.parametrize("strategy", ["interrupt", "rollback"])
def test_interrupt_and_rollback_cancel_the_active_run(url: str, strategy: str) -> None:
    tid, first = start_slow(url, 20)
    second = ok(url, tid, "run.start", {**SECOND, "multitaskStrategy": strategy})["run_id"]
    until(lambda: runs_of(url, tid).get(second) == "success", "the second run to succeed")
    # LangGraph Server also deletes a rolled-back run; our run service cancels it under
    # both strategies (as on the REST API).
    assert runs_of(url, tid) == {first: "interrupted", second: "success"}
    assert rest(url, "GET", f"/threads/{tid}/state")["values"] == {"seconds": 0.1, "woke": True}


@pytest.mark.parametrize("strategy", [{"multitaskStrategy": "enqueue"}, {}])
def test_enqueue_is_the_default_and_runs_after_the_active_run(url: str,
                                                              strategy: dict[str, str]) -> None:
    tid, first = start_slow(url, 1.0)
    second = ok(url, tid, "run.start", {**SECOND, **strategy})["run_id"]
    assert runs_of(url, tid)[second] == "pending"  # behind the first, which runs 1 s
    until(lambda: runs_of(url, tid) == {first: "success", second: "success"}, "both runs")


def test_an_unknown_strategy_is_refused_and_records_nothing(url: str) -> None:
    tid, first = start_slow(url, 20)
    body = command(url, tid, "run.start", {**SECOND, "multitaskStrategy": "later"})
    assert body["type"] == "error" and body["error"] == "invalid_argument"
    assert "multitaskStrategy must be one of reject, interrupt, rollback, enqueue" in (
        body["message"]
    )
    assert runs_of(url, tid).keys() == {first}
    rest(url, "POST", f"/threads/{tid}/runs/{first}/cancel", params={"wait": "true"})


# --- state, checkpoints, forks, the tree --------------------------------------------------


def nested_thread(url: str) -> str:
    tid = str(uuid.uuid4())
    ok(url, tid, "run.start", {"assistant_id": "nested", "input": {"trail": []}})
    idle(url, tid)
    return tid


def test_state_get_and_checkpoints_match_the_rest_api(url: str) -> None:
    tid = nested_thread(url)
    state = rest(url, "GET", f"/threads/{tid}/state")
    assert ok(url, tid, "state.get", {"namespace": []}) == {
        "values": state["values"],
        "checkpoint": {"id": state["checkpoint"]["checkpoint_id"], "ns": ""},
    }
    history = rest(url, "POST", f"/threads/{tid}/history", json={"limit": 10})
    checkpoints = ok(url, tid, "state.listCheckpoints", {})["checkpoints"]
    assert [c["id"] for c in checkpoints] == [h["checkpoint"]["checkpoint_id"] for h in history]
    assert [c["timestamp"] for c in checkpoints] == [h["created_at"] for h in history]
    assert [c.get("node_name") for c in checkpoints] == ["inner", "start", "__start__", None]


def test_a_fork_reruns_from_the_checkpoint_on_the_same_thread(url: str) -> None:
    tid = nested_thread(url)
    target = ok(url, tid, "state.listCheckpoints", {})["checkpoints"][1]["id"]  # after start
    fork = ok(url, tid, "state.fork", {"checkpoint_id": target})
    assert fork["thread_id"] == tid and fork["run_id"] in runs_of(url, tid)
    until(lambda: runs_of(url, tid).get(fork["run_id"]) == "success", "the fork")
    history = rest(url, "POST", f"/threads/{tid}/history", json={"limit": 10})
    # LangGraph branches off the target with a "fork" checkpoint, then runs on from it,
    # beside the original branch.
    fork_point, rerun = history[1], history[0]
    assert fork_point["metadata"]["source"] == "fork"
    assert fork_point["parent_checkpoint"]["checkpoint_id"] == target
    assert rerun["parent_checkpoint"]["checkpoint_id"] == fork_point["checkpoint"]["checkpoint_id"]
    assert rerun["values"] == {"trail": ["start:-", "step"]}
    assert len(history) == 6  # the original four and the branch's two
    missing = command(url, tid, "state.fork", {"checkpoint_id": str(uuid.uuid4())})
    assert missing["error"] == "no_such_checkpoint"


def test_inject_gives_the_agent_its_next_message(url: str) -> None:
    tid = str(uuid.uuid4())
    hello = {"messages": [{"role": "user", "content": "hello"}]}
    ok(url, tid, "run.start", {"assistant_id": "agent", "input": hello})
    idle(url, tid)
    message = {"role": "user", "content": "and one more thing"}
    assert ok(url, tid, "input.inject", {"namespace": [], "message": message}) == {}
    until(lambda: len(runs_of(url, tid)) == 2 and set(runs_of(url, tid).values()) == {"success"},
          "the injected run")
    messages = ok(url, tid, "state.get", {"namespace": [], "keys": ["messages"]})["values"][
        "messages"
    ]
    assert [m["type"] for m in messages] == ["human", "ai", "human", "ai"]
    assert messages[2]["content"] == "and one more thing"
    assert text_of(messages[3]) == "You said: and one more thing"


def text_of(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(block["text"] for block in content if block["type"] == "text")


def _without_task_ids(tree: dict[str, Any]) -> dict[str, Any]:
    return {
        **tree,
        "namespace": [segment.split(":")[0] for segment in tree["namespace"]],
        **({"children": [_without_task_ids(c) for c in tree["children"]]}
           if "children" in tree else {}),
    }


def test_the_agent_tree_of_a_run_is_the_reference_servers(url: str) -> None:
    tid = nested_thread(url)
    until(lambda: command(url, tid, "agent.getTree", {}).get("result", {}).get("tree", {})
          .get("status") == "completed", "the run's terminal lifecycle in the log")
    tree = ok(url, tid, "agent.getTree", {})["tree"]
    # The task id in the subgraph's namespace differs per run; the rest is LangGraph
    # Server's answer for the same graph.
    assert _without_task_ids(tree) == _without_task_ids(TREE_REFERENCE["tree"])
    [inner] = tree["children"]
    checkpoint_ns = inner["namespace"][0]
    assert ok(url, tid, "state.get", {"namespace": inner["namespace"]})["checkpoint"]["ns"] == (
        checkpoint_ns
    )
