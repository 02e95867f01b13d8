"""A WebSocket run whose process dies mid-run: a ``subscribe`` ends with ``run.ended``
``error``, and a new ``run`` on its thread starts once the dead one is recovered."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from lambdagraph.store.leases import RunLeases
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import DEADLINE, stack_settings
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
    root = Path(__file__).resolve().parents[3]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "layers" / "lambdagraph"), str(root)]),
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SERVER_PROCESS,
        json.dumps(dataclasses.asdict(tables)),
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        url = (await asyncio.wait_for(server.stdout.readline(), DEADLINE)).decode().strip()
        assert url.startswith("ws://"), f"the server process did not start: {url!r}"
        socket = Socket(await websockets.connect(f"{url}?token=alice"))
        await socket.send(run_frame("count to 100000"))
        accepted = await socket.receive_type("run.accepted")
        await socket.receive_type("events")  # streaming: the process dies mid-run
        server.kill()
        await server.wait()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    return DeadRun(accepted["run_id"], accepted["thread_id"])


async def _lease_lapsed(leases: RunLeases, run_id: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while True:
        lease = await leases.get(run_id)
        assert lease is not None, "the run never took a lease"
        if lease["lease_until"] < time.time():
            return
        assert time.monotonic() < deadline, "the dead worker's lease never lapsed"
        await asyncio.sleep(min(0.2, lease["lease_until"] - time.time() + 0.01))


@pytest.fixture
async def dead(tables: Tables, stack: LocalStack) -> DeadRun:
    run = await _start_and_kill(tables)
    await _lease_lapsed(RunLeases(tables.app), run.run_id)
    return run


async def test_subscribing_to_a_dead_run_ends_with_error(
    dead: DeadRun, alice: Socket
) -> None:
    await alice.send({"action": "subscribe", "run_id": dead.run_id})
    messages = await alice.until_ended(dead.run_id)

    assert messages[-1] == {"v": 1, "type": "run.ended", "run_id": dead.run_id, "status": "error"}
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
