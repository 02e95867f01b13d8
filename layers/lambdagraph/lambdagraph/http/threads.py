"""Thread routes: create, read, delete, search, and the state and history of a thread."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from starlette.responses import Response

from lambdagraph.http.body import JsonBodyRoute
from lambdagraph.http.context import Ctx, User, valid_id
from lambdagraph.http.models import HistoryRequest, ThreadCreate, ThreadSearch
from lambdagraph.http.openapi import error_responses
from lambdagraph.http.responses import json_response
from lambdagraph.http.state import read_history, read_state
from lambdagraph.store.records import public_thread

router = APIRouter(tags=["threads"], route_class=JsonBodyRoute)


@router.post("/threads", responses=error_responses(409))
async def create_thread(
    context: Ctx, owner: User, body: Annotated[ThreadCreate | None, Body()] = None
) -> Response:
    """Create a thread (``if_exists="do_nothing"`` returns the existing one instead of 409)."""
    body = body or ThreadCreate()
    thread = await context.store.create_thread(
        owner,
        thread_id=body.thread_id,
        metadata=body.metadata,
        if_exists=body.if_exists or "raise",
    )
    return json_response(public_thread(thread))


@router.post("/threads/search")
async def search_threads(
    context: Ctx, owner: User, body: Annotated[ThreadSearch | None, Body()] = None
) -> Response:
    """The caller's threads, newest first, filtered by metadata and status."""
    body = body or ThreadSearch()
    threads = await context.store.search_threads(
        owner, metadata=body.metadata, status=body.status, limit=body.limit, offset=body.offset
    )
    return json_response([public_thread(thread) for thread in threads])


@router.get("/threads/{thread_id}", responses=error_responses(404))
async def get_thread(context: Ctx, owner: User, thread_id: str) -> Response:
    """One thread; another user's thread is a 404."""
    thread = await context.store.get_thread(owner, valid_id(thread_id, "thread ID"))
    return json_response(public_thread(thread))


@router.delete(
    "/threads/{thread_id}", status_code=204, responses=error_responses(404)
)
async def delete_thread(context: Ctx, owner: User, thread_id: str) -> Response:
    """Delete a thread and its runs."""
    thread_id = valid_id(thread_id, "thread ID")
    await context.store.get_thread(owner, thread_id)
    await context.store.delete_thread(owner, thread_id)
    return Response(status_code=204)


@router.get("/threads/{thread_id}/state", responses=error_responses(404))
async def get_state(
    context: Ctx, owner: User, thread_id: str, subgraphs: Annotated[bool, Query()] = False
) -> Response:
    """The thread's current state (``ThreadState``)."""
    thread = await context.store.get_thread(owner, valid_id(thread_id, "thread ID"))
    return json_response(await read_state(context, owner, thread, subgraphs=subgraphs))


@router.post("/threads/{thread_id}/history", responses=error_responses(404))
async def get_history(
    context: Ctx,
    owner: User,
    thread_id: str,
    body: Annotated[HistoryRequest | None, Body()] = None,
) -> Response:
    """Past states of the thread, newest first."""
    body = body or HistoryRequest()
    thread = await context.store.get_thread(owner, valid_id(thread_id, "thread ID"))
    states = await read_history(
        context,
        owner,
        thread,
        limit=body.limit,
        before=body.before,
        metadata=body.metadata,
        checkpoint=body.checkpoint,
    )
    return json_response(states)
