"""Run routes: stream (SSE) and wait (JSON) on a thread or stateless, read, list, cancel
(one or in bulk), delete.

Each route is an adapter: the body is the shared run request (422 when invalid), the run
service does the work (404 for an unknown or foreign thread, 409 for a busy one with
``multitask_strategy="reject"``), and the answer is encoded here
(:mod:`lambdagraph.http.streaming`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, model_validator
from starlette.responses import Response, StreamingResponse

from lambdagraph.auth.guard import Guard
from lambdagraph.engine import QueueSink, RunRequest
from lambdagraph.errors import NotFound
from lambdagraph.http.body import JsonBodyRoute
from lambdagraph.http.context import Access, ApiContext, Ctx, User, valid_id
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


async def authorized_run(guard: Guard, thread_id: str | None, body: RunRequest) -> RunRequest:
    """The request once ``threads.create_run`` allowed it, with the metadata as the
    handler left it (``ThreadNotFound`` for a thread the handler's filters hide)."""
    metadata = await guard.create_run(
        thread_id=thread_id,
        assistant_id=body.assistant_id,
        metadata=body.metadata,
        multitask_strategy=body.multitask_strategy or "enqueue",
        if_not_exists=body.if_not_exists or ("reject" if thread_id else "create"),
        kwargs=dict(body.to_kwargs()),
        temporary=thread_id is None,
    )
    if metadata == (body.metadata or {}):
        return body
    return body.model_copy(update={"metadata": metadata})


async def launch_run(
    context: ApiContext, guard: Guard, thread_id: str | None, body: RunRequest
) -> tuple[Run, QueueSink, Callable[[], None] | None]:
    """Stream a run into a fresh bounded sink: the run, its sink, and what to do if the
    client leaves early (``on_disconnect``)."""
    owner = guard.identity.user_id
    body = await authorized_run(guard, thread_id, body)
    sink = response_sink(
        context.settings, resumable=body.stream_resumable, stateless=thread_id is None
    )
    run = await context.runs.stream(
        owner, body, thread_id=thread_id, sink=sink, deadline=current_deadline()
    )
    on_gone = context.runs.cancel_later(run) if body.on_disconnect == "cancel" else None
    return run, sink, on_gone


async def _stream(
    context: ApiContext, guard: Guard, thread_id: str | None, body: RunRequest
) -> Response:
    run, sink, on_gone = await launch_run(context, guard, thread_id, body)
    return StreamingResponse(
        sse_body(sink, heartbeat=context.settings.heartbeat_seconds, on_gone=on_gone),
        media_type="text/event-stream",
        headers=stream_headers(run),
    )


async def _wait(
    context: ApiContext, guard: Guard, thread_id: str | None, body: RunRequest
) -> Response:
    owner = guard.identity.user_id
    run, sink, on_gone = await launch_run(context, guard, thread_id, body)

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
async def stream_run(context: Ctx, guard: Access, thread_id: str, body: RunRequest) -> Response:
    """Start a run on a thread and stream its events as SSE."""
    return await _stream(context, guard, valid_id(thread_id, "thread ID"), body)


@router.post(
    "/runs/stream", response_class=StreamingResponse, responses=stream_responses(404)
)
async def stream_stateless_run(context: Ctx, guard: Access, body: RunRequest) -> Response:
    """Start a stateless run (temporary thread) and stream its events as SSE."""
    return await _stream(context, guard, None, body)


@router.post("/threads/{thread_id}/runs/wait", responses=error_responses(404, 409))
async def wait_run(context: Ctx, guard: Access, thread_id: str, body: RunRequest) -> Response:
    """Start a run on a thread and answer with its final values (or interrupt, or error)."""
    return await _wait(context, guard, valid_id(thread_id, "thread ID"), body)


@router.post("/runs/wait", responses=error_responses(404))
async def wait_stateless_run(context: Ctx, guard: Access, body: RunRequest) -> Response:
    """Start a stateless run and answer with its final values."""
    return await _wait(context, guard, None, body)


@router.get("/threads/{thread_id}/runs", responses=error_responses(404))
async def list_runs(
    context: Ctx,
    owner: User,
    guard: Access,
    thread_id: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The thread's runs, newest first."""
    thread_id = valid_id(thread_id, "thread ID")
    await guard.list_runs(thread_id)
    runs = await context.runs.list_runs(owner, thread_id, limit=limit, offset=offset)
    return json_response([public_run(run) for run in runs])


@router.get("/threads/{thread_id}/runs/{run_id}", responses=error_responses(404))
async def get_run(
    context: Ctx, owner: User, guard: Access, thread_id: str, run_id: str
) -> Response:
    """One run (a run whose process died reads as failed)."""
    thread_id, run_id = valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    await guard.read_run(thread_id)
    run = await context.runs.get(owner, thread_id, run_id)
    return json_response(public_run(run))


@router.post(
    "/threads/{thread_id}/runs/{run_id}/cancel", responses={**CANCELLING, **error_responses(404)}
)
async def cancel_run(
    context: Ctx,
    owner: User,
    guard: Access,
    thread_id: str,
    run_id: str,
    wait: Annotated[bool, Query()] = False,
    action: Annotated[Literal["interrupt", "rollback"], Query()] = "interrupt",
) -> Response:
    """Cancel a pending or running run (404 once it ended, as LangGraph Server): it reads
    ``interrupted`` at once; 202, or with ``wait=1`` the thread's values once its executor
    stopped it (waiting at most ``LAMBDAGRAPH_CANCEL_WAIT_SECONDS``)."""
    thread_id, run_id = valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    await guard.cancel_run(thread_id, run_id, action)
    run = await context.runs.cancel_active(owner, thread_id, run_id, action)
    if not wait:
        return Response(status_code=202)
    run = await context.runs.settle(run)
    return json_response(await thread_values(context, owner, run), headers=wait_headers(run))


class BulkCancel(BaseModel):
    """``POST /runs/cancel``: ``status``, or ``thread_id`` with ``run_ids`` (LangGraph's
    ``RunsCancel``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    status: Literal["pending", "running", "all"] | None = None
    thread_id: str | None = None
    run_ids: list[str] | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> BulkCancel:
        # LangGraph Server's 422 texts (langgraph-api 0.16.7, api/runs.py cancel_runs and
        # inmem Runs.cancel; checked with `langgraph dev`).
        if self.status is not None and (self.thread_id or self.run_ids):
            raise ValueError(
                "When providing a 'status', 'thread_id' and 'run_ids' must be omitted. The"
                " 'status' parameter cancels all runs with the given status, regardless of"
                " thread or run ID."
            )
        if self.status is None and not (self.thread_id and self.run_ids):
            raise ValueError("Must provide either a status, or both 'thread_id' and 'run_ids'")
        return self


@router.post("/runs/cancel", status_code=204, responses=error_responses(404))
async def cancel_runs(
    context: Ctx,
    owner: User,
    guard: Access,
    body: BulkCancel,
    action: Annotated[Literal["interrupt", "rollback"], Query()] = "interrupt",
) -> Response:
    """Cancel runs in bulk: the given runs of one thread, or all the caller's runs that are
    ``pending``, ``running`` or either (``all``); 404 when none was pending or running."""
    thread_id = valid_id(body.thread_id, "thread ID") if body.thread_id else None
    run_ids = [valid_id(run_id, "run ID") for run_id in body.run_ids or ()]
    filters = await guard.cancel_runs(thread_id, run_ids, body.status, action)
    await context.runs.cancel_many(
        owner,
        thread_id=thread_id,
        run_ids=run_ids,
        status=body.status,
        action=action,
        filters=filters,
    )
    return Response(status_code=204)


@router.delete(
    "/threads/{thread_id}/runs/{run_id}",
    status_code=204,
    responses=error_responses(404, 409),
)
async def delete_run(
    context: Ctx, owner: User, guard: Access, thread_id: str, run_id: str
) -> Response:
    """Delete a run that has ended (409 while it is pending or running: cancel it first)."""
    thread_id, run_id = valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    await guard.delete_run(thread_id, run_id)
    await context.runs.delete(owner, thread_id, run_id)
    return Response(status_code=204)
