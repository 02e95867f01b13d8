"""The worker function's logic: handle each payload with the durable-run machinery.

``functions/worker/app.py`` builds that machinery at cold start (``lambdagraph.wiring``)
and calls :func:`handle_worker_event` per invocation; the local stack does the same with
its own invoker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from lambdagraph.engine import crons
from lambdagraph.engine.durable import DurableRuns
from lambdagraph.engine.executor import RunExecutor
from lambdagraph.engine.invoker import CronPayload, ErasePayload, parse_payload
from lambdagraph.engine.runs import RunService
from lambdagraph.engine.sinks import Sink
from lambdagraph.errors import ConfigurationError
from lambdagraph.store.records import Run


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


async def handle_worker_event(
    durable: DurableRuns, event: dict[str, Any], context: LambdaContext
) -> str:
    """Handle one worker invocation; returns what happened (see :meth:`DurableRuns.handle`,
    :meth:`ThreadEraser.handle` for an ``erase`` payload, :func:`crons.fire` for a ``cron``)."""
    payload = parse_payload(event)
    if payload["kind"] == "erase":
        return await erase(durable, payload, context)
    if payload["kind"] == "cron":
        return await fire_cron(durable, payload)
    if payload["kind"] == "sweep":
        if durable.eraser is None:
            raise ConfigurationError("This worker has no thread eraser (see lambdagraph.wiring)")
        return f"swept {await durable.eraser.sweep_expired()}"
    return await durable.handle(
        payload, context.get_remaining_time_in_millis, context.aws_request_id
    )


async def fire_cron(durable: DurableRuns, payload: CronPayload) -> str:
    """Handle a ``cron`` payload: start the cron's run as an ordinary background run."""
    if not isinstance(durable.executor, RunExecutor):
        raise ConfigurationError("This worker has no run executor (see lambdagraph.wiring)")
    runs = RunService(durable, durable.executor.graphs)
    return await crons.fire(payload["owner"], payload["cron_id"], durable.store, runs)


async def erase(durable: DurableRuns, payload: ErasePayload, context: LambdaContext) -> str:
    """Handle an ``erase`` payload with the worker's :class:`ThreadEraser`."""
    if durable.eraser is None:
        raise ConfigurationError("This worker has no thread eraser (see lambdagraph.wiring)")
    return await durable.eraser.handle(
        payload, context.get_remaining_time_in_millis, context.aws_request_id
    )
