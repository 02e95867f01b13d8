"""A WebSocket run longer than the worker's timeout: one stream across invocations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lambdagraph.store.leases import RunLeases
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import short_lived_settings
from tests.e2e.ws.conftest import TokenIsUser, connect, events_of


@pytest.fixture
def short_lived_stack(tables: Tables) -> Iterator[LocalStack]:
    """A worker that times out after 1 s and drains 0.6 s before that."""
    with running_stack(
        settings=short_lived_settings(tables), authenticator=TokenIsUser()
    ) as running:
        yield running


async def test_subscribers_follow_a_run_across_worker_invocations(
    short_lived_stack: LocalStack, tables: Tables
) -> None:
    total = 20  # 20 steps of 0.12 s: 2.4 s of work, 2.4 times the 1 s function timeout
    starter = await connect(short_lived_stack)
    await starter.send(
        {
            "action": "run",
            "request_id": "long",
            "assistant_id": "steps",
            "input": {"total": total, "done": []},
            "stream_mode": ["custom", "values"],
        }
    )
    accepted = await starter.receive_type("run.accepted")
    first = await starter.receive_type("events")
    late = await connect(short_lived_stack)  # joins mid-run, after the first batch
    await late.send(
        {"action": "subscribe", "run_id": accepted["run_id"], "after": first["events"][-1]["id"]}
    )

    for socket, seen in ((starter, [first]), (late, [])):
        messages = seen + await socket.until_ended(accepted["run_id"])
        await socket.connection.close()
        assert messages[-1]["status"] == "success"
        events = events_of(messages)
        ids = [int(e["id"]) for e in events]
        assert ids == sorted(set(ids))
        steps = [e["data"]["step"] for e in events if e["event"] == "custom"]
        if socket is starter:
            assert ids == list(range(len(ids)))  # nothing merged here: every id, once
            assert steps == list(range(total))
            assert [e["event"] for e in events].count("metadata") == 1
        else:
            assert ids[0] == int(first["events"][-1]["id"]) + 1 and steps[-1] == total - 1
    lease = await RunLeases(tables.app).get(accepted["run_id"])
    assert lease is not None and lease["attempt"] >= 3, lease  # it did span invocations
