"""Assistant routes: every registered graph is one read-only assistant.

As in LangGraph Server, a graph ``agent`` is the assistant ``uuid5(NAMESPACE_GRAPH, "agent")``;
either the name or that id works wherever an ``assistant_id`` is expected.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Body, Query
from starlette.responses import Response

from lambdagraph.errors import AssistantNotFound
from lambdagraph.http.body import JsonBodyRoute
from lambdagraph.http.context import Access, ApiContext, Ctx, User
from lambdagraph.http.models import AssistantSearch
from lambdagraph.http.openapi import error_responses
from lambdagraph.http.responses import json_response
from lambdagraph.store.filters import matches

logger = logging.getLogger(__name__)

router = APIRouter(tags=["assistants"], route_class=JsonBodyRoute)

# Graphs are code, not records: they exist since the process loaded them.
_LOADED_AT: Final = datetime.now(UTC).isoformat()


def assistant(context: ApiContext, graph_id: str) -> dict[str, Any]:
    """The ``Assistant`` record LangGraph Server would return for a graph."""
    return {
        "assistant_id": context.assistant_ids()[graph_id],
        "graph_id": graph_id,
        "name": graph_id,
        "description": None,
        "config": {},
        "context": {},
        "metadata": {"created_by": "system"},
        "version": 1,
        "created_at": _LOADED_AT,
        "updated_at": _LOADED_AT,
    }


@router.post("/assistants/search")
async def search_assistants(
    context: Ctx, guard: Access, body: Annotated[AssistantSearch | None, Body()] = None
) -> Response:
    """Assistants, filtered by graph id, name substring and metadata."""
    body = body or AssistantSearch()
    value = {
        "graph_id": body.graph_id,
        "metadata": dict(body.metadata or {}),
        "limit": body.limit,
        "offset": body.offset,
    }
    filters = await guard.check("assistants", "search", value)
    found = []
    for graph_id in context.graphs.names():
        record = assistant(context, graph_id)
        if body.graph_id is not None and graph_id != body.graph_id:
            continue
        if body.name is not None and body.name.lower() not in graph_id.lower():
            continue
        if body.metadata and any(record["metadata"].get(k) != v for k, v in body.metadata.items()):
            continue
        if not matches(record["metadata"], filters):
            continue
        found.append(record)
    return json_response(found[body.offset : body.offset + body.limit])


@router.get("/assistants/{assistant_id}", responses=error_responses(404))
async def get_assistant(context: Ctx, guard: Access, assistant_id: str) -> Response:
    """One assistant, by graph name or assistant id."""
    record = assistant(context, context.resolve_graph(assistant_id))
    value = {"assistant_id": UUID(record["assistant_id"])}
    if not matches(record["metadata"], await guard.check("assistants", "read", value)):
        raise AssistantNotFound(assistant_id)
    return json_response(record)


@router.get("/assistants/{assistant_id}/graph", responses=error_responses(404))
async def get_assistant_graph(
    context: Ctx, owner: User, assistant_id: str, xray: Annotated[bool, Query()] = False
) -> Response:
    """The graph's nodes and edges, as ``Graph.to_json()`` draws them."""
    graph = context.graphs.get(context.resolve_graph(assistant_id))
    return json_response(graph.get_graph(xray=xray).to_json())


@router.get("/assistants/{assistant_id}/schemas", responses=error_responses(404))
async def get_assistant_schemas(context: Ctx, owner: User, assistant_id: str) -> Response:
    """JSON schemas of the graph's input, output, state and context."""
    graph_id = context.resolve_graph(assistant_id)
    graph = context.graphs.get(graph_id)
    schemas: dict[str, Any] = {"graph_id": graph_id}
    readers = {
        "input_schema": graph.get_input_jsonschema,
        "output_schema": graph.get_output_jsonschema,
        "context_schema": graph.get_context_jsonschema,
    }
    for key, read in readers.items():
        try:
            schemas[key] = read()
        except Exception:  # a graph with an exotic type has no schema; the rest still helps
            logger.warning("no %s for graph %s", key, graph_id, exc_info=True)
            schemas[key] = None
    schemas["state_schema"] = schemas["output_schema"]
    schemas["config_schema"] = None
    return json_response(schemas)
