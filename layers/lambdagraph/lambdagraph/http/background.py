"""Background runs and joining runs: ``POST .../runs``, ``GET .../runs/{rid}/stream``, ``/join``.

A background run is recorded, then handed to a worker invocation; nothing in this process
executes it. Joining reads the run's event log: every event after ``Last-Event-ID`` (``-1``:
from the start; no header: only what comes next), then follows the log with consistent reads
until its end marker. The process serving a join need not be the one executing the run.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Final

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response, StreamingResponse

from lambdagraph.engine.durable import DurableRuns
from lambdagraph.errors import ConfigurationError, InvalidInput, NotFound
from lambdagraph.http.context import ApiContext, Ctx, User, valid_id
from lambdagraph.http.models import RunCreate
from lambdagraph.http.responses import json_response
from lambdagraph.http.runs import create_run
from lambdagraph.http.state import read_values
from lambdagraph.http.streaming import cancel_when_gone, stream_headers, wait_headers
from lambdagraph.protocol.events import STREAM_MODES, Event
from lambdagraph.protocol.sse import dumps, encode_comment, encode_event
from lambdagraph.store.events import parse_event_id
from lambdagraph.store.records import FINAL_RUN_STATUSES, Run, public_run

logger = logging.getLogger(__name__)

router = APIRouter(tags=["runs"])

POLL_SECONDS: Final = 0.1
"""How often a join reads the event log while the run is quiet."""

# A logged run that is over but has no end marker this long after was cut short between its
# last batch and the marker (a crash, a lost batch): stop following, skipping any gap.
_UNLOGGED_GRACE: Final = 2.0
_ALWAYS_SENT: Final = frozenset({"metadata", "error"})


def durable_of(context: ApiContext) -> DurableRuns:
    """The app's durable-run machinery (configured by ``create_app``)."""
    if context.durable is None:
        raise ConfigurationError("Background runs need a worker invoker; none is configured")
    return context.durable


async def _start(
    context: ApiContext, owner: str, thread_id: str | None, body: RunCreate
) -> Response:
    durable = durable_of(context)
    if durable.invoker is None:
        raise ConfigurationError("Background runs need LAMBDAGRAPH_WORKER_FUNCTION")
    run = await create_run(context, owner, thread_id, body)
    await durable.start_background(run)
    headers = {"Content-Location": f"/threads/{run['thread_id']}/runs/{run['run_id']}"}
    return json_response(public_run(run), headers=headers)


@router.post("/threads/{thread_id}/runs")
async def create_background_run(
    context: Ctx, owner: User, thread_id: str, body: RunCreate
) -> Response:
    """Start a run in the background (a worker executes it); answers with the run at once."""
    return await _start(context, owner, valid_id(thread_id, "thread ID"), body)


@router.post("/runs")
async def create_stateless_background_run(context: Ctx, owner: User, body: RunCreate) -> Response:
    """Start a stateless run in the background."""
    return await _start(context, owner, None, body)


@router.get("/threads/{thread_id}/runs/{run_id}/stream")
async def join_stream(
    context: Ctx,
    owner: User,
    request: Request,
    thread_id: str,
    run_id: str,
    cancel_on_disconnect: Annotated[bool, Query()] = False,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Stream a run's events: replay after ``Last-Event-ID``, then follow until it ends."""
    thread_id, run_id = valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    modes = parse_stream_modes(request.query_params.getlist("stream_mode"))
    durable = durable_of(context)
    run = await durable.recover(await context.store.get_run(owner, thread_id, run_id))
    if last_event_id is None or last_event_id.strip() == "":
        after = await durable.log.last_seq(run_id)
    else:
        after = parse_event_id(last_event_id)
    on_gone = cancel_when_gone(context, owner, run) if cancel_on_disconnect else None
    return StreamingResponse(
        follow_run(
            durable,
            run,
            after,
            modes=modes,
            heartbeat=context.settings.heartbeat_seconds,
            on_gone=on_gone,
        ),
        media_type="text/event-stream",
        headers=stream_headers(run),
    )


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_run(context: Ctx, owner: User, thread_id: str, run_id: str) -> Response:
    """Wait for a run (background or not) to end; answer with the thread's values.

    Like ``/wait``, the body starts with newlines while the run works (JSON ignores them),
    so proxies do not cut a long wait.
    """
    thread_id, run_id = valid_id(thread_id, "thread ID"), valid_id(run_id, "run ID")
    durable = durable_of(context)
    run = await context.store.get_run(owner, thread_id, run_id)
    return StreamingResponse(
        _join_body(context, durable, owner, run),
        media_type="application/json",
        headers=wait_headers(run),
    )


async def _join_body(
    context: ApiContext, durable: DurableRuns, owner: str, run: Run
) -> AsyncIterator[bytes]:
    thread_id, run_id = run["thread_id"], run["run_id"]
    pause = min(context.settings.heartbeat_seconds, durable.leases.lease_seconds)
    while run["status"] not in FINAL_RUN_STATUSES:
        # Wake up now and then to keep the connection alive and notice a dead worker.
        try:
            run = await context.store.wait_for_run(owner, thread_id, run_id, timeout=pause)
            run = await durable.recover(run)
        except NotFound:
            break  # a stateless run's records go with its temporary thread
        if run["status"] not in FINAL_RUN_STATUSES:
            yield b"\n"
    try:
        thread = await context.store.get_thread(owner, thread_id)
    except NotFound:
        yield dumps({})
        return
    yield dumps(await read_values(context, owner, thread))


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
    durable: DurableRuns,
    run: Run,
    after: int,
    *,
    modes: frozenset[str] | None = None,
    heartbeat: float = 10.0,
    on_gone: Callable[[], None] | None = None,
    poll: float = POLL_SECONDS,
) -> AsyncIterator[bytes]:
    """SSE frames of every logged event of ``run`` after ``after``, until its log ends.

    Reads the log with consistent reads every ``poll`` seconds while nothing arrives. Checks
    the run now and then: a durable run whose worker died is recovered (it ends with its
    ``error`` event); a run that was never logged (streamed without ``stream_resumable``)
    ends the join as soon as it is over.
    """
    finished = False
    run_id = run["run_id"]
    loop = asyncio.get_running_loop()
    last_sent = loop.time()
    last_check = -float("inf")
    final_since: float | None = None
    logged = False
    try:
        while True:
            late = final_since is not None and loop.time() - final_since > _UNLOGGED_GRACE
            read = await durable.log.read_after(run_id, after, skip_gaps=late)
            if read.events:
                after = int(read.events[-1].id or after)
                frames = [encode_event(e) for e in read.events if _wanted(e, modes)]
                if frames:
                    yield b"".join(frames)
                    last_sent = loop.time()
            if read.ended:
                finished = True
                return
            now = loop.time()
            # Durable runs are checked about twice per lease (a dead worker shows within
            # one and a half leases); unlogged ones often, since only their status tells.
            check_every = min(durable.leases.lease_seconds / 2, 5.0) if logged else 5 * poll
            if not read.events and now - last_check >= check_every:
                last_check = now
                logged = logged or await durable.leases.get(run_id) is not None
                try:
                    run = await durable.recover(await durable.store.read_run(run))
                    final = run["status"] in FINAL_RUN_STATUSES
                except NotFound:
                    final = True  # a stateless run's records go with its temporary thread
                if final and final_since is None:
                    final_since = now
            if final_since is not None and (not logged or late):
                finished = True  # over, and nothing (more) will be logged
                return
            if now - last_sent >= heartbeat:
                yield encode_comment("heartbeat")
                last_sent = now
            if not read.events:
                await asyncio.sleep(poll)
    finally:
        if not finished and on_gone is not None:
            on_gone()
