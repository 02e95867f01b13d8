"""Thread routes: create, read, update, copy, delete, search, count; state and history."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Header, Query
from starlette.responses import Response

from lambdagraph.errors import Conflict, InvalidInput, NotFound
from lambdagraph.http import state
from lambdagraph.http.body import JsonBodyRoute
from lambdagraph.http.context import Access, Ctx, User, valid_id
from lambdagraph.http.models import (
    HistoryRequest,
    StateAtCheckpoint,
    StateUpdate,
    ThreadCount,
    ThreadCreate,
    ThreadPatch,
    ThreadSearch,
    ThreadTtl,
)
from lambdagraph.http.openapi import error_responses
from lambdagraph.http.responses import json_response
from lambdagraph.store.filters import matches
from lambdagraph.store.records import public_thread
from lambdagraph.store.threads import Ttl

router = APIRouter(tags=["threads"], route_class=JsonBodyRoute)

_MINIMAL: dict[int | str, dict[str, Any]] = {
    204: {"description": "Updated; no body (``Prefer: return=minimal``)"}
}


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
            owner,
            thread_id=body.thread_id,
            metadata=metadata,
            if_exists=if_exists,
            ttl=_ttl(body.ttl),
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
    """The caller's threads, filtered by ids, metadata and status, sorted and paged.

    Sorting follows LangGraph Server 0.16.7: newest ``updated_at`` first by default;
    with ``sort_by``, descending unless ``sort_order="asc"``. ``select`` keeps only the
    named fields.
    """
    body = body or ThreadSearch()
    _refuse_unsupported(body)
    filters = await guard.check("threads", "search", _search_value(body, body.limit, body.offset))
    threads = await context.store.search_threads(
        owner,
        metadata=body.metadata,
        status=body.status,
        ids=body.ids,
        limit=body.limit,
        offset=body.offset,
        sort_by=body.sort_by,
        sort_order=body.sort_order,
        filters=filters,
    )
    found = [public_thread(thread) for thread in threads]
    if body.select:
        found = [{k: v for k, v in t.items() if k in body.select} for t in found]
    return json_response(found)


@router.post("/threads/count")
async def count_threads(
    context: Ctx, owner: User, guard: Access, body: Annotated[ThreadCount | None, Body()] = None
) -> Response:
    """How many of the caller's threads match the metadata and status (a bare integer)."""
    body = body or ThreadCount()
    _refuse_unsupported(body)
    filters = await guard.check("threads", "search", _search_value(body, 0, 0))
    count = await context.store.count_threads(
        owner, metadata=body.metadata, status=body.status, filters=filters
    )
    return json_response(count)


@router.get("/threads/{thread_id}", responses=error_responses(404))
async def get_thread(
    context: Ctx,
    owner: User,
    guard: Access,
    thread_id: str,
    include: Annotated[str, Query()] = "",
) -> Response:
    """One thread; another user's thread is a 404. ``include=ttl`` adds its TTL, if set."""
    thread_id = valid_id(thread_id, "thread ID")
    filters = await guard.check("threads", "read", {"thread_id": UUID(thread_id)})
    thread = await context.store.get_thread(owner, thread_id, filters=filters)
    wanted = {part.strip() for part in include.split(",")}
    return json_response(public_thread(thread, include_ttl="ttl" in wanted))


@router.patch("/threads/{thread_id}", responses={**error_responses(404), **_MINIMAL})
async def patch_thread(
    context: Ctx,
    owner: User,
    guard: Access,
    thread_id: str,
    body: Annotated[ThreadPatch | None, Body()] = None,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    """Merge metadata into the thread's (top-level keys replaced) and restart its TTL.

    ``Prefer: return=minimal`` answers 204 with no body, as LangGraph Server does.
    """
    body = body or ThreadPatch()
    thread_id = valid_id(thread_id, "thread ID")
    value: dict[str, Any] = {"thread_id": UUID(thread_id), "metadata": dict(body.metadata or {})}
    filters = await guard.check("threads", "update", value)
    metadata = value.get("metadata")  # as the handler left it
    thread = await context.store.update_thread(
        owner,
        thread_id,
        metadata=metadata if isinstance(metadata, dict) else {},
        ttl=_ttl(body.ttl),
        filters=filters,
    )
    if prefer == "return=minimal":
        return Response(status_code=204)
    return json_response(public_thread(thread))


@router.post("/threads/{thread_id}/copy", responses=error_responses(409))
async def copy_thread(context: Ctx, owner: User, guard: Access, thread_id: str) -> Response:
    """A new thread of the caller's with this one's metadata and whole history.

    An unknown (or another user's) thread answers 409, as LangGraph Server 0.16.7 does.
    """
    thread_id = valid_id(thread_id, "thread ID")
    filters = await guard.check("threads", "read", {"thread_id": UUID(thread_id)})
    copy_id = str(uuid.uuid4())
    await guard.check("threads", "create", {"thread_id": UUID(copy_id)})
    try:
        thread = await context.store.get_thread(owner, thread_id, filters=filters)
    except NotFound:
        raise Conflict(f"Thread {thread_id} not found") from None
    copy = await state.copy_thread(context, owner, thread, copy_id)
    return json_response(public_thread(copy))


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
    return json_response(await state.read_state(context, owner, thread, subgraphs=subgraphs))


@router.post("/threads/{thread_id}/state", responses=error_responses(400, 404, 409))
async def update_state(
    context: Ctx, owner: User, guard: Access, thread_id: str, body: StateUpdate
) -> Response:
    """Update the thread's state as a node would (``client.threads.update_state``)."""
    thread_id = valid_id(thread_id, "thread ID")
    filters = await guard.check("threads", "update", {"thread_id": UUID(thread_id)})
    thread = await context.store.get_thread(owner, thread_id, filters=filters)
    checkpoint = dict(body.checkpoint or {})
    if body.checkpoint_id is not None:
        checkpoint.setdefault("checkpoint_id", body.checkpoint_id)
    answer = await state.update_state(
        context, owner, thread, body.values, as_node=body.as_node, checkpoint=checkpoint
    )
    return json_response(answer)


@router.post("/threads/{thread_id}/state/checkpoint", responses=error_responses(404))
async def get_state_at_checkpoint_post(
    context: Ctx, owner: User, guard: Access, thread_id: str, body: StateAtCheckpoint
) -> Response:
    """The thread's state at a checkpoint (``get_state(checkpoint=...)`` sends this)."""
    thread_id = valid_id(thread_id, "thread ID")
    filters = await guard.check("threads", "read", {"thread_id": UUID(thread_id)})
    thread = await context.store.get_thread(owner, thread_id, filters=filters)
    found = await state.read_state(
        context, owner, thread, subgraphs=body.subgraphs, checkpoint=body.checkpoint
    )
    return json_response(found)


@router.get("/threads/{thread_id}/state/{checkpoint_id}", responses=error_responses(404))
async def get_state_at_checkpoint(
    context: Ctx,
    owner: User,
    guard: Access,
    thread_id: str,
    checkpoint_id: str,
    subgraphs: Annotated[bool, Query()] = False,
) -> Response:
    """The thread's state at a checkpoint of the root graph (``get_state(checkpoint_id=)``)."""
    thread_id = valid_id(thread_id, "thread ID")
    filters = await guard.check("threads", "read", {"thread_id": UUID(thread_id)})
    thread = await context.store.get_thread(owner, thread_id, filters=filters)
    found = await state.read_state(
        context, owner, thread, subgraphs=subgraphs, checkpoint={"checkpoint_id": checkpoint_id}
    )
    return json_response(found)


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
    states = await state.read_history(
        context,
        owner,
        thread,
        limit=body.limit,
        before=body.before,
        metadata=body.metadata,
        checkpoint=body.checkpoint,
    )
    return json_response(states)


def _ttl(ttl: ThreadTtl | None) -> Ttl | None:
    return None if ttl is None else (ttl.ttl, ttl.strategy)


def _search_value(body: ThreadCount, limit: int, offset: int) -> dict[str, Any]:
    # What LangGraph Server hands a ``threads.search`` handler (``ThreadsSearch``).
    return {
        "metadata": dict(body.metadata or {}),
        "values": dict(body.values or {}),
        "status": body.status,
        "limit": limit,
        "offset": offset,
    }


def _refuse_unsupported(body: ThreadCount) -> None:
    # A thread's values live in its checkpoints, not its record: filtering on them would
    # read every thread's state. Refused plainly rather than ignored.
    if body.values:
        raise InvalidInput("Filtering threads by 'values' is not supported")
    if isinstance(body, ThreadSearch) and body.extract:
        raise InvalidInput("'extract' is not supported")

