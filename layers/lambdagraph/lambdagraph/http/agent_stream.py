"""The Agent Streaming Protocol over HTTP: thread commands and the thread's SSE stream.

* ``POST /threads/{tid}/commands``: one command (``{id, method, params}``) in, its
  ``success``/``error`` response out (200; 400 when the body is not a command at all).
* ``POST /threads/{tid}/stream/events``: ``{channels, namespaces?, depth?, since?}`` in,
  SSE out: each frame as ``event: <method>``, ``data: <frame>``, ``id: <seq>``, as
  LangGraph Server writes it. The stream replays the thread log after ``since``, goes live,
  sends heartbeats, and ends once the thread has been idle for
  ``LAMBDAGRAPH_AGENT_STREAM_IDLE_SECONDS`` (an open stream is a billed invocation).

Both call :class:`~lambdagraph.engine.ThreadStreams`; this module only translates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from lambdagraph.engine import RUN_RECORDING_COMMANDS, ThreadStreams, protocol_code
from lambdagraph.errors import BadJson, InvalidRequest, LambdagraphError
from lambdagraph.http.context import Access, User, get_context, valid_id
from lambdagraph.http.responses import json_response
from lambdagraph.protocol.agent import (
    ProtocolError,
    error,
    parse_command,
    parse_since,
    parse_subscription,
)
from lambdagraph.protocol.codec import loads
from lambdagraph.protocol.events import Event
from lambdagraph.protocol.sse import encode_comment, encode_event

router = APIRouter(tags=["agent-stream"])

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
COALESCE_SECONDS = 0.005
"""Frames arriving within this long of the previous write go out together, in one write:
a streamed answer costs a socket write per few tokens, not per token. A frame after a
quiet spell is written at once."""


async def _count(request: Request, user: str) -> None:
    await get_context(request).store.limits.count_request(user)


# This router counts its requests itself (it is served without the app's RATE_LIMIT): a
# command of RUN_RECORDING_COMMANDS in its run's create transaction, as the run routes of
# ``http.limits``, so run.start makes no write of its own before it; a stream beside its
# first reads.


def thread_streams(request: Request) -> ThreadStreams:
    """The app's :class:`ThreadStreams` (``create_app`` puts it on ``app.state``)."""
    streams: ThreadStreams = request.app.state.thread_streams
    return streams


async def _body(request: Request) -> Any:
    try:
        return loads(await request.body())
    except (BadJson, InvalidRequest) as exc:
        raise ProtocolError("invalid_argument", exc.message) from None


@router.post("/threads/{thread_id}/commands")
async def thread_command(
    thread_id: str, request: Request, user: User, access: Access
) -> Response:
    """Run one protocol command on the thread."""
    valid_id(thread_id, "thread_id")
    try:
        payload = await _body(request)
    except ProtocolError as exc:
        await _count(request, user)
        return json_response({"detail": exc.message}, status_code=400)
    if not isinstance(payload, dict) or payload.get("method") not in RUN_RECORDING_COMMANDS:
        await _count(request, user)  # else the run's create transaction counts it
    try:
        command_id, method, params = parse_command(payload)
    except ProtocolError as exc:
        raw_id = payload.get("id") if isinstance(payload, dict) else None
        bad_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        return json_response(error(bad_id, exc.code, exc.message), status_code=400)
    try:
        params = await access.agent_command(thread_id, method, params)
    except LambdagraphError as exc:  # refused, or filtered out: the protocol's error answer
        return json_response(error(command_id, *protocol_code(exc)))
    command = {**payload, "params": params}
    return json_response(await thread_streams(request).command(user, thread_id, command))


@router.post("/threads/{thread_id}/stream/events")
async def thread_events(
    thread_id: str, request: Request, user: User, access: Access
) -> Response:
    """The thread's frames matching the body's filter: replay after ``since``, then live."""
    valid_id(thread_id, "thread_id")
    await access.read_run(thread_id)
    try:
        body = await _body(request)
        subscription = parse_subscription(body)
        since = parse_since(body.get("since"))
    except ProtocolError as exc:
        return json_response({"detail": exc.message}, status_code=400)
    try:
        # An unknown thread raises here: a 404, not a broken stream. The request is counted
        # beside the stream's first reads.
        count = _count(request, user)
        batches = await thread_streams(request).open(
            user, thread_id, subscription, since, beside=count
        )
    except ProtocolError as exc:
        return json_response({"detail": exc.message}, status_code=400)
    heartbeat = request.app.state.context.settings.heartbeat_seconds
    return StreamingResponse(
        _sse(batches, heartbeat),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


async def _sse(
    batches: AsyncGenerator[list[dict[str, Any]], None], heartbeat: float
) -> AsyncIterator[bytes]:
    loop_time = asyncio.get_running_loop().time
    quiet_since = loop_time()
    written_at = float("-inf")
    try:
        while True:
            wait = written_at + COALESCE_SECONDS - loop_time()
            if wait > 0:
                await asyncio.sleep(wait)  # what the run sends meanwhile joins one write
            try:
                batch = await anext(batches)
            except StopAsyncIteration:
                return
            if batch:
                quiet_since = written_at = loop_time()
                yield b"".join(
                    encode_event(Event(str(f["method"]), f, str(f["seq"]))) for f in batch
                )
            elif loop_time() - quiet_since >= heartbeat:
                quiet_since = loop_time()
                yield encode_comment("heartbeat")
    finally:
        with contextlib.suppress(Exception):
            await batches.aclose()
