"""Run routes: stream (SSE) and wait (JSON) on a thread or stateless, read, list, cancel.

Every route that starts a run does the same three things: validate the body (422), record
the run through the store (404 for an unknown or foreign thread, 409 for a busy one with
``multitask_strategy="reject"``, unless the run holding it lost its process and is
recovered), then let the executor run it in the background while the response reads its
events (:mod:`lambdagraph.http.streaming`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response, StreamingResponse

from lambdagraph.engine.sinks import QueueSink
from lambdagraph.errors import InvalidInput, NotFound, ThreadBusy
from lambdagraph.http.context import ApiContext, Ctx, User, valid_id
from lambdagraph.http.models import RunCreate
from lambdagraph.http.responses import json_response
from lambdagraph.http.state import read_values
from lambdagraph.http.streaming import (
    cancel_when_gone,
    launch,
    response_sink,
    sse_body,
    stream_headers,
    wait_body,
    wait_headers,
)
from lambdagraph.store.records import FINAL_RUN_STATUSES, Run, public_run

logger = logging.getLogger(__name__)

router = APIRouter(tags=["runs"])

# How long ``cancel?wait=1`` waits for the run to stop before answering anyway.
CANCEL_WAIT_SECONDS: Final = 60.0


async def create_run(
    context: ApiContext, owner: str, thread_id: str | None, body: RunCreate
) -> Run:
    """Record a run for ``body`` on ``thread_id`` (``None``: stateless, on a temporary thread)."""
    graph_id = context.resolve_graph(body.assistant_id)
    if thread_id is None and body.resumes:
        raise InvalidInput("Resuming an interrupt needs a thread: use /threads/{thread_id}/runs")

    async def record() -> Run:
        return await context.store.create_run(
            owner,
            thread_id=thread_id,
            assistant_id=graph_id,
            kwargs=body.to_kwargs(),
            multitask_strategy=body.multitask_strategy or "enqueue",
            if_not_exists=body.if_not_exists or ("create" if thread_id is None else "reject"),
            metadata=body.metadata,
        )

    try:
        return await record()
    except ThreadBusy:
        # Busy with a run whose process died? Then recovery frees the thread: try once more.
        if thread_id is None or context.durable is None:
            raise
        if not await context.durable.recover_active(owner, thread_id):
            raise
    return await record()


async def _launch_run(
    context: ApiContext, owner: str, thread_id: str | None, body: RunCreate
) -> tuple[Run, QueueSink, Callable[[], None] | None]:
    """Record and start a run whose response reads its events: the run, its sink, and
    what to do if the client leaves early (``on_disconnect``)."""
    run = await create_run(context, owner, thread_id, body)
    sink = response_sink(context.settings, resumable=body.stream_resumable)
    launch(context, run, sink)
    on_gone = cancel_when_gone(context, owner, run) if body.on_disconnect == "cancel" else None
    return run, sink, on_gone


async def _stream(
    context: ApiContext, owner: str, thread_id: str | None, body: RunCreate
) -> Response:
    run, sink, on_gone = await _launch_run(context, owner, thread_id, body)
    return StreamingResponse(
        sse_body(sink, heartbeat=context.settings.heartbeat_seconds, on_gone=on_gone),
        media_type="text/event-stream",
        headers=stream_headers(run),
    )


async def _wait(
    context: ApiContext, owner: str, thread_id: str | None, body: RunCreate
) -> Response:
    run, sink, on_gone = await _launch_run(context, owner, thread_id, body)

    async def current_values() -> Any:
        try:
            thread = await context.store.get_thread(owner, run["thread_id"])
        except NotFound:
            return {}  # a stateless run's temporary thread is gone with it
        return await read_values(context, owner, thread)

    return StreamingResponse(
        wait_body(
            sink,
            heartbeat=context.settings.heartbeat_seconds,
            fallback=current_values,
            on_gone=on_gone,
        ),
        media_type="application/json",
        headers=wait_headers(run),
    )


@router.post("/threads/{thread_id}/runs/stream")
async def stream_run(context: Ctx, owner: User, thread_id: str, body: RunCreate) -> Response:
    """Start a run on a thread and stream its events as SSE."""
    return await _stream(context, owner, valid_id(thread_id, "thread ID"), body)


@router.post("/runs/stream")
async def stream_stateless_run(context: Ctx, owner: User, body: RunCreate) -> Response:
    """Start a stateless run (temporary thread) and stream its events as SSE."""
    return await _stream(context, owner, None, body)


@router.post("/threads/{thread_id}/runs/wait")
async def wait_run(context: Ctx, owner: User, thread_id: str, body: RunCreate) -> Response:
    """Start a run on a thread and answer with its final values (or interrupt, or error)."""
    return await _wait(context, owner, valid_id(thread_id, "thread ID"), body)


@router.post("/runs/wait")
async def wait_stateless_run(context: Ctx, owner: User, body: RunCreate) -> Response:
    """Start a stateless run and answer with its final values."""
    return await _wait(context, owner, None, body)


@router.get("/threads/{thread_id}/runs")
async def list_runs(
    context: Ctx,
    owner: User,
    thread_id: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The thread's runs, newest first."""
    thread_id = valid_id(thread_id, "thread ID")
    await context.store.get_thread(owner, thread_id)
    runs = await context.store.list_runs(owner, thread_id, limit=limit, offset=offset)
    return json_response([public_run(run) for run in runs])


@router.get("/threads/{thread_id}/runs/{run_id}")
async def get_run(context: Ctx, owner: User, thread_id: str, run_id: str) -> Response:
    """One run."""
    run = await context.store.get_run(
        owner, valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    )
    if context.durable is not None:
        run = await context.durable.recover(run)  # a run whose worker died reads as failed
    return json_response(public_run(run))


@router.post("/threads/{thread_id}/runs/{run_id}/cancel")
async def cancel_run(
    context: Ctx,
    owner: User,
    thread_id: str,
    run_id: str,
    wait: Annotated[bool, Query()] = False,
    action: Annotated[Literal["interrupt", "rollback"], Query()] = "interrupt",
) -> Response:
    """Cancel a run: 202 at once, or with ``wait=1`` the thread's values once it stopped."""
    thread_id, run_id = valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    await context.store.cancel_run(owner, thread_id, run_id, action)
    if not wait:
        return Response(status_code=202)
    run = await context.store.wait_for_run(owner, thread_id, run_id, timeout=CANCEL_WAIT_SECONDS)
    if run["status"] not in FINAL_RUN_STATUSES:
        logger.warning(
            "run %s still %s %ss after cancel", run_id, run["status"], CANCEL_WAIT_SECONDS
        )
    thread = await context.store.get_thread(owner, thread_id)
    values = await read_values(context, owner, thread)
    return json_response(values, headers=wait_headers(run))
