"""Run time limits: which limit applies, a clock that survives continuations, the event."""

from __future__ import annotations

import time

from lambdagraph.engine.invoker import parse_payload
from lambdagraph.engine.timeouts import RUN_TIMEOUT, RunClock, time_limit, timeout_event
from lambdagraph.store.records import RunKwargs


def test_a_run_s_own_limit_overrides_the_server_default() -> None:
    own: RunKwargs = {"timeout_seconds": 30.0}
    unset: RunKwargs = {"timeout_seconds": None}

    assert time_limit(own, 600.0) == 30.0
    assert time_limit(own, 0.0) == 30.0
    assert time_limit(unset, 600.0) == 600.0
    assert time_limit({}, 0.0) == 0.0  # no limit anywhere


def test_a_clock_starts_once_and_a_carried_start_is_kept() -> None:
    fresh = RunClock()
    first = fresh.start()
    assert fresh.start() == first and fresh.started_at == first

    carried = RunClock(started_at=time.time() - 100)
    assert carried.left(30) < 0  # 100 s in, a 30 s limit is already over
    assert 0 < carried.left(1000) <= 900


def test_a_continuation_carries_the_run_s_start() -> None:
    base = {"kind": "continue", "owner": "o", "thread_id": "t", "run_id": "r", "attempt": 2}

    carried = parse_payload({**base, "started_at": 1700000000.5})
    assert carried["kind"] == "continue" and carried.get("started_at") == 1700000000.5
    assert "started_at" not in parse_payload({**base, "started_at": "soon"})
    assert "started_at" not in parse_payload(base)


def test_the_timeout_event_names_its_type_and_the_limit() -> None:
    event = timeout_event(2.5)

    assert event.event == "error"
    assert event.data["error"] == RUN_TIMEOUT == "RunTimeout"
    assert "2.5 s" in event.data["message"]
