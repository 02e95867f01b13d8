"""Store API routes: LangGraph's long-term memory store over HTTP, per user.

Each caller reaches only their own store (:mod:`lambdagraph.store.kv`: one partition per
user), the same one their graphs get at runtime. Custom auth handlers are asked with the
value dicts LangGraph Server builds (``store.put``/``get``/``delete``/``search``/
``list_namespaces``); a handler may rewrite the namespace (re-checked afterwards), and the
filter a ``search`` handler returns narrows the search as LangGraph does (``$and``).

Answers checked against ``langgraph dev`` (langgraph-api 0.16.7): put and delete 204 (a
delete of a missing item too); get of a missing item 200 ``null``; a get without ``key``
400; a put into an empty namespace, or one whose root label is ``langgraph``, 400; a label that is
empty or holds a ``.`` 422; a value that is not an object 422. Where LangGraph answers 500
(a search without ``namespace_prefix``) we search everything; where it ignores a semantic
``query`` (no index configured) we refuse it with 422, as nothing here can rank by meaning.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from langgraph.store.base import BaseStore, InvalidNamespaceError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response

from lambdagraph.engine import STRICT
from lambdagraph.errors import InvalidInput
from lambdagraph.http.body import JsonBodyRoute
from lambdagraph.http.context import Access, Ctx, User
from lambdagraph.http.openapi import error_responses
from lambdagraph.http.responses import json_response

router = APIRouter(tags=["store"], route_class=JsonBodyRoute)

Namespace = list[str]


class StorePut(BaseModel):
    """Body of ``PUT /store/items`` (LangGraph's ``StorePutRequest``)."""

    model_config = STRICT

    namespace: Namespace
    key: str
    value: dict[str, Any]
    index: Annotated[
        Literal[False] | list[str] | None,
        Field(description="Accepted and unused: the DynamoDB store has no vector index"),
    ] = None
    ttl: float | None = Field(default=None, gt=0, description="Minutes; refreshed on read")


class StoreDelete(BaseModel):
    """Body of ``DELETE /store/items``."""

    model_config = STRICT

    namespace: Namespace = Field(default_factory=list)
    key: str


class StoreSearch(BaseModel):
    """Body of ``POST /store/items/search``."""

    model_config = STRICT

    namespace_prefix: Namespace | None = None
    filter: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=0, le=1000)
    offset: int = Field(default=0, ge=0)
    query: str | None = None
    refresh_ttl: bool | None = None


class StoreNamespaces(BaseModel):
    """Body of ``POST /store/namespaces``."""

    model_config = STRICT

    prefix: Namespace | None = None
    suffix: Namespace | None = None
    max_depth: int | None = Field(default=None, ge=1)
    limit: int = Field(default=100, ge=0, le=1000)
    offset: int = Field(default=0, ge=0)


def user_store(context: Ctx, owner: User) -> BaseStore:
    """The caller's store (a ``DynamoDBStore``), on the app store's table and client."""
    # Imported here: the WebSocket function loads this module with the app, and the store
    # would bring the checkpoint saver's modules into its cold start.
    from lambdagraph.store.kv import DynamoDBStore, store_ttl

    settings = context.settings
    return DynamoDBStore(
        settings.app_table, owner, client=context.store.client, ttl=store_ttl(settings)
    )


UserStore = Annotated[BaseStore, Depends(user_store)]


def valid_namespace(namespace: Any, *, item: bool = False) -> tuple[str, ...]:
    """The namespace as a tuple; 422 for a bad label, 400 for what LangGraph answers 400.

    Args:
        namespace: labels from the request or as an auth handler left them.
        item: it names an item (put, get, delete): it must be non-empty, not ``langgraph``.
    """
    if not isinstance(namespace, list | tuple):
        raise InvalidInput("Namespace must be a list of labels")
    for label in namespace:
        if not isinstance(label, str) or not label or "." in label:
            raise InvalidInput(
                f"Namespace label {label!r} must be a non-empty string without periods"
            )
    if item and not namespace:
        raise HTTPException(400, "Namespace cannot be empty.")
    if item and namespace[0] == "langgraph":
        raise HTTPException(
            400, f'Root label for namespace cannot be "langgraph". Got: {tuple(namespace)}'
        )
    return tuple(namespace)


@router.put("/store/items", status_code=204, responses=error_responses(400))
async def put_item(guard: Access, store: UserStore, body: Annotated[StorePut, Body()]) -> Response:
    """Store or replace an item (``ttl`` in minutes)."""
    valid_namespace(body.namespace, item=True)
    value: dict[str, Any] = {
        "namespace": tuple(body.namespace),
        "key": body.key,
        "value": body.value,
        "index": body.index,
        "ttl": body.ttl,
    }
    await guard.check("store", "put", value)
    namespace = valid_namespace(value["namespace"], item=True)
    try:
        await store.aput(namespace, str(value["key"]), value["value"], ttl=value["ttl"])
    except InvalidNamespaceError as exc:  # what BaseStore refuses beyond our checks
        raise HTTPException(400, str(exc)) from None
    return Response(status_code=204)


@router.get("/store/items", responses=error_responses(400))
async def get_item(
    guard: Access,
    store: UserStore,
    namespace: Annotated[str, Query(description="Labels joined by '.'")] = "",
    key: Annotated[str | None, Query()] = None,
    refresh_ttl: Annotated[bool | None, Query()] = None,
) -> Response:
    """One item, or ``null`` when there is none."""
    labels = valid_namespace(namespace.split("."))
    if not key:
        raise HTTPException(400, "Key is required")
    value: dict[str, Any] = {"namespace": labels, "key": key, "refresh_ttl": refresh_ttl}
    await guard.check("store", "get", value)
    labels = valid_namespace(value["namespace"])
    item = await store.aget(labels, str(value["key"]), refresh_ttl=value["refresh_ttl"])
    return json_response(None if item is None else item.dict())


@router.delete("/store/items", status_code=204, responses=error_responses(400))
async def delete_item(
    guard: Access, store: UserStore, body: Annotated[StoreDelete, Body()]
) -> Response:
    """Delete an item (a missing one too)."""
    valid_namespace(body.namespace)
    value: dict[str, Any] = {"namespace": tuple(body.namespace), "key": body.key}
    await guard.check("store", "delete", value)
    await store.adelete(valid_namespace(value["namespace"]), str(value["key"]))
    return Response(status_code=204)


@router.post("/store/items/search")
async def search_items(
    guard: Access, store: UserStore, body: Annotated[StoreSearch | None, Body()] = None
) -> Response:
    """Items under a namespace prefix, newest-updated first, matching ``filter``."""
    body = body or StoreSearch()
    value: dict[str, Any] = {
        "namespace": valid_namespace(body.namespace_prefix or []),
        "filter": body.filter,
        "limit": body.limit,
        "offset": body.offset,
        "query": body.query,
        "refresh_ttl": body.refresh_ttl,
    }
    narrowed = await guard.check("store", "search", value)
    filter = value["filter"]
    if narrowed:
        filter = {"$and": [filter, dict(narrowed)]} if filter else dict(narrowed)
    items = await store.asearch(
        valid_namespace(value["namespace"]),
        filter=filter,
        limit=int(value["limit"]),
        offset=int(value["offset"]),
        query=value["query"],  # refused by the store: it has no vector index
        refresh_ttl=value["refresh_ttl"],
    )
    return json_response({"items": [item.dict() for item in items]})


@router.post("/store/namespaces")
async def list_namespaces(
    guard: Access, store: UserStore, body: Annotated[StoreNamespaces | None, Body()] = None
) -> Response:
    """The caller's namespaces (``*`` in ``prefix``/``suffix`` matches any one label)."""
    body = body or StoreNamespaces()
    value: dict[str, Any] = {
        "namespace": _optional(body.prefix),
        "suffix": _optional(body.suffix),
        "max_depth": body.max_depth,
        "limit": body.limit,
        "offset": body.offset,
    }
    await guard.check("store", "list_namespaces", value)
    namespaces = await store.alist_namespaces(
        prefix=_optional(value["namespace"]),
        suffix=_optional(value["suffix"]),
        max_depth=value["max_depth"],
        limit=int(value["limit"]),
        offset=int(value["offset"]),
    )
    return json_response({"namespaces": [list(ns) for ns in namespaces]})


def _optional(namespace: Any) -> tuple[str, ...] | None:
    return valid_namespace(namespace) if namespace else None
