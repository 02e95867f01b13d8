"""Per-user limits against the local stack, with real clients: active runs (also after a
killed server process) and requests per minute over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from lambdagraph.store import limits
from lambdagraph.store.leases import RunLeases
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.auth import TokenIsUser
from tests.conftest import Tables
from tests.e2e.conftest import DEADLINE, auth, stack_settings, user_message
from tests.e2e.dying import lease_lapsed, stack_process

MINUTE_START = 1_800_000_000.0  # a multiple of 60
LONG_RUN = user_message("count to 100000")
PACED: dict[str, Any] = {"stream_mode": "messages-tuple"}
"""Streamed tokens pace the scripted model, so a LONG_RUN is still going when cancelled
(a cancel of a run that already ended is a 404, as on LangGraph Server)."""


class Clock:
    """The clock of the stack's minute windows, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the request windows' clock (the stack runs in this process)."""
    fake = Clock(MINUTE_START + 30)
    monkeypatch.setattr(limits, "wall_clock", fake)
    return fake


@contextmanager
def limited_stack(tables: Tables, **limits: float) -> Iterator[LocalStack]:
    settings = stack_settings(tables, **limits)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


async def test_concurrent_runs_of_one_user_admit_exactly_the_limit(tables: Tables) -> None:
    # Slow runs under long leases: a loaded machine must not make a live run look dead
    # (recovery would rightly free its slot and admit another).
    with limited_stack(
        tables, max_active_runs_per_user=3, scripted_delay_ms=100, run_lease_seconds=300
    ) as stack:
        alice = get_client(url=stack.url, headers=auth("alice"))
        threads = [(await alice.threads.create())["thread_id"] for _ in range(8)]
        results = await asyncio.gather(
            *(alice.runs.create(t, "agent", input=LONG_RUN, **PACED) for t in threads),
            return_exceptions=True,
        )
        started = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(started) == 3
        for error in refused:
            assert isinstance(error, httpx.HTTPStatusError), error
            assert error.response.status_code == 429
            assert int(error.response.headers["Retry-After"]) >= 1
            assert "active runs" in error.response.json()["detail"]
        # Another user is not limited by alice's runs.
        bob = get_client(url=stack.url, headers=auth("bob"))
        bob_thread = await bob.threads.create()
        await bob.runs.create(bob_thread["thread_id"], "agent", input=LONG_RUN, **PACED)
        # A run that ends frees its slot.
        await alice.runs.cancel(started[0]["thread_id"], started[0]["run_id"], wait=True)
        await alice.runs.create(threads[-1], "agent", input=LONG_RUN, **PACED)


async def test_requests_past_the_minute_limit_get_429_until_the_next_minute(
    tables: Tables, clock: Clock
) -> None:
    with limited_stack(tables, requests_per_minute_per_user=3) as stack:
        async with httpx.AsyncClient(base_url=stack.url, timeout=DEADLINE) as http:
            thread = (await http.post("/threads", json={}, headers=auth("alice"))).json()
            await http.get(f"/threads/{thread['thread_id']}", headers=auth("alice"))
            # A run counts too (inside the write that records it).
            done = await http.post(
                f"/threads/{thread['thread_id']}/runs/wait",
                json={"assistant_id": "agent", "input": user_message("count to 2")},
                headers=auth("alice"),
            )
            assert done.status_code == 200
            for refused in (
                await http.get(f"/threads/{thread['thread_id']}", headers=auth("alice")),
                await http.post(
                    f"/threads/{thread['thread_id']}/runs/stream",
                    json={"assistant_id": "agent", "input": user_message("count to 2")},
                    headers=auth("alice"),
                ),
            ):
                assert refused.status_code == 429
                assert refused.headers["Retry-After"] == "30"
                assert "requests this minute" in refused.json()["detail"]
            # Health checks are not counted, and bob has a counter of his own.
            for _ in range(5):
                assert (await http.get("/ok")).status_code == 200
            assert (await http.post("/threads", json={}, headers=auth("bob"))).status_code == 200
            clock.now = MINUTE_START + 60
            again = await http.get(f"/threads/{thread['thread_id']}", headers=auth("alice"))
            assert again.status_code == 200


async def test_the_v2_routes_count_each_request_once(tables: Tables, clock: Clock) -> None:
    with limited_stack(tables, requests_per_minute_per_user=4) as stack:
        async with httpx.AsyncClient(base_url=stack.url, timeout=DEADLINE) as http:
            thread_id = (await http.post("/threads", json={}, headers=auth("alice"))).json()[
                "thread_id"
            ]
            commands = f"/threads/{thread_id}/commands"
            start = {
                "id": 1,
                "method": "run.start",
                "params": {"assistant_id": "agent", "input": user_message("count to 2")},
            }
            # A run.start counts once (in the write that records its run), a stream once.
            started = await http.post(commands, json=start, headers=auth("alice"))
            assert started.json()["type"] == "success"
            body = {"channels": ["lifecycle"]}
            async with http.stream(
                "POST", f"/threads/{thread_id}/stream/events", json=body, headers=auth("alice")
            ) as opened:
                assert opened.status_code == 200
            state = {"id": 2, "method": "state.get", "params": {}}
            assert (await http.post(commands, json=state, headers=auth("alice"))).json()[
                "type"
            ] == "success"
            # Four counted: the fifth request of the minute, of either route, is refused.
            for refused in (
                await http.post(commands, json={**start, "id": 3}, headers=auth("alice")),
                await http.post(
                    f"/threads/{thread_id}/stream/events", json=body, headers=auth("alice")
                ),
            ):
                assert refused.status_code == 429
                assert refused.headers["Retry-After"] == "30"


# The local stack in a process of its own (so the test can kill it), on the test's tables,
# with one-second leases and one active run per user; it prints its URL once it serves.
_SERVER_PROCESS = """
import json, sys, threading
from lambdagraph_client.local.server import running_stack
from tests.conftest import Tables
from tests.e2e.conftest import TokenIsUser, stack_settings
settings = stack_settings(
    Tables(**json.loads(sys.argv[1])), run_lease_seconds=1.0, max_active_runs_per_user=1
)
with running_stack(settings=settings, authenticator=TokenIsUser()) as stack:
    print(stack.url, flush=True)
    threading.Event().wait()
"""


async def _kill_mid_run(tables: Tables) -> tuple[str, str]:
    """Start alice's run on a server process, kill the process mid-stream: its thread and run."""
    async with stack_process(_SERVER_PROCESS, tables) as (_, url):
        dying = get_client(url=url, headers=auth("alice"))
        thread = await dying.threads.create()
        tokens = 0
        async for part in dying.runs.stream(
            thread["thread_id"], "agent", input=LONG_RUN, stream_mode="messages-tuple"
        ):
            if part.event == "metadata":
                run_id = part.data["run_id"]
            elif part.event == "messages":
                tokens += 1
            if tokens >= 20:  # still streaming: the process dies mid-run
                break
    assert run_id is not None
    return thread["thread_id"], run_id


async def test_a_killed_servers_run_does_not_keep_the_users_slot(tables: Tables) -> None:
    dead_thread, dead_run = await _kill_mid_run(tables)
    with limited_stack(tables, max_active_runs_per_user=1, run_lease_seconds=1.0) as stack:
        alice = get_client(url=stack.url, headers=auth("alice"))
        await lease_lapsed(RunLeases(tables.app), dead_run)
        # Nobody has looked at the dead run. A new run on another thread finds alice's one
        # slot held by it, recovers it (its lease lapsed) and is admitted.
        thread = await alice.threads.create()
        result = await alice.runs.wait(
            thread["thread_id"], "agent", input=user_message("count to 3")
        )
        assert isinstance(result, dict)
        assert result["messages"][-1]["content"].split()[-1] == "3"
        assert (await alice.runs.get(dead_thread, dead_run))["status"] == "error"
        # The dead run's thread takes runs again too, within the same one slot.
        again = await alice.runs.wait(dead_thread, "agent", input=user_message("count to 2"))
        assert isinstance(again, dict)
        assert again["messages"][-1]["content"].split()[-1] == "2"
