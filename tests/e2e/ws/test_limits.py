"""Per-user limits over the WebSocket: ``rate_limited`` errors, and the connection stays open."""

from __future__ import annotations

import pytest

from lambdagraph.settings import Settings
from lambdagraph.store import limits
from tests.conftest import Tables
from tests.e2e.conftest import stack_settings
from tests.e2e.test_limits import MINUTE_START, Clock
from tests.e2e.ws.conftest import Socket, run_frame


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(MINUTE_START + 50)
    monkeypatch.setattr(limits, "wall_clock", fake)
    return fake


@pytest.fixture
def settings(tables: Tables, clock: Clock) -> Settings:
    return stack_settings(
        tables, scripted_delay_ms=5, max_active_runs_per_user=1, requests_per_minute_per_user=4
    )


async def test_limits_answer_rate_limited_and_keep_the_connection(
    alice: Socket, clock: Clock
) -> None:
    await alice.send(run_frame("count to 100000", request_id="long"))
    accepted = await alice.receive_type("run.accepted")
    # A second run while the first is active: refused for the active-run limit.
    await alice.send(run_frame("count to 3", request_id="second"))
    refused = await alice.receive_type("error")
    assert refused["code"] == "rate_limited"
    assert refused["request_id"] == "second"
    assert "active runs" in refused["message"]
    for _ in range(3):  # with the run, four requests this minute
        await alice.send({"action": "ping"})
        await alice.receive_type("pong")
    await alice.send({"action": "ping"})
    over = await alice.receive_type("error")
    assert over["code"] == "rate_limited"
    assert "retry in 10 s" in over["message"]
    # The next minute, the same connection is served again.
    clock.now = MINUTE_START + 60
    await alice.send({"action": "ping"})
    await alice.receive_type("pong")
    # Cancelling the active run frees its slot: a new run is accepted.
    await alice.send({"action": "cancel", "run_id": accepted["run_id"]})
    ended = await alice.receive_type("run.ended")
    assert ended["status"] == "interrupted"
    await alice.send(run_frame("count to 3", request_id="third"))
    third = await alice.receive_type("run.accepted")
    assert third["request_id"] == "third"
    assert (await alice.receive_type("run.ended"))["run_id"] == third["run_id"]
