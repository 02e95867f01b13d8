"""The run executor: the one place that drives a compiled graph and emits protocol events.

Per run: send ``metadata``, wait its turn if the run is ``pending``, stream the graph with the
requested modes (``engine.chunks`` shapes the events), watch the run's cancel flag, then record
the final status, token usage and the thread's state, and close the sinks.

Usage: the run's tracker (``engine.usage``) prices every model call and, while the run
executes, meters its AWS requests (``pricing.aws_meter``). v1 runs send ``usage`` events
(with the ``usage`` stream mode); v2 runs send ``custom`` frames named ``lambdagraph.usage``,
and one with ``final: true``, the thread's cumulative totals and the run's ``aws`` just
before the root's terminal lifecycle event.

DynamoDB round trips before the first token, on an existing thread: the ``create_run``
transaction (done by the caller; the run is already ``running``) and, beside it when the
caller started a :class:`~lambdagraph.engine.read_ahead.ReadAhead`, the graph's read of the
thread's latest checkpoint (its input checkpoint is saved in the background). The executor
itself reads nothing first: ownership was checked in ``create_run``'s condition, and the
first cancel poll happens one poll interval after the start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from langgraph.errors import GraphDrained

from lambdagraph.engine.chunks import ChunkMapper
from lambdagraph.engine.failures import error_event, is_expected
from lambdagraph.engine.graph_call import graph_chunks, graph_input, run_config
from lambdagraph.engine.read_ahead import ReadAhead, fences
from lambdagraph.engine.run_callbacks import RunCallbacks
from lambdagraph.engine.sinks import Sink, observe_run
from lambdagraph.engine.streaming_check import StreamingCheck
from lambdagraph.engine.thread_log import frame_events
from lambdagraph.engine.timeouts import RunClock, time_limit, timeout_event
from lambdagraph.engine.usage import UsageTracker, usage_tracker
from lambdagraph.engine.v3_stream import v3_events
from lambdagraph.engine.webhooks import WebhookSender, now_iso, webhook_payload
from lambdagraph.errors import LambdagraphError, RunNotFound
from lambdagraph.observability import RunMeter, bind_run, run_keys, unbind
from lambdagraph.observability.tracing import annotate_run
from lambdagraph.pricing import PriceTable, add_totals
from lambdagraph.pricing.aws_meter import metering
from lambdagraph.protocol.agent_events import FrameNormalizer, usage_frame
from lambdagraph.protocol.events import Event
from lambdagraph.store.app import AppStore
from lambdagraph.store.records import CancelAction, Run, RunStatus, ThreadStatus, run_graph_id

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.pregel import Pregel
    from langgraph.runtime import RunControl
    from langgraph.store.base import BaseStore

logger = logging.getLogger(__name__)


class GraphRegistry(Protocol):
    """Where the executor finds graphs: ``lambdagraph.agents.GraphRegistry`` fits."""

    def get(self, assistant_id: str) -> Pregel[Any, Any, Any, Any]:
        """The compiled graph (no checkpointer) or ``AssistantNotFound``."""
        ...

    def names(self) -> list[str]:
        """Every graph name."""
        ...


@dataclass
class _RunState:
    cancel: CancelAction | None = None
    timed_out: bool = False


class _Emitter:
    """Hands events to every sink in order (ids are the event log's: ``SequencedSink``)."""

    def __init__(
        self, sinks: Sequence[Sink], *, log: logging.LoggerAdapter[Any], meter: RunMeter
    ):
        self.sinks = list(sinks)
        self.log = log
        self.meter = meter

    async def send(self, events: Sequence[Event]) -> None:
        if not events:
            return
        for sink in list(self.sinks):
            try:
                await sink.send(events)
            except Exception:  # a gone consumer must not stop the run for the others
                self.log.warning("Dropping a sink that failed to take events", exc_info=True)
                self.sinks.remove(sink)

    async def flush(self) -> None:
        """Have sinks that buffer (the thread log) write what they hold now."""
        for sink in self.sinks:
            flush = getattr(sink, "flush", None)
            if flush is None:
                continue
            try:
                await flush()
            except Exception:
                self.log.warning("A sink failed to flush", exc_info=True)

    async def close(self) -> None:
        for sink in self.sinks:
            try:
                await sink.close()
            except Exception:
                self.log.warning("A sink failed to close", exc_info=True)


def is_v2(run: Run) -> bool:
    """Whether ``run`` is a run of the Agent Streaming Protocol (frames, thread log)."""
    return run["kwargs"].get("protocol") == "v2"


class RunExecutor:
    """Runs a recorded run: streams the graph and hands protocol events to sinks.

    Args:
        store: the app store holding the run and its thread.
        graphs: where graphs are looked up by ``assistant_id``.
        checkpointer: the saver for graph state (not used by stateless runs).
        cancel_poll_interval: seconds between consistent reads of the run's cancel flag.
        run_timeout: seconds a run may execute unless it sets its own ``timeout_seconds``;
            0 for no limit. A run over its limit ends with status ``timeout``.
        webhooks: posts a run's outcome to its ``webhook`` once it ended (before its
            streams close, so a Lambda process is still running to send it).
        memory: the long-term memory store of a user (``BaseStore``), handed to the graph
            of each run that user starts; default: their ``DynamoDBStore`` partition of the
            app table.
        prices: the model price table (default: the shipped one).

    Example:
        >>> executor = RunExecutor(store, registry, saver)
        >>> run = await store.create_run(user, thread_id=tid, assistant_id="agent", kwargs=body)
        >>> status = await executor.execute(run, [sink])
    """

    def __init__(
        self,
        store: AppStore,
        graphs: GraphRegistry,
        checkpointer: BaseCheckpointSaver[Any],
        *,
        cancel_poll_interval: float = 0.25,
        run_timeout: float = 0.0,
        webhooks: WebhookSender | None = None,
        memory: Callable[[str], BaseStore] | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.store = store
        self.prices = prices
        self.webhooks = webhooks
        self.memory = memory or self._default_memory
        self.graphs = graphs
        self.checkpointer = checkpointer
        self.cancel_poll_interval = cancel_poll_interval
        self.run_timeout = run_timeout
        self._read_aheads: dict[str, ReadAhead] = {}

    def _default_memory(self, owner: str) -> BaseStore:
        from lambdagraph.store.kv import DynamoDBStore  # lazy: cold start (the saver's plans)

        return DynamoDBStore(self.store.table_name, owner, client=self.store.client)

    def read_ahead(self, thread_id: str) -> ReadAhead | None:
        """Start reading ``thread_id``'s latest checkpoint for a run about to be recorded;
        None when the saver does not fence (see :mod:`lambdagraph.engine.read_ahead`)."""
        return ReadAhead(self.checkpointer, thread_id) if fences(self.checkpointer) else None

    def tracker(self, run: Run) -> UsageTracker:
        """A usage tracker for ``run`` (events when it streams ``usage`` or is a v2 run)."""
        return usage_tracker(run, self.prices)

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
        """Execute ``run``, sending its events to every sink; returns the final status.

        Never raises for graph errors (they become an ``error`` event and status ``error``).
        If the task running this is cancelled, the run is recorded ``interrupted`` and the
        cancellation propagates.
        When ``control`` asks the graph to drain (the Lambda deadline nears), the graph stops
        at the next superstep boundary with its checkpoint saved; the run is left ``running``
        (for a continuation) and ``"running"`` is returned. A caller that continues runs
        passes its own ``usage`` tracker, carrying the counts of earlier invocations, and
        its ``clock``, carrying the run's start: the time limit counts from it. A run over
        its limit is cancelled like a cancelled run, with status ``timeout``. ``read_ahead``
        (from :meth:`read_ahead`, for a run recorded ``running``) answers the graph's first
        read of the thread's latest checkpoint.
        """
        if read_ahead is not None:
            self._read_aheads[run["run_id"]] = read_ahead
        log = logging.LoggerAdapter(logger, run_keys(run))
        bound = bind_run(run)
        meter = RunMeter(run, continued=clock is not None and clock.started_at is not None)
        emitter = _Emitter(sinks, log=log, meter=meter)
        try:
            try:
                if not is_v2(run):
                    metadata = {"run_id": run["run_id"], "attempt": 1}
                    await emitter.send([Event("metadata", metadata)])
                if run["status"] == "pending":
                    status = await self._wait_turn(run)
                    if status != "running":
                        log.info("Run ended while waiting for its turn: %s", status)
                        return status
            except asyncio.CancelledError:
                await asyncio.shield(self._abandon(run, log))
                raise
            return await self._run(run, emitter, log, control, usage, clock)
        finally:
            unused = self._read_aheads.pop(run["run_id"], None)
            if unused is not None:
                unused.discard()
            await emitter.close()
            unbind(bound)

    async def _wait_turn(self, run: Run) -> RunStatus:
        """Poll until the active run hands the thread over (or this one is cancelled)."""
        while True:
            await asyncio.sleep(self.cancel_poll_interval)
            try:
                fresh = await self.store.read_run(run)
            except RunNotFound:
                return "interrupted"
            if fresh["status"] != "pending":
                return fresh["status"]

    async def _abandon(self, run: Run, log: logging.LoggerAdapter[Any]) -> None:
        """Cancelled before the graph started: end the run so its thread is not left busy."""
        try:
            fresh = await self.store.cancel_run(run["owner"], run["thread_id"], run["run_id"])
            if fresh["status"] == "running":  # it had the thread (or just got it): release it
                await self.store.finish_run(run, "interrupted")
        except LambdagraphError:
            log.exception("Could not cancel an abandoned waiting run")

    async def _run(
        self,
        run: Run,
        emitter: _Emitter,
        log: logging.LoggerAdapter[Any],
        control: RunControl | None = None,
        tracker: UsageTracker | None = None,
        clock: RunClock | None = None,
    ) -> RunStatus:
        usage = tracker if tracker is not None else self.tracker(run)
        with metering(usage.aws):
            return await self._drive(run, emitter, log, control, usage, clock)

    async def _drive(
        self,
        run: Run,
        emitter: _Emitter,
        log: logging.LoggerAdapter[Any],
        control: RunControl | None,
        usage: UsageTracker,
        clock: RunClock | None,
    ) -> RunStatus:
        clock = clock or RunClock()
        clock.start()
        started_at = now_iso()
        failure: Event | None = None
        kwargs = run["kwargs"]
        mapper = ChunkMapper(
            kwargs.get("stream_mode") or ["values"], subgraphs=bool(kwargs.get("stream_subgraphs"))
        )
        state = _RunState()
        status: RunStatus = "success"
        log.info("Run started")
        emitter.meter.started()
        annotate_run(run)
        frames = FrameNormalizer(run_graph_id(run)) if is_v2(run) else None
        if frames is not None:
            stream = self._stream_v2(run, frames, mapper, usage, emitter, control)
        else:
            stream = self._stream(run, mapper, usage, emitter, control)
        graph_task = asyncio.create_task(stream)
        watcher = self._watch_cancel(run, graph_task, state, log, emitter.sinks, emitter.meter)
        guards = [asyncio.create_task(watcher)]
        limit = time_limit(kwargs, self.run_timeout)
        if limit > 0:
            guards.append(asyncio.create_task(_expire(graph_task, state, clock.left(limit))))
        try:
            await graph_task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            ours = state.cancel is not None or state.timed_out
            if not ours or (current is not None and current.cancelling()):
                graph_task.cancel()
                await asyncio.shield(
                    self._finish(run, "interrupted", mapper, usage, log, emitter.meter)
                )
                raise
            if state.timed_out:
                status = "timeout"
                log.info("Run timed out after %ss", limit)
                failure = timeout_event(limit)
                if frames is None:
                    await emitter.send([*usage.drain(), failure])
            else:
                status = "interrupted"
                log.info("Run cancelled (%s)", state.cancel)
        except GraphDrained as exc:
            status = "running"
            log.info("Run drained at a checkpoint (%s); a continuation picks it up", exc.reason)
        except Exception as exc:
            status = "error"
            if is_expected(exc):
                log.warning("Run failed: %s: %s", type(exc).__name__, exc)
            else:
                log.exception("Run failed")
            failure = error_event(exc)
            if frames is None:
                await emitter.send([*usage.drain(), failure])
        finally:
            for guard in guards:
                guard.cancel()
        await emitter.send(_usage_events(usage, frames))
        if frames is not None:
            await self._end_frames(run, frames, status, failure, emitter, usage)
        if status == "running":
            return status
        await self._finish(run, status, mapper, usage, log, emitter.meter)
        await self._notify(run, status, mapper, started_at, failure)
        return status

    async def _end_frames(
        self,
        run: Run,
        frames: FrameNormalizer,
        status: RunStatus,
        failure: Event | None,
        emitter: _Emitter,
        usage: UsageTracker,
    ) -> None:
        """A v2 run's final usage frame and root lifecycle end, then its last frames in the
        thread log: before the run releases its thread, so the next run numbers on from them."""
        if status != "running":
            await emitter.send(frame_events([usage_frame(await self._final_usage(run, usage))]))
            error = None
            if failure is not None and isinstance(failure.data, dict):
                error = str(failure.data.get("message") or failure.data.get("error") or "")
            await emitter.send(frame_events(frames.finish(status, error or None)))
        await emitter.flush()

    async def _final_usage(self, run: Run, usage: UsageTracker) -> dict[str, Any]:
        """The last usage report of a v2 run: its totals, its thread's cumulative ones
        (those recorded so far plus this run's, which its finish adds), its ``aws``."""
        thread = dict(usage.total)
        if not run.get("temporary"):
            try:
                before = await self.store.thread_usage(run["thread_id"])
                add_totals(thread, dict(before))
            except LambdagraphError:
                logger.warning("Could not read the thread's usage", exc_info=True)
        return {
            "final": True,
            "total": usage.usage_total,
            "cost_usd": usage.total["cost_usd"],
            "run": run["run_id"],
            "thread": thread,
            "aws": usage.aws.snapshot(),
        }

    async def _notify(
        self,
        run: Run,
        status: RunStatus,
        mapper: ChunkMapper,
        started_at: str,
        failure: Event | None,
    ) -> None:
        """Post the run's outcome to its webhook, if it named one."""
        webhook = run["kwargs"].get("webhook")
        if not webhook or self.webhooks is None:
            return
        values = mapper.thread_summary()[0] if mapper.last_checkpoint is not None else None
        payload = webhook_payload(
            run,
            status,
            values=values,
            started_at=started_at,
            ended_at=now_iso(),
            error=failure.data if failure is not None else None,
        )
        try:
            await self.webhooks.send(webhook, payload)
        except Exception:  # a webhook's trouble never changes the run
            logger.exception("Webhook of run %s failed", run["run_id"])

    def _bound_graph(self, run: Run, usage: UsageTracker) -> Pregel[Any, Any, Any, Any]:
        """The run's graph with the run owner's store and, unless stateless, our saver."""
        # Every run, stateless ones too, gets the store of the user who started it.
        bound: dict[str, Any] = {"store": self.memory(run["owner"])}
        if not run.get("temporary"):
            read_ahead = self._read_aheads.pop(run["run_id"], None)
            saver = self.checkpointer
            bound["checkpointer"] = read_ahead.bind(saver, usage.aws) if read_ahead else saver
        return self.graphs.get(run_graph_id(run)).copy(update=bound)

    async def _stream(
        self,
        run: Run,
        mapper: ChunkMapper,
        usage: UsageTracker,
        emitter: _Emitter,
        control: RunControl | None = None,
    ) -> None:
        kwargs = run["kwargs"]
        graph = self._bound_graph(run, usage)
        check = StreamingCheck(run, mapper.requested)
        config = check.attach(run_config(run, RunCallbacks(usage, emitter.meter)))
        chunks = graph_chunks(graph, graph_input(kwargs), config, mapper, kwargs, control)
        async for ns, mode, chunk in chunks:
            check.see(ns, mode, chunk)
            if mode == "events":
                events = [*usage.drain(), Event("events", chunk)]
            else:
                events = [*usage.drain(), *mapper.map(ns, mode, chunk)]
            await emitter.send(events)
        if mapper.saw_interrupt and not run.get("temporary"):
            # The latest state of the thread, whatever checkpoint the run started from.
            state = await graph.aget_state({"configurable": {"thread_id": run["thread_id"]}})
            mapper.remember_state(state.values, state.tasks, state.next)

    async def _stream_v2(
        self,
        run: Run,
        frames: FrameNormalizer,
        mapper: ChunkMapper,
        usage: UsageTracker,
        emitter: _Emitter,
        control: RunControl | None = None,
    ) -> None:
        """A v2 run: LangGraph's v3 events, as protocol frames (see ``protocol.agent_events``)."""
        kwargs = run["kwargs"]
        graph = self._bound_graph(run, usage)
        config = run_config(run, RunCallbacks(usage, emitter.meter))
        await emitter.send(frame_events(frames.start()))
        async for event in v3_events(graph, graph_input(kwargs), config, kwargs, control):
            await emitter.send([*frame_events(frames.feed(event)), *_usage_events(usage, frames)])
        if not run.get("temporary"):
            # The thread's summary (values, interrupts, next) for the run's record.
            state = await graph.aget_state({"configurable": {"thread_id": run["thread_id"]}})
            mapper.remember_state(state.values, state.tasks, state.next)

    async def _watch_cancel(
        self,
        run: Run,
        graph_task: asyncio.Task[None],
        state: _RunState,
        log: logging.LoggerAdapter[Any],
        sinks: Sequence[Sink] = (),
        meter: RunMeter | None = None,
    ) -> None:
        """Poll the run item; on the cancel flag (or the run gone), cancel the graph task.

        Each fresh run item is also shown to ``sinks`` that observe it (new WebSocket
        subscribers ride on this poll).
        """
        while not graph_task.done():
            await asyncio.sleep(self.cancel_poll_interval)
            fresh: Run | None = None
            try:
                fresh = await self.store.read_run(run)
            except RunNotFound:
                state.cancel = "interrupt"
            except LambdagraphError:
                log.warning("Could not read the cancel flag; will retry", exc_info=True)
                continue
            else:
                state.cancel = fresh.get("cancel")
                await _show_run(sinks, fresh, log)
            if state.cancel is not None:
                if meter is not None and fresh is not None:
                    meter.cancel_seen(fresh)
                graph_task.cancel()
                return

    async def _finish(
        self,
        run: Run,
        status: RunStatus,
        mapper: ChunkMapper,
        usage: UsageTracker,
        log: logging.LoggerAdapter[Any],
        meter: RunMeter,
    ) -> None:
        values, interrupts, has_next = mapper.thread_summary()
        thread_status: ThreadStatus = "idle"
        if status == "error":
            thread_status = "error"
        elif has_next and status != "timeout":
            # As LangGraph Server (langgraph-api 0.16.7): a thread with tasks still to run
            # reads interrupted, whether an interrupt, interrupt_before/after or a cancel
            # stopped it there. (A timed-out run frees its thread as idle: our time limit.)
            thread_status = "interrupted"
        try:
            await self.store.finish_run(
                run,
                status,
                usage=usage.total,
                aws=usage.aws.snapshot(),
                thread_status=thread_status,
                summary=(values, interrupts) if mapper.last_checkpoint is not None else None,
            )
        except LambdagraphError:
            log.exception("Could not record the run's final status %s", status)
        log.info("Run ended: %s (thread %s)", status, thread_status)
        annotate_run(run, status)
        meter.ended(status, usage.usage_total, sum(len(v) for v in interrupts.values()))


def _usage_events(usage: UsageTracker, frames: FrameNormalizer | None) -> list[Event]:
    """The usage reports queued since the last call: ``usage`` events, or a v2 run's frames."""
    events = usage.drain()
    if frames is None or not events:
        return events
    return frame_events([usage_frame(event.data) for event in events])


async def _expire(graph_task: asyncio.Task[None], state: _RunState, after: float) -> None:
    """Cancel the graph task once the run's time is up (``after`` seconds from now)."""
    await asyncio.sleep(max(0.0, after))
    if not graph_task.done():
        state.timed_out = True
        graph_task.cancel()


async def _show_run(sinks: Sequence[Sink], run: Run, log: logging.LoggerAdapter[Any]) -> None:
    """Hand the polled run item to sinks that observe it (WebSocket subscribers)."""
    try:
        await observe_run(sinks, run)
    except Exception:  # an observer's trouble must not stop the cancel poll
        log.warning("A sink failed to observe the run item", exc_info=True)
