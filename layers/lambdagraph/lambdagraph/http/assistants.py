"""Assistant routes: each graph's default assistant plus the caller's own (versioned).

Semantics live in :mod:`lambdagraph.engine.assistants`; these routes parse, authorize with
the value dicts LangGraph Server hands ``@auth.on.assistants`` handlers (checked against
langgraph-api 0.16.7's ``Auth.types.Assistants*``) and encode. A handler's filters apply to
an assistant's metadata: one that does not match is not found, like another user's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Query
from starlette.responses import Response

from lambdagraph.auth.policy import Action
from lambdagraph.engine import Search, sort_assistants
from lambdagraph.errors import AssistantNotFound, InvalidInput
from lambdagraph.http.assistant_graphs import graph_json, graph_schemas, subgraph_schemas
from lambdagraph.http.body import JsonBodyRoute
from lambdagraph.http.context import Access, ApiContext, Ctx, User
from lambdagraph.http.models import (
    AssistantCount,
    AssistantCreate,
    AssistantLatest,
    AssistantPatch,
    AssistantSearch,
    AssistantVersions,
)
from lambdagraph.http.openapi import error_responses
from lambdagraph.http.responses import json_response, pagination_headers
from lambdagraph.store.filters import matches
from lambdagraph.store.records import Assistant, public_assistant

logger = logging.getLogger(__name__)

router = APIRouter(tags=["assistants"], route_class=JsonBodyRoute)


async def _readable(
    context: ApiContext, owner: str, guard: Access, assistant_id: str, action: Action = "read"
) -> Assistant:
    """The assistant, if the caller may act on it (``assistants.<action>``)."""
    found = await context.runs.assistants.get(owner, assistant_id)
    value = {"assistant_id": UUID(found["assistant_id"])}
    if not matches(found["metadata"], await guard.check("assistants", action, value)):
        raise AssistantNotFound(assistant_id)
    return found


def _page(
    found: list[Assistant], offset: int, limit: int, select: Sequence[str] | None
) -> Response:
    page = found[offset : offset + limit]
    rows = [public_assistant(a) for a in page]
    if select:
        rows = [{k: v for k, v in row.items() if k in select} for row in rows]
    return json_response(rows, headers=pagination_headers(len(found), offset, limit))


@router.post("/assistants", responses=error_responses(404, 409, 422))
async def create_assistant(
    context: Ctx, owner: User, guard: Access, body: Annotated[AssistantCreate, Body()]
) -> Response:
    """Create an assistant for a graph (version 1), owned by the caller."""
    value: dict[str, Any] = {
        "assistant_id": UUID(body.assistant_id) if body.assistant_id else None,
        "graph_id": body.graph_id,
        "config": dict(body.config or {}),
        "context": body.context,
        "metadata": dict(body.metadata or {}),
        "name": body.name or "Untitled",
    }
    filters = await guard.check("assistants", "create", value)
    created = await context.runs.assistants.create(
        owner,
        graph_id=body.graph_id,
        assistant_id=body.assistant_id,
        name=body.name,
        description=body.description,
        config=body.config,
        context=body.context,
        metadata=value["metadata"] if isinstance(value.get("metadata"), dict) else body.metadata,
        if_exists=body.if_exists or "raise",
    )
    if not matches(created["metadata"], filters):  # an existing one the handler hides
        raise AssistantNotFound(created["assistant_id"])
    return json_response(public_assistant(created))


@router.post("/assistants/search", responses=error_responses(404, 422))
async def search_assistants(
    context: Ctx, owner: User, guard: Access, body: Annotated[AssistantSearch | None, Body()] = None
) -> Response:
    """Default and the caller's assistants, filtered, sorted and paginated as LangGraph does."""
    body = body or AssistantSearch()
    if body.graph_id is not None:
        context.runs.assistants.graph(body.graph_id)
    value = {
        "graph_id": body.graph_id,
        "metadata": dict(body.metadata or {}),
        "limit": body.limit,
        "offset": body.offset,
    }
    filters = await guard.check("assistants", "search", value)
    search = Search(body.graph_id, body.name, body.metadata, filters)
    found = sort_assistants(
        await context.runs.assistants.search(owner, search), body.sort_by, body.sort_order
    )
    return _page(found, body.offset, body.limit, body.select)


@router.post("/assistants/count", responses=error_responses(404, 422))
async def count_assistants(
    context: Ctx, owner: User, guard: Access, body: Annotated[AssistantCount | None, Body()] = None
) -> Response:
    """How many assistants a search with the same filters finds."""
    body = body or AssistantCount()
    if body.graph_id is not None:
        context.runs.assistants.graph(body.graph_id)
    metadata = dict(body.metadata or {})
    value = {"graph_id": body.graph_id, "metadata": metadata, "limit": 0, "offset": 0}
    filters = await guard.check("assistants", "search", value)
    search = Search(body.graph_id, body.name, body.metadata, filters)
    return json_response(len(await context.runs.assistants.search(owner, search)))


@router.get("/assistants/{assistant_id}", responses=error_responses(404))
async def get_assistant(context: Ctx, owner: User, guard: Access, assistant_id: str) -> Response:
    """One assistant, by id (or, for a default assistant, its graph name)."""
    return json_response(public_assistant(await _readable(context, owner, guard, assistant_id)))


@router.patch("/assistants/{assistant_id}", responses=error_responses(404, 409, 422))
async def patch_assistant(
    context: Ctx,
    owner: User,
    guard: Access,
    assistant_id: str,
    body: Annotated[AssistantPatch | None, Body()] = None,
) -> Response:
    """A new version of the caller's assistant: given fields replaced, metadata merged."""
    body = body or AssistantPatch()
    found = await context.runs.assistants.get(owner, assistant_id)
    value = {
        "assistant_id": UUID(found["assistant_id"]),
        "graph_id": body.graph_id,
        "config": dict(body.config or {}),
        "context": body.context,
        "metadata": dict(body.metadata or {}),
        "name": body.name,
    }
    if not matches(found["metadata"], await guard.check("assistants", "update", value)):
        raise AssistantNotFound(assistant_id)
    updated = await context.runs.assistants.update(
        owner,
        assistant_id,
        graph_id=body.graph_id,
        name=body.name,
        description=body.description,
        config=body.config,
        context=body.context,
        metadata=body.metadata,
    )
    return json_response(public_assistant(updated))


@router.delete("/assistants/{assistant_id}", status_code=204, responses=error_responses(404, 409))
async def delete_assistant(
    context: Ctx,
    owner: User,
    guard: Access,
    assistant_id: str,
    delete_threads: Annotated[bool, Query()] = False,
) -> Response:
    """Delete the caller's assistant and its versions, cancelling its active runs (as
    LangGraph does); ``delete_threads`` also deletes the caller's threads whose metadata
    names the assistant (``metadata.assistant_id``)."""
    found = await _readable(context, owner, guard, assistant_id, "delete")
    deleted = await context.runs.assistants.delete(owner, found["assistant_id"])
    if delete_threads:
        metadata = {"assistant_id": deleted["assistant_id"]}
        for thread in await context.store.search_threads(owner, metadata=metadata, limit=1000):
            await context.eraser.delete(owner, thread["thread_id"])
    return Response(status_code=204)


@router.post("/assistants/{assistant_id}/versions", responses=error_responses(404, 422))
async def assistant_versions(
    context: Ctx,
    owner: User,
    guard: Access,
    assistant_id: str,
    body: Annotated[AssistantVersions | None, Body()] = None,
) -> Response:
    """The assistant's versions, newest first, filtered by metadata."""
    body = body or AssistantVersions()
    found = await _readable(context, owner, guard, assistant_id)
    versions = [
        v
        for v in await context.runs.assistants.versions(owner, found["assistant_id"])
        if Search(metadata=body.metadata).admits(v)
    ]
    page = versions[body.offset : body.offset + body.limit]
    # A version row has no updated_at in LangGraph Server: a version never changes.
    return json_response([_version_row(v) for v in page])


@router.post("/assistants/{assistant_id}/latest", responses=error_responses(404, 409, 422))
async def set_latest_version(
    context: Ctx,
    owner: User,
    guard: Access,
    assistant_id: str,
    body: Annotated[AssistantLatest, Body()],
) -> Response:
    """Make one of the assistant's versions current."""
    found = await context.runs.assistants.get(owner, assistant_id)
    value = {"assistant_id": UUID(found["assistant_id"]), "version": body.version}
    if not matches(found["metadata"], await guard.check("assistants", "update", value)):
        raise AssistantNotFound(assistant_id)
    chosen = await context.runs.assistants.set_latest(owner, assistant_id, body.version)
    return json_response(public_assistant(chosen))


@router.get("/assistants/{assistant_id}/graph", responses=error_responses(404, 422))
async def get_assistant_graph(
    context: Ctx,
    owner: User,
    guard: Access,
    assistant_id: str,
    xray: Annotated[str | None, Query()] = None,
) -> Response:
    """The graph's nodes and edges; ``xray`` (true or a depth ≥ 1) draws subgraphs inside."""
    found = await _readable(context, owner, guard, assistant_id)
    return json_response(graph_json(context.graphs.get(found["graph_id"]), _xray(xray)))


@router.get("/assistants/{assistant_id}/schemas", responses=error_responses(404))
async def get_assistant_schemas(
    context: Ctx, owner: User, guard: Access, assistant_id: str
) -> Response:
    """JSON schemas of the graph's input, output, state, config and context."""
    found = await _readable(context, owner, guard, assistant_id)
    graph = context.graphs.get(found["graph_id"])
    return json_response({"graph_id": found["graph_id"], **graph_schemas(graph)})


@router.get("/assistants/{assistant_id}/subgraphs", responses=error_responses(404, 422))
@router.get("/assistants/{assistant_id}/subgraphs/{namespace}", responses=error_responses(404, 422))
async def get_assistant_subgraphs(
    context: Ctx,
    owner: User,
    guard: Access,
    assistant_id: str,
    namespace: str | None = None,
    recurse: Annotated[bool, Query()] = False,
) -> Response:
    """The graph's subgraphs by namespace, each with its schemas (``recurse``: nested too)."""
    found = await _readable(context, owner, guard, assistant_id)
    graph = context.graphs.get(found["graph_id"])
    return json_response(await subgraph_schemas(graph, namespace=namespace, recurse=recurse))


def _version_row(version: Assistant) -> dict[str, Any]:
    return {k: v for k, v in public_assistant(version).items() if k != "updated_at"}


def _xray(value: str | None) -> bool | int:
    # LangGraph Server 0.16.7 reads xray as true/false or a positive depth; else 422.
    if value is None or value in ("false", "False", ""):
        return False
    if value in ("true", "True"):
        return True
    try:
        depth = int(value)
    except ValueError:
        raise InvalidInput("Invalid xray value") from None
    if depth <= 0:
        raise InvalidInput("Invalid xray value")
    return depth
