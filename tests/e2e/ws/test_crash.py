"""A WebSocket run whose process dies mid-run: a ``subscribe`` ends with ``run.ended``
``error``, and a new ``run`` on its thread starts once the dead one is recovered."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import websockets

from lambdagraph.store.leases import RunLeases
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import stack_settings
from tests.e2e.dying import kill, lease_lapsed, stack_process
from tests.e2e.ws.conftest import Socket, TokenIsUser, events_of, run_frame

# The local stack in a process of its own (so the test can kill it, worker and all), on the
# test's tables, with one-second leases; it prints its WebSocket URL once it serves.
_SERVER_PROCESS = """
import json, sys, threading
from lambdagraph_client.local.server import running_stack
from tests.conftest import Tables
from tests.e2e.conftest import stack_settings
from tests.e2e.ws.conftest import TokenIsUser
settings = stack_settings(Tables(**json.loads(sys.argv[1])), run_lease_seconds=1.0)
with running_stack(settings=settings, authenticator=TokenIsUser()) as stack:
    print(stack.ws_url, flush=True)
    threading.Event().wait()
"""


@pytest.fixture
def stack(tables: Tables) -> Iterator[LocalStack]:
    """The stack that survives, with the dying one's lease length."""
    settings = stack_settings(tables, run_lease_seconds=1.0, scripted_delay_ms=5)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


@dataclasses.dataclass(frozen=True)
class DeadRun:
    run_id: str
    thread_id: str


async def _start_and_kill(tables: Tables) -> DeadRun:
    """Start a long WebSocket run on a stack of its own, then kill that stack mid-run."""
    async with stack_process(_SERVER_PROCESS, tables) as (server, url):
        assert url.startswith("ws://")
        socket = Socket(await websockets.connect(f"{url}?token=alice"))
        await socket.send(run_frame("count to 100000"))
        accepted = await socket.receive_type("run.accepted")
        await socket.receive_type("events")  # streaming: the process dies mid-run
        await kill(server)
    return DeadRun(accepted["run_id"], accepted["thread_id"])


@pytest.fixture
async def dead(tables: Tables, stack: LocalStack) -> DeadRun:
    run = await _start_and_kill(tables)
    await lease_lapsed(RunLeases(tables.app), run.run_id)
    return run


async def test_subscribing_to_a_dead_run_ends_with_error(dead: DeadRun, alice: Socket) -> None:
    await alice.send({"action": "subscribe", "run_id": dead.run_id})
    messages = await alice.until_ended(dead.run_id)

    ended = {k: v for k, v in messages[-1].items() if k != "usage"}
    assert ended == {"v": 1, "type": "run.ended", "run_id": dead.run_id, "status": "error"}
    # What the dead worker logged before it died (maybe nothing yet), then recovery's error.
    events = events_of(messages)
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(set(ids))
    assert events[-1]["event"] == "error" and events[-1]["data"]["error"] == "WorkerLost"


async def test_a_run_on_the_dead_runs_thread_starts_after_recovery(
    dead: DeadRun, alice: Socket
) -> None:
    frame = run_frame(
        "count to 3", "after-crash", thread_id=dead.thread_id, multitask_strategy="reject"
    )
    await alice.send(frame)
    accepted = await alice.receive_type("run.accepted")
    ended = (await alice.until_ended(accepted["run_id"]))[-1]

    assert accepted["thread_id"] == dead.thread_id and accepted["run_id"] != dead.run_id
    assert ended["status"] == "success"
    await alice.send({"action": "subscribe", "run_id": dead.run_id})
    assert (await alice.until_ended(dead.run_id))[-1]["status"] == "error"
