"""Durable runs on moto (a stand-in executor, and once the real one): one execution per
attempt, continuations past the deadline with continuous ids, fencing by the lease, and
recovery of a run whose worker died."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.runtime import RunControl

from lambdagraph.agents import GraphRegistry
from lambdagraph.engine.durable import WORKER_LOST, DurableRuns
from lambdagraph.engine.executor import RunExecutor
from lambdagraph.engine.read_ahead import ReadAhead
from lambdagraph.engine.sinks import Sink
from lambdagraph.engine.timeouts import RunClock
from lambdagraph.engine.usage import UsageTracker
from lambdagraph.engine.worker import LambdaContext, handle_worker_event
from lambdagraph.errors import Unavailable
from lambdagraph.protocol.agent_events import frame
from lambdagraph.protocol.events import Event
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore
from lambdagraph.store.events import EventLog
from lambdagraph.store.leases import RunLeases
from lambdagraph.store.records import Run, RunStatus
from lambdagraph_client.local.invoker import LocalInvoker
from tests.conftest import Tables

OWNER = "user-1"


class StepExecutor:
    """Stands in for RunExecutor: ``steps`` supersteps of ``tokens`` events, each step taking
    ``step_seconds`` of work; drains between steps like LangGraph, resumes where it stopped."""

    def __init__(
        self, store: AppStore, *, steps: int, tokens: int, step_seconds: float = 0.0
    ) -> None:
        self.store = store
        self.steps = steps
        self.tokens = tokens
        self.step_seconds = step_seconds
        self.done: dict[str, int] = {}  # the "checkpoint": steps completed per run
        self.executions: list[dict[str, Any]] = []

    def read_ahead(self, thread_id: str) -> ReadAhead | None:
        return None  # no checkpoints to read

    async def execute(
        self,
        run: Run,
        sinks: Sequence[Sink],
        *,
        control: RunControl | None = None,
        usage: UsageTracker | None = None,
        clock: RunClock | None = None,
        read_ahead: ReadAhead | None = None,
    ) -> RunStatus:
        self.executions.append(dict(run["kwargs"]))
        run_id = run["run_id"]
        for sink in sinks:
            await sink.send([Event("metadata", {"run_id": run_id, "attempt": 1})])
        status: RunStatus = "success"
        while self.done.get(run_id, 0) < self.steps:
            if control is not None and control.drain_requested:
                status = "running"
                break
            step = self.done.get(run_id, 0)
            await asyncio.sleep(self.step_seconds)  # the step's work (a model call)
            for token in range(self.tokens):
                for sink in sinks:
                    await sink.send([Event("messages", [{"content": f"s{step}t{token}"}, {}])])
            self.done[run_id] = step + 1
            if usage is not None:  # one model call per step, one output token each
                usage.total["output_tokens"] += 1
                usage.total["total_tokens"] += 1
        if status == "success":
            await self.store.finish_run(run, "success", usage=usage.total if usage else None)
        for sink in sinks:
            await sink.close()
        return status


async def _setup(
    tables: Tables,
    executor_factory: Any,
    *,
    timeout: float = 900.0,
    margin: float = 60.0,
    lease: float = 30.0,
) -> tuple[DurableRuns, LocalInvoker, Run, Any]:
    store = AppStore(tables.app)
    executor = executor_factory(store)
    log = EventLog(tables.app)
    durable_box: list[DurableRuns] = []

    async def handler(event: dict[str, Any], context: LambdaContext) -> str:
        return await handle_worker_event(durable_box[0], event, context)

    invoker = LocalInvoker(handler, timeout_seconds=timeout)
    durable = DurableRuns(
        store,
        executor,
        log,
        RunLeases(tables.app, lease_seconds=lease),
        invoker,
        flush_interval=0.01,
        deadline_margin=margin,
    )
    durable_box.append(durable)
    thread = await store.create_thread(OWNER)
    run = await store.create_run(
        OWNER,
        thread_id=thread["thread_id"],
        assistant_id="agent",
        kwargs={"input": {"messages": []}, "stream_mode": ["messages-tuple"]},
    )
    return durable, invoker, run, executor


def _contents(events: list[Event]) -> list[str]:
    return [e.data[0]["content"] for e in events if e.event == "messages"]


async def test_a_duplicated_invocation_runs_the_run_once(tables: Tables) -> None:
    durable, invoker, run, executor = await _setup(
        tables, lambda store: StepExecutor(store, steps=3, tokens=4)
    )
    await durable.start_background(run)
    await invoker.invoke(
        {"kind": "run", "owner": OWNER, "thread_id": run["thread_id"], "run_id": run["run_id"]}
    )
    await invoker.wait_idle(30)
    assert len(executor.executions) == 1
    read = await durable.log.read_after(run["run_id"], -1)
    assert read.ended
    assert [int(e.id) for e in read.events] == list(range(13))
    assert (await durable.store.read_run(run))["status"] == "success"


async def test_a_run_longer_than_an_invocation_continues_with_continuous_ids(
    tables: Tables,
) -> None:
    # Each invocation may run 0.4 s and drains 0.3 s before that: ~2 steps of 0.05 s each,
    # so 8 steps need several invocations.
    durable, invoker, run, executor = await _setup(
        tables,
        lambda store: StepExecutor(store, steps=8, tokens=3, step_seconds=0.05),
        timeout=0.4,
        margin=0.3,
    )
    await durable.start_background(run)
    await invoker.wait_idle(60)
    assert len(invoker.invocations) >= 3
    assert "input" in executor.executions[0]
    assert all("input" not in kwargs for kwargs in executor.executions[1:])
    read = await durable.log.read_after(run["run_id"], -1)
    assert read.ended
    assert [int(e.id) for e in read.events] == list(range(len(read.events)))
    assert [e.event for e in read.events].count("metadata") == 1
    assert _contents(read.events) == [f"s{s}t{t}" for s in range(8) for t in range(3)]
    finished = await durable.store.read_run(run)
    assert finished["status"] == "success"
    # Usage covers every invocation, not only the last one.
    usage = finished.get("usage") or {}
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (0, 8, 8)


async def test_a_continuation_delivered_twice_runs_once(tables: Tables) -> None:
    durable, invoker, run, executor = await _setup(
        tables, lambda store: StepExecutor(store, steps=2, tokens=1)
    )
    await durable.leases.reserve(run["run_id"])
    assert await durable.leases.claim(run["run_id"], 1, "first")
    payload = {
        "kind": "continue",
        "owner": OWNER,
        "thread_id": run["thread_id"],
        "run_id": run["run_id"],
        "attempt": 2,
    }
    await invoker.invoke(payload)  # type: ignore[arg-type]
    await invoker.invoke(payload)  # type: ignore[arg-type]
    await invoker.wait_idle(30)
    assert len(executor.executions) == 1


async def test_a_run_whose_worker_stopped_renewing_is_recorded_as_failed(tables: Tables) -> None:
    durable, _, run, _ = await _setup(
        tables, lambda store: StepExecutor(store, steps=1, tokens=1), lease=0.05
    )
    await durable.leases.reserve(run["run_id"])
    assert await durable.leases.claim(run["run_id"], 1, "worker-that-dies")
    await durable.log.append(run["run_id"], [Event("metadata", {}, "0000000000")])
    lease = await durable.leases.get(run["run_id"])
    assert lease is not None
    deadline = time.monotonic() + 10
    while (await durable.recover(run))["status"] == "running":  # until the 50 ms lease lapses
        assert time.monotonic() < deadline, "the lapsed lease was never noticed"
        await asyncio.sleep(0.02)
    recovered = await durable.store.read_run(run)
    assert recovered["status"] == "error"
    read = await durable.log.read_after(run["run_id"], -1)
    assert read.ended and read.events[-1].event == "error" and read.events[-1].data == WORKER_LOST
    thread = await durable.store.get_thread(OWNER, run["thread_id"])
    assert thread["status"] == "error"
    # The dead worker, had it only been slow, can no longer renew: it is fenced off.
    assert not await durable.leases.renew(run["run_id"], 1)


async def test_a_lost_v2_run_fails_on_its_threads_stream_after_its_logged_frames(
    tables: Tables,
) -> None:
    durable, _, _, _ = await _setup(
        tables, lambda store: StepExecutor(store, steps=1, tokens=1), lease=0.05
    )
    thread = await durable.store.create_thread(OWNER)
    run = await durable.store.create_run(
        OWNER, thread_id=thread["thread_id"], assistant_id="agent",
        kwargs={"input": {"messages": []}, "protocol": "v2"},
    )
    await durable.leases.reserve(run["run_id"])
    assert await durable.leases.claim(run["run_id"], 1, "worker-that-dies")
    running = {"type": "event", "event_id": "1", "seq": 1, "method": "lifecycle",
               "params": {"namespace": [], "timestamp": 0, "data": {"event": "running"}}}
    await durable.thread_log.append(run["thread_id"], [Event("lifecycle", running, "1")])
    deadline = time.monotonic() + 10
    while (await durable.recover(run))["status"] == "running":  # until the 50 ms lease lapses
        assert time.monotonic() < deadline, "the lapsed lease was never noticed"
        await asyncio.sleep(0.02)

    frames = [e.data for e in (await durable.thread_log.read_after(run["thread_id"], 0)).events]
    assert [f["seq"] for f in frames] == [1, 2]
    failed = frames[-1]
    assert (failed["method"], failed["params"]["namespace"]) == ("lifecycle", [])
    assert failed["params"]["data"]["event"] == "failed"
    assert failed["params"]["data"]["error"] == WORKER_LOST["message"]


class FrameExecutor:
    """Stands in for RunExecutor on a v2 run: a root ``running`` frame, ``tokens`` message
    frames and the root ``completed`` one, then the run's end."""

    def __init__(self, store: AppStore, tokens: int) -> None:
        self.store = store
        self.tokens = tokens
        self.executions = 0

    async def execute(self, run: Run, sinks: Sequence[Sink], **_: Any) -> RunStatus:
        self.executions += 1
        data = [{"event": "running"}, *({"event": "delta"} for _ in range(self.tokens))]
        events = [Event("lifecycle" if i == 0 else "messages", frame(
            "lifecycle" if i == 0 else "messages", [], d)) for i, d in enumerate(data)]
        for sink in sinks:
            await sink.send([*events, Event("lifecycle", frame("lifecycle", [], {
                "event": "completed"}))])
            await sink.close()
        await self.store.finish_run(run, "success")
        return "success"


async def test_a_v2_run_reserved_with_its_record_runs_once_numbered_from_the_seq_it_was_handed(
    tables: Tables,
) -> None:
    durable, invoker, _, executor = await _setup(tables, lambda store: FrameExecutor(store, 2))
    thread_id = (await durable.store.create_thread(OWNER))["thread_id"]
    earlier = [frame("lifecycle", [], {"event": "completed"}) for _ in range(3)]
    await durable.thread_log.append(thread_id, [
        Event("lifecycle", {**f, "seq": i, "event_id": str(i)}, str(i))
        for i, f in enumerate(earlier, start=1)
    ])
    run = await durable.store.create_run(
        OWNER, thread_id=thread_id, assistant_id="agent",
        kwargs={"input": {"messages": []}, "protocol": "v2"}, lease_hold=300.0,
    )
    lease = await durable.leases.get(run["run_id"])
    assert lease is not None and (lease["attempt"], lease["holder"]) == (0, "reserved")
    last_seq_reads: list[str] = []
    durable.thread_log.client.meta.events.register(
        "before-call.dynamodb.Query",
        lambda params, **_: last_seq_reads.append("q")
        if params.get("ScanIndexForward") is False else None,
    )
    payload = {"kind": "run", "owner": OWNER, "thread_id": thread_id, "run_id": run["run_id"]}
    await durable.start_background(run, reserved=True, first_seq=4)
    await invoker.invoke({**payload, "first_seq": 4})  # delivered twice: runs once
    await invoker.wait_idle(30)

    assert executor.executions == 1
    frames = [e.data for e in (await durable.thread_log.read_after(thread_id, 0)).events]
    assert [f["seq"] for f in frames] == [1, 2, 3, 4, 5, 6, 7]
    assert frames[3]["params"]["data"] == {"event": "running"}
    assert last_seq_reads == []  # the worker took its first seq from the payload
    assert (await durable.store.read_run(run))["status"] == "success"


async def test_a_live_run_is_not_recovered(tables: Tables) -> None:
    durable, _, run, _ = await _setup(tables, lambda store: StepExecutor(store, steps=1, tokens=1))
    await durable.leases.reserve(run["run_id"])
    assert await durable.leases.claim(run["run_id"], 1, "alive")
    assert (await durable.recover(run))["status"] == "running"


class _BrokenInvoker:
    async def invoke(self, payload: object) -> None:
        raise ConnectionError("Lambda is unreachable")


async def test_a_run_whose_worker_cannot_be_invoked_fails_at_once(tables: Tables) -> None:
    durable, _, run, _ = await _setup(tables, lambda store: StepExecutor(store, steps=1, tokens=1))
    durable.invoker = _BrokenInvoker()
    with pytest.raises(Unavailable):
        await durable.start_background(run)
    assert (await durable.store.read_run(run))["status"] == "error"
    assert (await durable.store.get_thread(OWNER, run["thread_id"]))["status"] == "idle"
    assert (await durable.log.read_after(run["run_id"], -1)).ended


async def test_a_worker_that_lost_its_lease_stops_at_the_next_step_without_continuing(
    tables: Tables,
) -> None:
    durable, invoker, run, executor = await _setup(
        tables,
        lambda store: StepExecutor(store, steps=200, tokens=1, step_seconds=0.02),
        lease=0.09,
    )
    await durable.start_background(run)
    deadline = time.monotonic() + 10
    while await durable.log.last_seq(run["run_id"]) < 2:  # the worker is under way
        assert time.monotonic() < deadline, "the worker never started"
        await asyncio.sleep(0.02)
    # Another invocation takes attempt 2 (as recovery would after a lapse).
    assert await durable.leases.claim(run["run_id"], 2, "someone-else")
    await invoker.wait_idle(30)
    assert len(invoker.invocations) == 1  # no continuation was invoked
    assert executor.done[run["run_id"]] < 200
    assert (await durable.store.read_run(run))["status"] == "running"


async def test_duplicate_invocations_of_a_real_run_stream_its_tokens_once(tables: Tables) -> None:
    settings = Settings().replace(scripted_delay_ms=1)
    durable, invoker, _, _ = await _setup(
        tables,
        lambda store: RunExecutor(
            store, GraphRegistry.from_settings(settings), InMemorySaver(), cancel_poll_interval=0.05
        ),
    )
    thread = await durable.store.create_thread(OWNER)
    run = await durable.store.create_run(
        OWNER,
        thread_id=thread["thread_id"],
        assistant_id="agent",
        kwargs={
            "input": {"messages": [{"role": "user", "content": "count to 30"}]},
            "stream_mode": ["messages-tuple"],
        },
    )
    await durable.start_background(run)
    payload = {
        "kind": "run",
        "owner": OWNER,
        "thread_id": run["thread_id"],
        "run_id": run["run_id"],
    }
    for _ in range(3):  # Lambda's retries and duplicate deliveries
        await invoker.invoke(payload)  # type: ignore[arg-type]
    await invoker.wait_idle(30)
    read = await durable.log.read_after(run["run_id"], -1)
    assert read.ended
    assert [e.event for e in read.events].count("metadata") == 1
    assert "".join(_contents(read.events)).split() == [str(n) for n in range(1, 31)]
    assert (await durable.store.read_run(run))["status"] == "success"


class LeaseWatchingSink:
    """Collects events; at the first token, waits (with a deadline) until the run's lease
    is held, so the run is still executing while the lease is inspected."""

    def __init__(self, leases: RunLeases, run_id: str) -> None:
        self.leases = leases
        self.run_id = run_id
        self.events: list[Event] = []
        self.lease_while_running: Any = None

    async def send(self, events: Sequence[Event]) -> None:
        if self.lease_while_running is None and any(e.event == "messages" for e in events):
            deadline = time.monotonic() + 10
            while (lease := await self.leases.get(self.run_id)) is None or lease["attempt"] < 1:
                assert time.monotonic() < deadline, "the leased run never claimed its lease"
                await asyncio.sleep(0.01)
            self.lease_while_running = lease
        self.events.extend(events)

    async def close(self) -> None:
        return None


async def test_a_leased_run_holds_its_lease_while_it_executes_and_logs_nothing(
    tables: Tables,
) -> None:
    durable, _, run, _ = await _setup(tables, lambda store: StepExecutor(store, steps=2, tokens=2))
    sink = LeaseWatchingSink(durable.leases, run["run_id"])

    assert await durable.execute_leased(run, [sink]) == "success"

    assert _contents(sink.events) == ["s0t0", "s0t1", "s1t0", "s1t1"]
    assert sink.lease_while_running["holder"] == "http"
    assert sink.lease_while_running["attempt"] == 1
    assert await durable.log.last_seq(run["run_id"]) == -1
    finished = await durable.store.read_run(run)
    assert (await durable.recover(finished))["status"] == "success"
