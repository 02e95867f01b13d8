"""Cron routes: ``/runs/crons`` and ``/threads/{tid}/runs/crons`` (see ``engine.crons``).

Authorized as LangGraph Server does it (``@auth.on.crons.<action>`` with its value dicts);
a handler's filters apply to the cron's metadata, and a cron they hide is not found.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response

from lambdagraph.auth.guard import Guard
from lambdagraph.engine import (
    CRON_FIELDS,
    STRICT,
    CronCreate,
    CronPatch,
    CronService,
    CronSort,
    schedules_from_settings,
)
from lambdagraph.http.body import JsonBodyRoute
from lambdagraph.http.context import Access, User, get_context, valid_id
from lambdagraph.http.openapi import error_responses
from lambdagraph.http.responses import json_response, pagination_headers
from lambdagraph.store.crons import Cron, CronStore, cron_not_found
from lambdagraph.store.filters import Filters, matches

router = APIRouter(tags=["crons"], route_class=JsonBodyRoute)

CronField = Literal[
    "cron_id",
    "assistant_id",
    "thread_id",
    "user_id",
    "schedule",
    "timezone",
    "end_time",
    "payload",
    "metadata",
    "on_run_completed",
    "enabled",
    "next_run_date",
    "created_at",
    "updated_at",
]


class CronCount(BaseModel):
    """``POST /runs/crons/count``."""

    model_config = STRICT
    assistant_id: str | None = None
    thread_id: str | None = None
    metadata: dict[str, Any] | None = None


class CronSearch(CronCount):
    """``POST /runs/crons/search``, as ``langgraph-sdk`` sends it."""

    enabled: bool | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: CronSort | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[CronField] | None = None


def get_crons(request: Request) -> CronService:
    """The app's cron service, built on first use from its store, graphs and settings."""
    service: CronService | None = getattr(request.app.state, "crons", None)
    if service is None:
        context = get_context(request)
        store = CronStore(context.store.table_name, client=context.store.client)
        schedules = schedules_from_settings(context.settings)
        service = CronService(store, context.store, context.runs.assistants, schedules)
        request.app.state.crons = service
    return service


async def _create(
    crons: CronService, owner: str, guard: Guard, body: CronCreate, thread_id: str | None
) -> Response:
    value: dict[str, Any] = {
        "payload": body.model_dump(mode="json", exclude_unset=True),
        "schedule": body.schedule,
        "cron_id": None,
        "thread_id": UUID(thread_id) if thread_id else None,
        "user_id": owner,
        "end_time": body.end_time,
        "metadata": dict(body.metadata or {}),
    }
    await guard.check("crons", "create", value)
    if thread_id is not None:
        await guard.thread("read", thread_id)
    stamped = value.get("metadata")
    if isinstance(stamped, dict):
        body = body.model_copy(update={"metadata": stamped})
    cron = await crons.create(owner, body, thread_id=thread_id)
    return json_response(cron)


@router.post("/threads/{thread_id}/runs/crons", responses=error_responses(404))
async def create_thread_cron(
    request: Request, owner: User, guard: Access, thread_id: str, body: CronCreate
) -> Response:
    """Create a cron that runs on the given thread."""
    thread_id = valid_id(thread_id, "thread ID")
    return await _create(get_crons(request), owner, guard, body, thread_id)


@router.post("/runs/crons", responses=error_responses(404))
async def create_cron(request: Request, owner: User, guard: Access, body: CronCreate) -> Response:
    """Create a stateless cron: each run gets a new thread (deleted after, unless kept)."""
    return await _create(get_crons(request), owner, guard, body, None)


def _uuid_or_none(value: str | None, what: str) -> str | None:
    return valid_id(value, what) if value else None


@router.post("/runs/crons/search")
async def search_crons(
    request: Request,
    owner: User,
    guard: Access,
    body: Annotated[CronSearch | None, Body()] = None,
) -> Response:
    """The caller's crons, filtered, sorted and paginated (``X-Pagination-*`` headers)."""
    body = body or CronSearch()
    found = await _matching(
        get_crons(request), owner, guard, body, limit=body.limit, offset=body.offset,
        enabled=body.enabled, sort_by=body.sort_by, sort_order=body.sort_order,
    )
    page = found[body.offset : body.offset + body.limit]
    headers = pagination_headers(len(found), body.offset, body.limit)
    fields = body.select or CRON_FIELDS
    return json_response([{k: c.get(k) for k in fields} for c in page], headers=headers)


@router.post("/runs/crons/count")
async def count_crons(
    request: Request,
    owner: User,
    guard: Access,
    body: Annotated[CronCount | None, Body()] = None,
) -> Response:
    """How many of the caller's crons match."""
    body = body or CronCount()
    found = await _matching(get_crons(request), owner, guard, body, limit=0, offset=0)
    return json_response(len(found))


async def _matching(
    crons: CronService,
    owner: str,
    guard: Guard,
    body: CronCount,
    *,
    limit: int,
    offset: int,
    **search: Any,
) -> list[Cron]:
    """The caller's crons matching ``body``, once ``crons.search`` allowed it (LangGraph's
    value dict; the handler's filters hide the crons they do not match)."""
    assistant_id = _uuid_or_none(body.assistant_id, "assistant ID")
    thread_id = _uuid_or_none(body.thread_id, "thread ID")
    value = {
        "assistant_id": UUID(assistant_id) if assistant_id else None,
        "thread_id": UUID(thread_id) if thread_id else None,
        "limit": limit,
        "offset": offset,
        "metadata": dict(body.metadata or {}),
    }
    filters = await guard.check("crons", "search", value)
    return await crons.search(
        owner,
        assistant_id=assistant_id,
        thread_id=thread_id,
        metadata=body.metadata,
        keep=lambda cron: matches(cron["metadata"], filters),
        **search,
    )


async def _visible(crons: CronService, owner: str, cron_id: str, filters: Filters | None) -> Cron:
    cron = await crons.store.get(owner, cron_id)
    if not matches(cron["metadata"], filters):
        raise cron_not_found(cron_id)
    return cron


@router.get("/runs/crons/{cron_id}", responses=error_responses(404))
async def get_cron(request: Request, owner: User, guard: Access, cron_id: str) -> Response:
    """One cron; another user's is a 404."""
    cron_id = valid_id(cron_id, "cron ID")
    filters = await guard.check("crons", "read", {"cron_id": UUID(cron_id)})
    return json_response(await _visible(get_crons(request), owner, cron_id, filters))


@router.patch("/runs/crons/{cron_id}", responses=error_responses(400, 404))
async def update_cron(
    request: Request, owner: User, guard: Access, cron_id: str, body: CronPatch
) -> Response:
    """Change a cron's schedule, payload, metadata (merged) or state; reschedules it."""
    cron_id = valid_id(cron_id, "cron ID")
    fields = body.model_dump(exclude_unset=True)
    if not fields:
        raise HTTPException(status_code=400, detail="Request body cannot be empty")
    value: dict[str, Any] = {
        "cron_id": UUID(cron_id),
        "payload": body.model_dump(mode="json", exclude_unset=True),
        "schedule": body.schedule,
        "end_time": body.end_time,
        "enabled": body.enabled,
        "on_run_completed": body.on_run_completed,
    }
    if body.metadata is not None:
        value["metadata"] = dict(body.metadata)
    filters = await guard.check("crons", "update", value)
    crons = get_crons(request)
    await _visible(crons, owner, cron_id, filters)
    return json_response(await crons.update(owner, cron_id, body))


@router.delete("/runs/crons/{cron_id}", status_code=204, responses=error_responses(404))
async def delete_cron(request: Request, owner: User, guard: Access, cron_id: str) -> Response:
    """Delete a cron and its schedule."""
    cron_id = valid_id(cron_id, "cron ID")
    filters = await guard.check("crons", "delete", {"cron_id": UUID(cron_id)})
    crons = get_crons(request)
    await _visible(crons, owner, cron_id, filters)
    await crons.delete(owner, cron_id)
    return Response(status_code=204)
