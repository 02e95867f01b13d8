"""Durable runs: executed under a lease, logged event by event, continued past a deadline.

:class:`DurableRuns` wraps the executor for every run whose events must outlive the
connection that watches it: background runs and WebSocket runs (executed by the worker),
and ``stream_resumable`` runs (executed by the HTTP process that streams them). Other
streamed runs only hold a lease (:meth:`DurableRuns.execute_leased`), so that a crash under
them is recovered too.

* **Exactly one executor per attempt.** The run's lease item is claimed attempt by attempt
  with a conditional write, so a retried or duplicated invocation does nothing.
* **Event log.** Events are numbered by a :class:`SequencedSink` (the one place run
  events get ids) and written in batches by an
  :class:`EventLogSink`; ids continue across attempts; an end marker closes the log.
* **Deadline.** Before the Lambda deadline (minus a margin) the graph is asked to drain: it
  stops at the next superstep boundary with its checkpoint saved, the run stays ``running``
  and a continuation (``kind: "continue"``) picks it up from that checkpoint.
* **Crash recovery.** The holder renews its lease while it works. A ``running`` run whose
  lease expired lost its worker: :meth:`DurableRuns.recover` records it as ``error`` (with an
  ``error`` event in its log) and frees its thread; the thread keeps every checkpoint, so a
  new run with no input resumes from the last completed step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Final, Protocol

from langgraph.runtime import RunControl

from lambdagraph.engine.invoker import (
    ContinuePayload,
    Invoker,
    RunPayload,
    WorkerPayload,
)
from lambdagraph.engine.read_ahead import ReadAhead
from lambdagraph.engine.resumable import EventLogSink, SequencedSink
from lambdagraph.engine.sinks import Sink
from lambdagraph.engine.thread_hub import THREAD_HUB, ThreadHub
from lambdagraph.engine.thread_log import ThreadFrameSink
from lambdagraph.engine.timeouts import RunClock
from lambdagraph.engine.usage import UsageTracker, usage_tracker
from lambdagraph.errors import (
    ConfigurationError,
    InvalidInput,
    LambdagraphError,
    NotFound,
    Unavailable,
)
from lambdagraph.observability import metrics, run_keys
from lambdagraph.protocol.events import Event
from lambdagraph.store.app import AppStore
from lambdagraph.store.events import EventLog, format_event_id
from lambdagraph.store.leases import RunLeases
from lambdagraph.store.records import FINAL_RUN_STATUSES, Run, RunStatus, run_graph_id

if TYPE_CHECKING:
    from lambdagraph.engine.erase import ThreadEraser

logger = logging.getLogger(__name__)

WORKER_LOST: Final = {
    "error": "WorkerLost",
    "message": "The worker executing this run stopped unexpectedly. The thread keeps its last "
    "checkpoint: start a new run without input to continue from it.",
}

# Kwargs that start a run rather than continue it: a continuation resumes from the thread's
# latest checkpoint, so it must not feed the input again nor rewind to a checkpoint id.
_STARTING_KWARGS: Final = ("input", "command", "checkpoint_id")


class Executor(Protocol):
    """What :class:`DurableRuns` needs of ``RunExecutor``."""

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
        """Execute the run; ``"running"`` when it drained at a checkpoint (``control``)."""
        ...

    def read_ahead(self, thread_id: str) -> ReadAhead | None:
        """Start reading the thread's latest checkpoint for a run about to be recorded."""
        ...


class DurableRuns:
    """Executes runs whose events are logged, under a lease, across invocations.

    Args:
        store: threads and runs.
        executor: drives the graphs; ``None`` in a process that never executes a run (the
            ``ws`` function only records runs and hands them to the worker).
        log: the event log.
        leases: worker leases.
        invoker: starts worker invocations (background runs, continuations); ``None`` where
            no worker is deployed (resumable streams still work, background runs do not).
        flush_interval: seconds events wait before one batched log write.
        deadline_margin: seconds before the Lambda deadline at which a worker drains.
        handoff_seconds: how long a handed-over run (new, or continuing) may wait for its
            worker before it counts as lost; covers async-invocation queueing and retries.
        worker_sinks: more sinks for every run this process executes (the WebSocket
            fan-out), given the run; they receive the same events as the run's stream.
        eraser: erases deleted threads (``erase`` payloads); ``None`` in a process that
            never erases (the ``ws`` function).
        hub: where a v2 run's frames go live in this process (default: the process's).
    """

    def __init__(
        self,
        store: AppStore,
        executor: Executor | None,
        log: EventLog,
        leases: RunLeases,
        invoker: Invoker | None,
        *,
        flush_interval: float = 0.1,
        deadline_margin: float = 60.0,
        handoff_seconds: float = 300.0,
        worker_sinks: Callable[[Run], Awaitable[Sequence[Sink]]] | None = None,
        eraser: ThreadEraser | None = None,
        hub: ThreadHub = THREAD_HUB,
    ) -> None:
        self.store = store
        self.thread_log = log.for_threads()
        self.hub = hub
        self.executor = executor
        self.log = log
        self.leases = leases
        self.invoker = invoker
        self.flush_interval = flush_interval
        self.deadline_margin = deadline_margin
        self.handoff_seconds = handoff_seconds
        self.worker_sinks = worker_sinks
        self.eraser = eraser

    async def _more_sinks(self, run: Run) -> Sequence[Sink]:
        return await self.worker_sinks(run) if self.worker_sinks is not None else []

    def _executor(self) -> Executor:
        if self.executor is None:
            raise ConfigurationError("This process executes no runs: it has no executor")
        return self.executor

    async def start_background(
        self, run: Run, *, reserved: bool = False, first_seq: int | None = None
    ) -> None:
        """Hand a recorded run to a worker invocation.

        Args:
            run: the recorded run.
            reserved: its lease was reserved with the run's record (``AppStore.create_run``'s
                ``lease_hold``, for :attr:`handoff_seconds`); else it is reserved here first.
            first_seq: a v2 run recorded ``running``: the ``seq`` of its first frame, which
                the worker then takes from the payload instead of reading the thread log.

        Raises:
            Unavailable: the worker could not be invoked (the run is recorded as failed).
        """
        if not reserved:
            await self.leases.reserve(run["run_id"], hold=self.handoff_seconds)
        payload: RunPayload = {
            "kind": "run",
            "owner": run["owner"],
            "thread_id": run["thread_id"],
            "run_id": run["run_id"],
        }
        if first_seq is not None:
            payload["first_seq"] = first_seq
        try:
            await self._invoke(payload)
        except Exception as exc:
            _run_log(run).exception("Could not invoke the worker")
            await self.log.mark_end(run["run_id"], -1)
            await self.store.finish_run(run, "error", thread_status="idle")
            if isinstance(exc, LambdagraphError):
                raise
            raise Unavailable("The run could not be started; try again") from exc

    async def execute_here(
        self, run: Run, sinks: Sequence[Sink], *, deadline: float | None = None
    ) -> RunStatus:
        """Execute a ``stream_resumable`` run in this process, logging its events.

        The live ``sinks`` receive the same numbered events as the log, so the ``id:`` lines
        a client sees are the ids it can resume from.

        Args:
            run: the recorded run.
            sinks: the live stream(s).
            deadline: when this process will be stopped (``time.monotonic()`` clock). With a
                worker to hand over to, the run drains ``deadline_margin`` before it and a
                worker continues it; the live stream then ends and the client rejoins.

        Returns:
            The final status, or ``"running"`` when a worker continues the run.
        """
        await self.leases.reserve(run["run_id"], hold=self.handoff_seconds)
        if not await self.leases.claim(run["run_id"], 1, holder="http"):
            raise InvalidInput(f"Run {run['run_id']} is already executing")
        drain_at = None
        if deadline is not None and self.invoker is not None:
            drain_at = deadline - self.deadline_margin
        more, first_seq = await asyncio.gather(self._more_sinks(run), self._first_seq(run))
        return await self._execute(run, 1, [*sinks, *more], deadline=drain_at, first_seq=first_seq)

    def read_ahead(self, thread_id: str) -> ReadAhead | None:
        """Start reading ``thread_id``'s latest checkpoint beside recording a run (None when
        this process executes no runs or its saver does not fence)."""
        return self.executor.read_ahead(thread_id) if self.executor is not None else None

    async def execute_leased(
        self, run: Run, sinks: Sequence[Sink], *, read_ahead: ReadAhead | None = None
    ) -> RunStatus:
        """Execute a run streamed by this process (not logged) while holding its lease.

        The lease is what :meth:`recover` checks, so a run whose process dies mid-run (a
        Lambda timeout, OOM, crash) is found and its thread freed. It is claimed beside the
        execution rather than before it: no lease write delays the first token.
        ``read_ahead``: see :meth:`RunExecutor.execute`.
        """
        control = RunControl()
        guards = [asyncio.create_task(self._claim_and_keep(run["run_id"], control))]
        if run["status"] == "pending":
            guards.append(asyncio.create_task(self._recover_ahead(run)))
        try:
            live = [*sinks, *await self._more_sinks(run)]
            return await self._executor().execute(
                run, live, control=control, read_ahead=read_ahead
            )
        finally:
            await _stop(guards)

    async def recover_active(self, owner: str, thread_id: str) -> bool:
        """Recover the active run of a busy thread if its lease lapsed.

        Returns:
            True if the thread's run has ended (recovered now, or freed meanwhile), so
            starting a run is worth another try.

        Raises:
            ThreadNotFound: unknown or another user's thread.
        """
        thread = await self.store.get_thread(owner, thread_id)
        active = thread.get("active_run_id")
        if not active:
            return True  # freed meanwhile: worth another try
        try:
            run = await self.store.get_run(owner, thread_id, active)
        except NotFound:
            return False
        return (await self.recover(run))["status"] in FINAL_RUN_STATUSES

    async def handle(
        self, payload: RunPayload | ContinuePayload, remaining_ms: Callable[[], int], holder: str
    ) -> str:
        """Worker entry: execute (or continue) the payload's run if this attempt is ours.

        Args:
            payload: a ``run`` or ``continue`` payload.
            remaining_ms: the Lambda context's ``get_remaining_time_in_millis``.
            holder: the invocation's request id, recorded on the lease.

        Returns:
            What happened: ``duplicate``, ``gone``, ``finished`` (already final), a final run
            status, or ``continued`` (drained and handed to a continuation).
        """
        attempt = 1 if payload["kind"] == "run" else payload["attempt"]
        run_id = payload["run_id"]
        # The claim and the read are independent round trips: made at once, they cost one
        # before the first token. The read is only used once the claim is ours.
        claimed, found = await asyncio.gather(
            self.leases.claim(run_id, attempt, holder),
            self.store.get_run(payload["owner"], payload["thread_id"], run_id),
            return_exceptions=True,
        )
        if isinstance(claimed, BaseException):
            raise claimed
        if not claimed:
            _run_log(payload).info("Attempt %s is already taken; nothing to do", attempt)
            metrics().count("WorkerRetries")  # a retried or duplicated delivery
            return "duplicate"
        if isinstance(found, NotFound):
            return "gone"
        if isinstance(found, BaseException):
            raise found
        run = found
        if run["status"] in FINAL_RUN_STATUSES:
            return "finished"
        deadline = time.monotonic() + remaining_ms() / 1000 - self.deadline_margin
        clock = RunClock(payload.get("started_at") if payload["kind"] == "continue" else None)
        known = payload.get("first_seq") if payload["kind"] == "run" else None
        first_seq: int | None
        if known is not None and run["kwargs"].get("protocol") == "v2":
            # Read by whoever recorded the run, once the run held the thread: nothing has
            # written the thread log since (the run still holds it).
            live, first_seq = await self._more_sinks(run), known
        else:
            live, first_seq = await asyncio.gather(self._more_sinks(run), self._first_seq(run))
        status = await self._execute(
            run, attempt, live, deadline=deadline, clock=clock, first_seq=first_seq
        )
        return "continued" if status == "running" else status

    async def _first_seq(self, run: Run) -> int | None:
        """A v2 run's first frame ``seq`` (``None`` for a v1 run)."""
        if run["kwargs"].get("protocol") != "v2":
            return None
        return await self._thread_start(run)

    async def _thread_start(self, run: Run) -> int:
        """The thread log's last ``seq`` plus one."""
        return await self.thread_log.last_seq(run["thread_id"]) + 1

    async def recover(self, run: Run) -> Run:
        """Record a ``running`` run whose worker died as ``error``; other runs come back as is."""
        if run["status"] != "running":
            return run
        lease = await self.leases.get(run["run_id"])
        if lease is None or lease["lease_until"] >= time.time():
            return run
        if not await self.leases.take_over_stale(run["run_id"], lease, holder="recovery"):
            return await self.store.read_run(run)
        _run_log(run).warning(
            "Run lost its worker (attempt %s, lease held by %s); recording it as failed",
            lease["attempt"],
            lease["holder"],
        )
        if run["kwargs"].get("protocol") == "v2":
            await self._fail_in_thread_log(run)
        seq = await self.log.last_seq(run["run_id"]) + 1
        await self.log.append(run["run_id"], [Event("error", WORKER_LOST, format_event_id(seq))])
        await self.log.mark_end(run["run_id"], seq)
        await self.store.finish_run(run, "error", thread_status="error")
        metrics().count("RunsRecovered")
        return await self.store.read_run(run)

    async def _fail_in_thread_log(self, run: Run) -> None:
        """Tell the thread's v2 subscribers a lost run failed (its root ``lifecycle.failed``),
        numbered after the frames its worker logged."""
        sink = ThreadFrameSink(
            self.thread_log,
            run["thread_id"],
            start=await self.thread_log.last_seq(run["thread_id"]) + 1,
            hub=self.hub,
            graph_name=run_graph_id(run),
        )
        await sink.send([Event("error", WORKER_LOST)])
        await sink.close()

    async def _execute(
        self,
        run: Run,
        attempt: int,
        live: Sequence[Sink],
        *,
        deadline: float | None,
        clock: RunClock | None = None,
        first_seq: int | None = None,
    ) -> RunStatus:
        run_id = run["run_id"]
        start = 0 if attempt == 1 else await self.log.last_seq(run_id) + 1
        usage = usage_tracker(run, getattr(self._executor(), "prices", None))
        if attempt > 1:
            lease = await self.leases.get(run_id)
            if lease is not None and lease["usage"] is not None:
                # Earlier invocations' tokens, cost and AWS use: usage covers all.
                usage.restore(dict(lease["usage"]))
        sink: SequencedSink | ThreadFrameSink
        if run["kwargs"].get("protocol") == "v2":
            sink = ThreadFrameSink(
                self.thread_log,
                run["thread_id"],
                start=first_seq if first_seq is not None else await self._thread_start(run),
                hub=self.hub,
                live=live,
                graph_name=run_graph_id(run),
                flush_interval=self.flush_interval,
                continued=attempt > 1,
            )
            start = 0
        else:
            log_sink = EventLogSink(self.log, run_id, flush_interval=self.flush_interval)
            sink = SequencedSink([log_sink, *live], start=start, drop_metadata=attempt > 1)
        control = RunControl()
        guards = [asyncio.create_task(self._keep_lease(run_id, attempt, control))]
        if run["status"] == "pending":
            guards.append(asyncio.create_task(self._recover_ahead(run)))
        if deadline is not None:
            guards.append(asyncio.create_task(_drain_at(deadline, control)))
        clock = clock or RunClock()
        try:
            status = await self._executor().execute(
                _attempt_of(run, attempt), [sink], control=control, usage=usage, clock=clock
            )
        except asyncio.CancelledError:
            # The executor recorded the run interrupted (server shutdown): close its log too.
            await asyncio.shield(self.log.mark_end(run_id, _run_log_end(sink, start)))
            raise
        finally:
            await _stop(guards)
        if status in FINAL_RUN_STATUSES:
            await self.log.mark_end(run_id, _run_log_end(sink, start))
            return status
        if control.drain_reason == "lease lost":
            _run_log(run).warning("Attempt %s lost its lease; another took the run over", attempt)
            return status
        await self.leases.renew(run_id, attempt, hold=self.handoff_seconds, usage=usage.snapshot())
        payload: ContinuePayload = {
            "kind": "continue",
            "owner": run["owner"],
            "thread_id": run["thread_id"],
            "run_id": run_id,
            "attempt": attempt + 1,
        }
        if clock.started_at is not None:
            payload["started_at"] = clock.started_at  # the time limit spans invocations
        await self._invoke(payload)
        metrics().count("Continuations")
        _run_log(run).info("Drained before the deadline; attempt %s continues", attempt + 1)
        return status

    async def _invoke(self, payload: WorkerPayload) -> None:
        if self.invoker is None:
            raise ConfigurationError(
                "No worker to invoke: set LAMBDAGRAPH_WORKER_FUNCTION (or run the local stack)"
            )
        await self.invoker.invoke(payload)

    async def _claim_and_keep(self, run_id: str, control: RunControl) -> None:
        try:
            held = await self.leases.reserve(run_id) and await self.leases.claim(
                run_id, 1, holder="http"
            )
        except Exception:
            # Without a lease the run still executes; it is only not recoverable if it dies.
            logger.warning("Could not take the lease of run %s", run_id, exc_info=True)
            return
        if not held:
            control.request_drain("lease lost")
            return
        await self._keep_lease(run_id, 1, control)

    async def _recover_ahead(self, run: Run) -> None:
        """While ``run`` waits its turn, recover the run ahead of it if that one's holder died
        (the executor's wait ends when the recovered run hands the thread over)."""
        while True:
            await asyncio.sleep(self.leases.lease_seconds)
            try:
                if (await self.store.read_run(run))["status"] != "pending":
                    return
                await self.recover_active(run["owner"], run["thread_id"])
            except Exception:
                logger.warning("Could not check the run ahead of %s", run["run_id"], exc_info=True)

    async def _keep_lease(self, run_id: str, attempt: int, control: RunControl) -> None:
        while True:
            await asyncio.sleep(self.leases.lease_seconds / 3)
            try:
                held = await self.leases.renew(run_id, attempt)
            except Exception:
                # A throttled or failed renewal is retried next tick; two more fit in a lease.
                logger.warning("Could not renew the lease of run %s", run_id, exc_info=True)
                continue
            if not held:
                control.request_drain("lease lost")
                return


def _run_log_end(sink: SequencedSink | ThreadFrameSink, start: int) -> int:
    """The last id in the run's own log (a v2 run writes the thread log, not its own)."""
    return sink.next_seq - 1 if isinstance(sink, SequencedSink) else start - 1


def _run_log(run: Run | RunPayload | ContinuePayload) -> logging.LoggerAdapter[logging.Logger]:
    return logging.LoggerAdapter(logger, run_keys(run))


async def _stop(tasks: Sequence[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _drain_at(deadline: float, control: RunControl) -> None:
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    control.request_drain("deadline")


def _attempt_of(run: Run, attempt: int) -> Run:
    if attempt == 1:
        return run
    kwargs = {k: v for k, v in run["kwargs"].items() if k not in _STARTING_KWARGS}
    continued: Run = {**run, "kwargs": kwargs}  # type: ignore[typeddict-item]
    return continued
