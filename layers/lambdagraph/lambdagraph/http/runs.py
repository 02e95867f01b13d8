"""Run routes: stream (SSE) and wait (JSON) on a thread or stateless, read, list, cancel.

Each route is an adapter: the body is the shared run request (422 when invalid), the run
service does the work (404 for an unknown or foreign thread, 409 for a busy one with
``multitask_strategy="reject"``), and the answer is encoded here
(:mod:`lambdagraph.http.streaming`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response, StreamingResponse

from lambdagraph.engine import QueueSink, RunRequest
from lambdagraph.errors import NotFound
from lambdagraph.http.body import JsonBodyRoute
from lambdagraph.http.context import ApiContext, Ctx, User, valid_id
from lambdagraph.http.deadline import current_deadline
from lambdagraph.http.openapi import (
    CANCELLING,
    error_responses,
    stream_responses,
)
from lambdagraph.http.responses import json_response
from lambdagraph.http.state import read_values
from lambdagraph.http.streaming import (
    response_sink,
    sse_body,
    stream_headers,
    wait_body,
    wait_headers,
)
from lambdagraph.store.records import Run, public_run

router = APIRouter(tags=["runs"], route_class=JsonBodyRoute)


async def _launch(
    context: ApiContext, owner: str, thread_id: str | None, body: RunRequest
) -> tuple[Run, QueueSink, Callable[[], None] | None]:
    """Stream a run into a fresh bounded sink: the run, its sink, and what to do if the
    client leaves early (``on_disconnect``)."""
    sink = response_sink(
        context.settings, resumable=body.stream_resumable, stateless=thread_id is None
    )
    run = await context.runs.stream(
        owner, body, thread_id=thread_id, sink=sink, deadline=current_deadline()
    )
    on_gone = context.runs.cancel_later(run) if body.on_disconnect == "cancel" else None
    return run, sink, on_gone


async def _stream(
    context: ApiContext, owner: str, thread_id: str | None, body: RunRequest
) -> Response:
    run, sink, on_gone = await _launch(context, owner, thread_id, body)
    return StreamingResponse(
        sse_body(sink, heartbeat=context.settings.heartbeat_seconds, on_gone=on_gone),
        media_type="text/event-stream",
        headers=stream_headers(run),
    )


async def _wait(
    context: ApiContext, owner: str, thread_id: str | None, body: RunRequest
) -> Response:
    run, sink, on_gone = await _launch(context, owner, thread_id, body)

    async def current_values() -> Any:
        return await thread_values(context, owner, run)

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


async def thread_values(context: ApiContext, owner: str, run: Run) -> Any:
    """The values of the run's thread now (``{}`` once a stateless run's thread is gone)."""
    try:
        thread = await context.store.get_thread(owner, run["thread_id"])
    except NotFound:
        return {}
    return await read_values(context, owner, thread)


@router.post(
    "/threads/{thread_id}/runs/stream",
    response_class=StreamingResponse,
    responses=stream_responses(404, 409),
)
async def stream_run(context: Ctx, owner: User, thread_id: str, body: RunRequest) -> Response:
    """Start a run on a thread and stream its events as SSE."""
    return await _stream(context, owner, valid_id(thread_id, "thread ID"), body)


@router.post(
    "/runs/stream", response_class=StreamingResponse, responses=stream_responses(404)
)
async def stream_stateless_run(context: Ctx, owner: User, body: RunRequest) -> Response:
    """Start a stateless run (temporary thread) and stream its events as SSE."""
    return await _stream(context, owner, None, body)


@router.post("/threads/{thread_id}/runs/wait", responses=error_responses(404, 409))
async def wait_run(context: Ctx, owner: User, thread_id: str, body: RunRequest) -> Response:
    """Start a run on a thread and answer with its final values (or interrupt, or error)."""
    return await _wait(context, owner, valid_id(thread_id, "thread ID"), body)


@router.post("/runs/wait", responses=error_responses(404))
async def wait_stateless_run(context: Ctx, owner: User, body: RunRequest) -> Response:
    """Start a stateless run and answer with its final values."""
    return await _wait(context, owner, None, body)


@router.get("/threads/{thread_id}/runs", responses=error_responses(404))
async def list_runs(
    context: Ctx,
    owner: User,
    thread_id: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The thread's runs, newest first."""
    runs = await context.runs.list_runs(
        owner, valid_id(thread_id, "thread ID"), limit=limit, offset=offset
    )
    return json_response([public_run(run) for run in runs])


@router.get("/threads/{thread_id}/runs/{run_id}", responses=error_responses(404))
async def get_run(context: Ctx, owner: User, thread_id: str, run_id: str) -> Response:
    """One run (a run whose process died reads as failed)."""
    run = await context.runs.get(
        owner, valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    )
    return json_response(public_run(run))


@router.post(
    "/threads/{thread_id}/runs/{run_id}/cancel", responses={**CANCELLING, **error_responses(404)}
)
async def cancel_run(
    context: Ctx,
    owner: User,
    thread_id: str,
    run_id: str,
    wait: Annotated[bool, Query()] = False,
    action: Annotated[Literal["interrupt", "rollback"], Query()] = "interrupt",
) -> Response:
    """Cancel a run: 202 at once, or with ``wait=1`` the thread's values once it stopped
    (waiting at most ``LAMBDAGRAPH_CANCEL_WAIT_SECONDS``)."""
    thread_id, run_id = valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    run = await context.runs.cancel(owner, thread_id, run_id, action)
    if not wait:
        return Response(status_code=202)
    run = await context.runs.settle(run)
    return json_response(await thread_values(context, owner, run), headers=wait_headers(run))
