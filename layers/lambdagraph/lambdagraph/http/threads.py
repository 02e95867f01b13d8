"""Thread routes: create, read, delete, search, and the state and history of a thread."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query
from starlette.responses import Response

from lambdagraph.errors import Conflict, NotFound
from lambdagraph.http.body import JsonBodyRoute
from lambdagraph.http.context import Access, Ctx, User, valid_id
from lambdagraph.http.models import HistoryRequest, ThreadCreate, ThreadSearch
from lambdagraph.http.openapi import error_responses
from lambdagraph.http.responses import json_response
from lambdagraph.http.state import read_history, read_state
from lambdagraph.store.filters import matches
from lambdagraph.store.records import public_thread

router = APIRouter(tags=["threads"], route_class=JsonBodyRoute)


@router.post("/threads", responses=error_responses(409))
async def create_thread(
    context: Ctx, owner: User, guard: Access, body: Annotated[ThreadCreate | None, Body()] = None
) -> Response:
    """Create a thread (``if_exists="do_nothing"`` returns the caller's existing one).

    An id that is taken answers the same 409 whoever holds it (ids are global): another
    user's thread, the caller's own, or a deleted thread still being erased.
    """
    body = body or ThreadCreate()
    if_exists = body.if_exists or "raise"
    metadata, filters = await guard.create_thread(body.thread_id, body.metadata, if_exists)
    try:
        thread = await context.store.create_thread(
            owner, thread_id=body.thread_id, metadata=metadata, if_exists=if_exists
        )
    except (Conflict, NotFound):
        if body.thread_id is not None:  # a deleted thread whose erasure stopped? restart it
            await context.eraser.revive(body.thread_id)
        raise
    if not matches(thread["metadata"], filters):  # an existing one the handler hides
        raise Conflict(f"Thread {thread['thread_id']} already exists")
    return json_response(public_thread(thread))


@router.post("/threads/search")
async def search_threads(
    context: Ctx, owner: User, guard: Access, body: Annotated[ThreadSearch | None, Body()] = None
) -> Response:
    """The caller's threads, newest first, filtered by metadata and status."""
    body = body or ThreadSearch()
    value = {
        "metadata": dict(body.metadata or {}),
        "values": {},
        "status": body.status,
        "limit": body.limit,
        "offset": body.offset,
    }
    filters = await guard.check("threads", "search", value)
    threads = await context.store.search_threads(
        owner,
        metadata=body.metadata,
        status=body.status,
        limit=body.limit,
        offset=body.offset,
        filters=filters,
    )
    return json_response([public_thread(thread) for thread in threads])


@router.get("/threads/{thread_id}", responses=error_responses(404))
async def get_thread(context: Ctx, owner: User, guard: Access, thread_id: str) -> Response:
    """One thread; another user's thread is a 404."""
    thread_id = valid_id(thread_id, "thread ID")
    filters = await guard.check("threads", "read", {"thread_id": UUID(thread_id)})
    thread = await context.store.get_thread(owner, thread_id, filters=filters)
    return json_response(public_thread(thread))


@router.delete(
    "/threads/{thread_id}", status_code=204, responses=error_responses(404)
)
async def delete_thread(context: Ctx, owner: User, guard: Access, thread_id: str) -> Response:
    """Delete a thread: gone at once, everything it owned erased in the background.

    One conditional write, whatever the thread holds; its active run is cancelled, and its
    checkpoints, runs and event logs are erased by a worker (``lambdagraph.engine.erase``).
    """
    thread_id = valid_id(thread_id, "thread ID")
    await guard.thread("delete", thread_id)
    await context.eraser.delete(owner, thread_id)
    return Response(status_code=204)


@router.get("/threads/{thread_id}/state", responses=error_responses(404))
async def get_state(
    context: Ctx,
    owner: User,
    guard: Access,
    thread_id: str,
    subgraphs: Annotated[bool, Query()] = False,
) -> Response:
    """The thread's current state (``ThreadState``)."""
    thread_id = valid_id(thread_id, "thread ID")
    filters = await guard.check("threads", "read", {"thread_id": UUID(thread_id)})
    thread = await context.store.get_thread(owner, thread_id, filters=filters)
    return json_response(await read_state(context, owner, thread, subgraphs=subgraphs))


@router.post("/threads/{thread_id}/history", responses=error_responses(404))
async def get_history(
    context: Ctx,
    owner: User,
    guard: Access,
    thread_id: str,
    body: Annotated[HistoryRequest | None, Body()] = None,
) -> Response:
    """Past states of the thread, newest first."""
    body = body or HistoryRequest()
    thread_id = valid_id(thread_id, "thread ID")
    filters = await guard.check("threads", "read", {"thread_id": UUID(thread_id)})
    thread = await context.store.get_thread(owner, thread_id, filters=filters)
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

