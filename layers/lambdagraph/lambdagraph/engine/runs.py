"""The run service: the one place a transport asks for run work.

A transport parses its wire format into a :class:`~lambdagraph.engine.requests.RunRequest`,
calls one method here with the caller's user id, and encodes the answer back. Every rule of a
run's lifecycle lives here, so HTTP, the WebSocket API and the transports to come cannot
drift apart:

* **create**: the graph must exist; resuming an interrupt needs a thread; the thread is
  owned by the caller; ``multitask_strategy`` decides what a busy thread means, and a thread
  busy with a run whose process died is recovered first, then the create is tried once more.
* **launch**: a streamed run executes in this process under a lease (logged and numbered
  when ``stream_resumable``); a background or WebSocket run is handed to a worker.
* **cancel** and **settle**: flag the run, then wait (one policy, ``cancel_wait_seconds``)
  for it to stop; cancelling several runs at once and deleting ended runs are in
  :mod:`lambdagraph.engine.cancels`.
* **webhooks**: a run's ``webhook`` passes the URL policy before the run is recorded
  (:mod:`lambdagraph.engine.webhooks`); its executor posts the outcome.
* **get**, **watch**, **follow**, **replay**: a run whose process died reads as failed; a
  follower gets the event log after an id, then live events, and ends when the run does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Final, Literal

from lambdagraph.engine.assistants import AssistantService, run_settings
from lambdagraph.engine.cancels import RunCancels
from lambdagraph.engine.durable import DurableRuns
from lambdagraph.engine.executor import GraphRegistry
from lambdagraph.engine.follow import RunFollower
from lambdagraph.engine.inputs import GraphInputs
from lambdagraph.engine.read_ahead import ReadAhead
from lambdagraph.engine.requests import RunRequest
from lambdagraph.engine.results import SERVER_FAULT
from lambdagraph.engine.sinks import Sink
from lambdagraph.engine.webhooks import WebhookPolicy
from lambdagraph.errors import (
    ActiveRunLimit,
    ConfigurationError,
    InvalidRequest,
    LambdagraphError,
    NotFound,
    ThreadBusy,
    ThreadNotFound,
)
from lambdagraph.protocol.events import Event
from lambdagraph.store.assistants import AssistantStore
from lambdagraph.store.records import FINAL_RUN_STATUSES, Assistant, CancelAction, Run, Thread

logger = logging.getLogger(__name__)

RESUME_NEEDS_THREAD: Final = (
    "Resuming an interrupt needs a thread: start the run on the thread that was interrupted"
)

# LangGraph Server (langgraph-api 0.16.7, langgraph 1.2.24; checked with `langgraph dev` and
# langgraph-sdk 0.4.14) checks nothing here: a resume on a thread with no pending interrupt
# answers 200 and the run does nothing (a thread with state) or fails with TypeError "'NoneType'
# object is not iterable" (a thread without state). A client resuming there has lost track
# of the thread (the interrupt was answered already, or never happened), so we say so instead,
# with the status of our other resume rule (422).
NO_PENDING_INTERRUPT: Final = (
    "command.resume: thread {thread_id} has no pending interrupt to resume (it is {status});"
    " start a run with input instead"
)
# A thread busy with a run may stop at an interrupt before a queued resume starts.
_RESUMABLE_STATUSES: Final = frozenset({"interrupted", "busy"})


class RunService(RunCancels):
    """Creates, launches, cancels, reads and follows runs for every transport.

    Args:
        durable: the durable-run machinery (store, event log, leases, worker invoker, and
            the executor in a process that executes runs).
        graphs: the graphs runs may name (``assistant_id``).
        cancel_wait_seconds: how long :meth:`settle` waits for a cancelled run to stop.
        webhooks: which ``webhook`` URLs runs may name (default: https, public hosts only).

    Example:
        >>> service = RunService(durable, registry, cancel_wait_seconds=20)
        >>> sink = QueueSink(max_events=1000, wait_seconds=5.0)
        >>> run = await service.stream("alice", request, thread_id=tid, sink=sink)
    """

    def __init__(
        self,
        durable: DurableRuns,
        graphs: GraphRegistry,
        *,
        cancel_wait_seconds: float = 20.0,
        webhooks: WebhookPolicy | None = None,
    ) -> None:
        self.durable = durable
        self.webhooks = webhooks or WebhookPolicy()
        self.store = durable.store
        self.graphs = graphs
        self.assistants = AssistantService(
            graphs, AssistantStore(self.store.table_name, client=self.store.client), self.store
        )
        self.cancel_wait_seconds = cancel_wait_seconds
        self.follower = RunFollower(durable)
        self._inputs: dict[str, GraphInputs] = {}
        self.tasks: set[asyncio.Task[Any]] = set()

    # --- create and launch -----------------------------------------------------------

    async def create(
        self,
        owner: str,
        request: RunRequest,
        *,
        thread_id: str | None,
        new_thread: bool = False,
        metadata: dict[str, Any] | None = None,
        protocol: Literal["v2"] | None = None,
        thread_missing: bool = False,
    ) -> Run:
        """Record a run (``thread_id=None``: stateless, on a temporary thread).

        Args:
            owner: the caller's user id.
            request: the validated request.
            thread_id: the thread to run on; created first when ``if_not_exists="create"``.
            new_thread: ``thread_id`` is a fresh id for a thread to create (a WebSocket
                ``run`` without ``thread_id``); the thread stays, unlike a stateless one.
            metadata: recorded beside the request's own metadata (e.g. the transport).
            protocol: ``"v2"`` for a run of the Agent Streaming Protocol: it streams with
                LangGraph's v3 events and numbers its frames in the thread log; it is
                always handed to a worker, so its lease is reserved in the same transaction.
            thread_missing: the caller has just read that ``thread_id`` names no thread:
                it is created first, saving a round trip (see ``AppStore.create_run``).

        The run records the assistant id it was given (a graph name: its default
        assistant's id, as LangGraph Server does) and the assistant's graph, and runs with the
        assistant's config and context under the request's own.

        Raises:
            AssistantNotFound: no default assistant or caller's assistant by that id.
            InvalidRequest: an input, update or ``goto`` the graph would fail on; resuming
                without a thread, or on a thread with no pending interrupt; a ``webhook``
                the policy refuses.
            ThreadNotFound: unknown or another user's thread.
            ThreadBusy: busy thread, ``multitask_strategy="reject"``, its run still alive.
        """
        assistant = await self.check(owner, request)
        graph_id = assistant["graph_id"]
        if request.resumes and (thread_id is None or new_thread):
            raise InvalidRequest(RESUME_NEEDS_THREAD)
        if_not_exists = request.if_not_exists or ("reject" if thread_id else "create")
        if new_thread:
            if_not_exists = "create"
        if request.resumes and thread_id is not None and not request.start_checkpoint_id:
            # A resume at a named checkpoint replays an earlier interrupt: nothing to check.
            missing_ok = if_not_exists == "create"
            await self._check_pending_interrupt(owner, thread_id, missing_ok=missing_ok)

        kwargs = run_settings(assistant, request.to_kwargs())
        if protocol is not None:
            kwargs["protocol"] = protocol

        async def record(missing: bool) -> Run:
            return await self.store.create_run(
                owner,
                thread_id=thread_id,
                assistant_id=assistant["assistant_id"],
                graph_id=graph_id,
                kwargs=kwargs,
                multitask_strategy=request.multitask_strategy or "enqueue",
                if_not_exists=if_not_exists,
                metadata={**(request.metadata or {}), **(metadata or {})},
                thread_missing=missing,
                lease_hold=self.durable.handoff_seconds if protocol == "v2" else None,
            )

        try:
            return await record(thread_missing or new_thread)
        except ThreadBusy:
            # Busy with a run whose process died? Then recovery frees the thread: try once more.
            if thread_id is None or not await self.durable.recover_active(owner, thread_id):
                raise
        except ActiveRunLimit:
            # An entry held by a run whose process died (or that ended unrecorded) must not
            # lock the user out: recover such runs, and try once more if that freed one.
            if not await self._free_dead_entries(owner):
                raise
        return await record(False)

    async def check(self, owner: str, request: RunRequest) -> Assistant:
        """What comes before recording a run: the assistant exists for ``owner`` (a default
        one costs no read), its graph takes the input, the webhook passes.

        Returns:
            The run's assistant.

        Raises:
            AssistantNotFound: no default assistant or caller's assistant by that id.
            InvalidRequest: see :meth:`create`.
        """
        assistant = await self.assistants.get(owner, request.assistant_id)
        self.inputs_of(assistant["graph_id"]).check(request)
        if request.webhook:
            await self.webhooks.check(request.webhook)
        return assistant

    async def _free_dead_entries(self, owner: str) -> bool:
        """Recover the user's active runs whose process died; True if any entry was freed."""
        before = len(await self.store.limits.active(owner))
        for run in await self.store.active_runs(owner):
            if run["status"] == "pending":
                # Recovering the run ahead hands the thread to this one; if its own waiter
                # died too, its lease has lapsed and the next line recovers it as well.
                await self.durable.recover_active(owner, run["thread_id"])
                run = await self.store.read_run(run)
            await self.durable.recover(run)
        return len(await self.store.limits.active(owner)) < before

    def inputs_of(self, graph_id: str) -> GraphInputs:
        """What the graph accepts as input, read once per graph (loading it on first use)."""
        inputs = self._inputs.get(graph_id)
        if inputs is None:
            inputs = self._inputs[graph_id] = GraphInputs.of(self.graphs.get(graph_id))
        return inputs

    async def _check_pending_interrupt(
        self, owner: str, thread_id: str, *, missing_ok: bool
    ) -> None:
        # One read of the thread item, only for resumes: ordinary runs never pay it.
        try:
            status: str = (await self.store.get_thread(owner, thread_id))["status"]
        except ThreadNotFound:
            if not missing_ok:
                raise
            status = "not created yet"
        if status not in _RESUMABLE_STATUSES:
            raise InvalidRequest(NO_PENDING_INTERRUPT.format(thread_id=thread_id, status=status))

    async def stream(
        self,
        owner: str,
        request: RunRequest,
        *,
        thread_id: str | None,
        sink: Sink,
        deadline: float | None = None,
    ) -> Run:
        """Record a run and execute it in this process, feeding ``sink``.

        The run executes in a background task: the caller reads ``sink`` and may go away
        first. It holds a lease, so a crash under it is recovered; a ``stream_resumable``
        run is also logged, with the ids of the live events. The thread's latest checkpoint
        is read beside the transaction that records the run (``engine.read_ahead``).

        Args:
            deadline: when this process will be stopped (``time.monotonic()`` clock): a
                resumable run drains before it and a worker continues it.
        """
        at_latest = not request.start_checkpoint_id  # not a replay of an older one
        read_ahead = self.durable.read_ahead(thread_id) if thread_id and at_latest else None
        try:
            run = await self.create(owner, request, thread_id=thread_id)
        except BaseException:
            if read_ahead is not None:
                read_ahead.discard()
            raise
        if read_ahead is not None and run["status"] != "running":
            read_ahead.discard()  # it waits its turn: the run ahead will change the state
            read_ahead = None
        self.spawn(self._execute(run, sink, deadline, read_ahead), name=f"run-{run['run_id']}")
        return run

    async def start(
        self,
        owner: str,
        request: RunRequest,
        *,
        thread_id: str | None,
        metadata: dict[str, Any] | None = None,
        protocol: Literal["v2"] | None = None,
        thread_missing: bool = False,
    ) -> Run:
        """Record a run and hand it to a worker (a background run); returns at once.

        ``protocol="v2"``, ``thread_missing``: see :meth:`create`.
        """
        self.need_worker()
        run = await self.create(
            owner,
            request,
            thread_id=thread_id,
            metadata=metadata,
            protocol=protocol,
            thread_missing=thread_missing,
        )
        await self.hand_to_worker(run, reserved=protocol == "v2")
        return run

    async def hand_to_worker(
        self, run: Run, *, reserved: bool = False, first_seq: int | None = None
    ) -> None:
        """Start the worker for a recorded run without waiting for it.

        ``reserved``, ``first_seq``: see ``DurableRuns.start_background`` (a v2 run).

        Raises:
            ConfigurationError: no worker is configured.
            Unavailable: the worker could not be invoked (the run is recorded as failed).
        """
        self.need_worker()
        await self.durable.start_background(run, reserved=reserved, first_seq=first_seq)

    async def _execute(
        self, run: Run, sink: Sink, deadline: float | None, read_ahead: ReadAhead | None
    ) -> None:
        try:
            if run["kwargs"].get("stream_resumable"):
                if read_ahead is not None:
                    read_ahead.discard()  # its lease and log come first: nothing to overlap
                await self.durable.execute_here(run, [sink], deadline=deadline)
            else:
                await self.durable.execute_leased(run, [sink], read_ahead=read_ahead)
        except Exception:
            # The executor turns graph errors into events itself; reaching here is a fault.
            logger.exception("executor failed on run %s", run["run_id"])
            await sink.send([SERVER_FAULT])
            await sink.close()

    def need_worker(self) -> None:
        """Raise ``ConfigurationError`` unless runs can be handed to a worker."""
        if self.durable.invoker is None:
            raise ConfigurationError("Background runs need LAMBDAGRAPH_WORKER_FUNCTION")

    # --- read ------------------------------------------------------------------------

    async def get(self, owner: str, thread_id: str, run_id: str) -> Run:
        """The run; one whose process died is recorded as failed first (``RunNotFound``)."""
        return await self.durable.recover(await self.store.get_run(owner, thread_id, run_id))

    async def list_runs(
        self, owner: str, thread_id: str, *, limit: int = 10, offset: int = 0
    ) -> list[Run]:
        """The thread's runs, newest first (``ThreadNotFound`` for a foreign thread)."""
        await self.store.get_thread(owner, thread_id)
        return await self.store.list_runs(owner, thread_id, limit=limit, offset=offset)

    async def thread_runs(
        self, owner: str, thread_id: str, *, limit: int = 10
    ) -> tuple[Thread, list[Run]]:
        """The thread and its newest runs, newest first (``ThreadNotFound`` for a foreign
        thread); a run whose process died is recorded as failed first, as :meth:`get` does."""
        thread = await self.store.get_thread(owner, thread_id)
        runs = await self.store.list_runs(owner, thread_id, limit=limit)
        return thread, [await self.durable.recover(run) for run in runs]

    async def watch(self, run: Run, *, pause: float) -> AsyncIterator[Run]:
        """The run, every ``pause`` seconds at most, until it is final (the last one yielded).

        A run whose process died is recovered on the way; a stateless run whose temporary
        thread is gone ends the watch.
        """
        while run["status"] not in FINAL_RUN_STATUSES:
            try:
                run = await self.store.wait_for_run(
                    run["owner"], run["thread_id"], run["run_id"], timeout=pause
                )
                run = await self.durable.recover(run)
            except NotFound:
                return
            yield run

    # --- cancel ----------------------------------------------------------------------

    async def cancel(
        self, owner: str, thread_id: str, run_id: str, action: CancelAction = "interrupt"
    ) -> Run:
        """Flag a run for cancellation (a pending one ends at once); the run as it is now."""
        return await self.store.cancel_run(owner, thread_id, run_id, action)

    async def settle(self, run: Run) -> Run:
        """Wait up to ``cancel_wait_seconds`` for a (cancelled) run to end; the run then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.cancel_wait_seconds
        current = run
        async for seen in self.watch(run, pause=min(1.0, self.cancel_wait_seconds)):
            current = seen
            if loop.time() >= deadline:
                break
        if current["status"] not in FINAL_RUN_STATUSES:
            logger.warning(
                "run %s still %s %ss after cancel",
                current["run_id"],
                current["status"],
                self.cancel_wait_seconds,
            )
        return current

    def cancel_later(self, run: Run) -> Callable[[], None]:
        """A non-blocking callback that schedules cancelling ``run`` (``on_disconnect``)."""

        async def cancel() -> None:
            try:
                await self.store.cancel_run(run["owner"], run["thread_id"], run["run_id"])
            except LambdagraphError as exc:
                # Already finished or gone: nothing left to cancel.
                logger.info("cancel on disconnect skipped for run %s: %s", run["run_id"], exc)

        def schedule() -> None:
            self.spawn(cancel(), name=f"cancel-{run['run_id']}")

        return schedule

    # --- the event log ---------------------------------------------------------------

    async def last_event_seq(self, run_id: str) -> int:
        """The id of the run's last logged event (``-1``: none yet)."""
        return await self.follower.last_event_seq(run_id)

    def follow(self, run: Run, after: int) -> AsyncIterator[list[Event]]:
        """The run's events after ``after``, then live ones (see :meth:`RunFollower.follow`)."""
        return self.follower.follow(run, after)

    async def replay(self, run_id: str, after: int) -> list[Event]:
        """A finished run's logged events after ``after`` (see :meth:`RunFollower.replay`)."""
        return await self.follower.replay(run_id, after)

    # --- background tasks ------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run ``coro`` in the background, independent of the request that started it."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=exc)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Cancel the run tasks still going (server shutdown) and wait for them briefly."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        closer = getattr(self.durable.invoker, "aclose", None)
        if closer is not None:
            await closer()  # the local invoker's background workers
