"""The worker function's logic: build the durable-run machinery once, handle each payload.

``functions/worker/app.py`` calls :func:`build_worker` at cold start and
:func:`handle_worker_event` per invocation; the local stack does the same with its own
invoker and checkpointer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from lambdagraph.agents import GraphRegistry
from lambdagraph.engine.durable import DurableRuns, parse_payload
from lambdagraph.engine.erase import ThreadEraser
from lambdagraph.engine.executor import RunExecutor
from lambdagraph.engine.invoker import ErasePayload, Invoker, LambdaInvoker
from lambdagraph.engine.sinks import Sink
from lambdagraph.errors import ConfigurationError
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore
from lambdagraph.store.events import EventLog
from lambdagraph.store.leases import RunLeases
from lambdagraph.store.records import Run

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver


class LambdaContext(Protocol):
    """The parts of the Lambda context the worker reads."""

    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds before the function's timeout."""
        ...


WorkerSinks = Callable[[Run], Awaitable[Sequence[Sink]]]
"""Builds the extra sinks of a run a worker executes (see ``DurableRuns.worker_sinks``)."""

WorkerHandler = Callable[[dict[str, Any], LambdaContext], Awaitable[str]]
"""The worker as an async ``handler(event, context)``, for in-process invokers."""


def durable_runs(
    settings: Settings,
    *,
    store: AppStore,
    executor: RunExecutor,
    invoker: Invoker | None,
    worker_sinks: WorkerSinks | None = None,
) -> DurableRuns:
    """The durable-run machinery over existing collaborators, tuned by ``settings``.

    ``worker_sinks`` gives worker runs more sinks (the WebSocket fan-out).
    """
    durable = DurableRuns(
        store,
        executor,
        EventLog(
            settings.app_table, client=store.client, ttl_seconds=settings.event_log_ttl_seconds
        ),
        RunLeases(
            settings.app_table, client=store.client, lease_seconds=settings.run_lease_seconds
        ),
        invoker,
        flush_interval=settings.event_log_flush_ms / 1000,
        deadline_margin=settings.deadline_margin_ms / 1000,
        worker_sinks=worker_sinks,
    )
    durable.eraser = ThreadEraser.from_settings(
        settings, store=store, checkpointer=executor.checkpointer, invoker=invoker
    )
    return durable


def build_worker(
    settings: Settings,
    *,
    invoker: Invoker | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    worker_sinks: WorkerSinks | None = None,
) -> DurableRuns:
    """Everything a worker invocation needs, from settings (once per cold start).

    ``worker_sinks`` gives each run more sinks (the WebSocket fan-out).

    Reads ``LAMBDAGRAPH_WORKER_FUNCTION`` (via ``settings``) for continuations unless an
    ``invoker`` is given.

    Raises:
        ConfigurationError: no invoker and no worker function name.
    """
    if invoker is None:
        if not settings.worker_function:
            raise ConfigurationError("LAMBDAGRAPH_WORKER_FUNCTION is not set")
        invoker = LambdaInvoker(settings.worker_function)
    if checkpointer is None:
        from lambdagraph.store.checkpoint import AsyncDynamoDBSaver  # lazy: cold start

        checkpointer = AsyncDynamoDBSaver(
            settings.checkpoint_table, bucket=settings.checkpoint_bucket
        )
    store = AppStore.from_settings(settings)
    executor = RunExecutor(
        store,
        GraphRegistry.from_settings(settings),
        checkpointer,
        cancel_poll_interval=settings.cancel_poll_interval,
    )
    return durable_runs(
        settings, store=store, executor=executor, invoker=invoker, worker_sinks=worker_sinks
    )


async def handle_worker_event(
    durable: DurableRuns, event: dict[str, Any], context: LambdaContext
) -> str:
    """Handle one worker invocation; returns what happened (see :meth:`DurableRuns.handle`)."""
    payload = parse_payload(event)
    if payload["kind"] == "erase":
        return await erase(durable, payload, context)
    return await durable.handle(
        payload, context.get_remaining_time_in_millis, context.aws_request_id
    )


async def erase(durable: DurableRuns, payload: ErasePayload, context: LambdaContext) -> str:
    """Handle an ``erase`` payload with the worker's :class:`ThreadEraser`."""
    if durable.eraser is None:
        raise ConfigurationError("This worker has no thread eraser (see durable_runs)")
    return await durable.eraser.handle(
        payload, context.get_remaining_time_in_millis, context.aws_request_id
    )
