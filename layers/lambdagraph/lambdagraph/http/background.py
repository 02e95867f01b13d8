"""Background runs and joining runs: ``POST .../runs``, ``POST /runs/batch``,
``GET .../runs/{rid}/stream``, ``/join``.

A background run is recorded and handed to a worker by the run service; nothing in this
process executes it. Joining follows the run's event log through the service: every event
after ``Last-Event-ID`` (``-1``: from the start; no header: only what comes next), then live
ones until the run ends. The process serving a join need not be the one executing the run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Final

from fastapi import APIRouter, Body, Header, Query, Request
from starlette.responses import Response, StreamingResponse

from lambdagraph.auth.guard import Guard
from lambdagraph.engine import RunRequest, RunService
from lambdagraph.errors import InvalidInput
from lambdagraph.http.body import JsonBodyRoute
from lambdagraph.http.context import Access, ApiContext, Ctx, User, valid_id
from lambdagraph.http.openapi import error_responses, stream_responses
from lambdagraph.http.responses import json_response
from lambdagraph.http.runs import authorized_run, thread_values
from lambdagraph.http.streaming import run_path, stream_headers, wait_headers
from lambdagraph.protocol.events import STREAM_MODES, Event
from lambdagraph.protocol.sse import dumps, encode_comment, encode_event
from lambdagraph.store.events import parse_event_id
from lambdagraph.store.records import FINAL_RUN_STATUSES, Run, public_run

router = APIRouter(tags=["runs"], route_class=JsonBodyRoute)

_ALWAYS_SENT: Final = frozenset({"metadata", "error"})
MAX_BATCH: Final = 100
"""Runs one ``POST /runs/batch`` may start (LangGraph Server sets no limit; each run here
invokes a worker, so one request must not start thousands)."""


async def _start(
    context: ApiContext, guard: Guard, thread_id: str | None, body: RunRequest
) -> Response:
    body = await authorized_run(guard, thread_id, body)
    run = await context.runs.start(guard.identity.user_id, body, thread_id=thread_id)
    return json_response(public_run(run), headers={"Content-Location": run_path(run)})


@router.post("/threads/{thread_id}/runs", responses=error_responses(404, 409))
async def create_background_run(
    context: Ctx, guard: Access, thread_id: str, body: RunRequest
) -> Response:
    """Start a run in the background (a worker executes it); answers with the run at once."""
    return await _start(context, guard, valid_id(thread_id, "thread ID"), body)


@router.post("/runs", responses=error_responses(404))
async def create_stateless_background_run(
    context: Ctx, guard: Access, body: RunRequest
) -> Response:
    """Start a stateless run in the background."""
    return await _start(context, guard, None, body)


@router.post("/runs/batch", responses=error_responses(404))
async def create_run_batch(
    context: Ctx,
    guard: Access,
    body: Annotated[list[RunRequest], Body(min_length=1, max_length=MAX_BATCH)],
) -> Response:
    """Start several stateless background runs; answers with the runs, in request order.

    Every request is checked (graph, input, webhook, auth handler) before the first run is
    recorded, so a bad one starts none of them.
    """
    owner = guard.identity.user_id
    requests = [await authorized_run(guard, None, request) for request in body]
    for request in requests:
        await context.runs.check(owner, request)
    runs = [await context.runs.start(owner, request, thread_id=None) for request in requests]
    return json_response([public_run(run) for run in runs])


@router.get(
    "/threads/{thread_id}/runs/{run_id}/stream",
    response_class=StreamingResponse,
    responses=stream_responses(404),
)
async def join_stream(
    context: Ctx,
    owner: User,
    guard: Access,
    request: Request,
    thread_id: str,
    run_id: str,
    cancel_on_disconnect: Annotated[bool, Query()] = False,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Stream a run's events: replay after ``Last-Event-ID``, then follow until it ends."""
    thread_id, run_id = valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    modes = parse_stream_modes(request.query_params.getlist("stream_mode"))
    await guard.read_run(thread_id)
    run = await context.runs.get(owner, thread_id, run_id)
    if last_event_id is None or last_event_id.strip() == "":
        after = await context.runs.last_event_seq(run_id)
    else:
        after = parse_event_id(last_event_id)
    on_gone = context.runs.cancel_later(run) if cancel_on_disconnect else None
    return StreamingResponse(
        follow_run(
            context.runs,
            run,
            after,
            modes=modes,
            heartbeat=context.settings.heartbeat_seconds,
            on_gone=on_gone,
        ),
        media_type="text/event-stream",
        headers=stream_headers(run),
    )


@router.get("/threads/{thread_id}/runs/{run_id}/join", responses=error_responses(404))
async def join_run(
    context: Ctx, owner: User, guard: Access, thread_id: str, run_id: str
) -> Response:
    """Wait for a run (background or not) to end; answer with the thread's values.

    Like ``/wait``, the body starts with newlines while the run works (JSON ignores them),
    so proxies do not cut a long wait.
    """
    thread_id, run_id = valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    await guard.read_run(thread_id)
    run = await context.runs.get(owner, thread_id, run_id)
    return StreamingResponse(
        _join_body(context, owner, run),
        media_type="application/json",
        headers=wait_headers(run),
    )


async def _join_body(context: ApiContext, owner: str, run: Run) -> AsyncIterator[bytes]:
    # Wake up now and then to keep the connection alive and notice a dead worker.
    pause = min(context.settings.heartbeat_seconds, context.runs.durable.leases.lease_seconds)
    async for current in context.runs.watch(run, pause=pause):
        if current["status"] not in FINAL_RUN_STATUSES:
            yield b"\n"
    yield dumps(await thread_values(context, owner, run))


def parse_stream_modes(raw: list[str]) -> frozenset[str] | None:
    """Requested modes from ``stream_mode`` query values: one name, a JSON array, repeated.

    Returns:
        The modes, or ``None`` for "every event the run logged".

    Raises:
        InvalidInput: a value is not a known stream mode.
    """
    modes: list[str] = []
    for value in raw:
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                raise InvalidInput(f"stream_mode {value!r} is not a JSON array") from None
            if not isinstance(parsed, list) or not all(isinstance(m, str) for m in parsed):
                raise InvalidInput("stream_mode must be a mode name or a JSON array of names")
            modes.extend(parsed)
        elif text:
            modes.append(text)
    for mode in modes:
        if mode not in STREAM_MODES:
            raise InvalidInput(
                f"Unknown stream mode {mode!r}; expected one of {sorted(STREAM_MODES)}"
            )
    return frozenset(modes) or None


def event_mode(name: str) -> str:
    """The stream mode that produces events named ``name`` (``updates|sub:1`` → ``updates``)."""
    base = name.split("|", 1)[0]
    if base.startswith("messages/"):
        return "messages"
    if base == "messages":
        return "messages-tuple"
    return base


def _wanted(event: Event, modes: frozenset[str] | None) -> bool:
    if modes is None or event.event in _ALWAYS_SENT:
        return True
    mode = event_mode(event.event)
    return mode in modes or (mode == "messages-tuple" and "messages" in modes)


async def follow_run(
    runs: RunService,
    run: Run,
    after: int,
    *,
    modes: frozenset[str] | None = None,
    heartbeat: float = 10.0,
    on_gone: Callable[[], None] | None = None,
) -> AsyncIterator[bytes]:
    """SSE frames of ``run``'s events after ``after`` (see :meth:`RunService.follow`),
    with heartbeat comments while it is quiet."""
    finished = False
    loop = asyncio.get_running_loop()
    last_sent = loop.time()
    try:
        async for events in runs.follow(run, after):
            frames = [encode_event(e) for e in events if _wanted(e, modes)]
            if frames:
                yield b"".join(frames)
                last_sent = loop.time()
            elif loop.time() - last_sent >= heartbeat:
                yield encode_comment("heartbeat")
                last_sent = loop.time()
        finished = True
    finally:
        if not finished and on_gone is not None:
            on_gone()
