"""What ``/openapi.json`` (and ``/docs``) declare: the answers the server really gives.

One error schema (:class:`ErrorResponse`, the body :func:`~lambdagraph.http.errors.error_response`
sends) is attached to every route with the statuses it can give, through
:func:`error_responses`; FastAPI's own 422 ``HTTPValidationError`` (a list of errors) never
appears, because every 422 body here is one readable string. SSE routes declare
``text/event-stream`` events through :func:`stream_responses`, with
``response_class=StreamingResponse`` so FastAPI adds no JSON body of its own.

Example::

    @router.get("/threads/{thread_id}", responses=error_responses(404))
    async def get_thread(...) -> Response: ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field


class ErrorResponse(BaseModel):
    """Every error body: ``{"detail": "<text a client can act on>"}`` (LangGraph Server's shape)."""

    model_config = ConfigDict(extra="forbid")

    detail: str


class ServerSentEvent(BaseModel):
    """One event of an SSE route's stream, as a client's parser sees it."""

    event: str
    data: str = Field(description="JSON text (LangGraph Server's event payloads)")
    id: str | None = Field(default=None, description="Resume after it with `Last-Event-ID`")


ERROR_SCHEMA: Final = ErrorResponse.__name__
EVENT_SCHEMA: Final = ServerSentEvent.__name__


ERROR_DESCRIPTIONS: Final[Mapping[int, str]] = {
    400: "The body is not JSON at all (undecodable bytes), or `Content-Length` is invalid;"
    " an assistant given both `config.configurable` and `context`; a store put into an empty"
    " or `langgraph` namespace, a store get without `key`.",
    401: "No valid credentials (`WWW-Authenticate: Bearer`).",
    403: "Valid credentials, but a custom auth handler refused this action.",
    404: "No such thread, run or assistant for this user (another user's looks the same).",
    409: "The thread or assistant already exists, the thread is busy and `multitask_strategy`"
    " is `reject`, a change to a graph's default assistant (shared by every user), or"
    " the run to delete is still pending or running.",
    413: "The request body exceeds `LAMBDAGRAPH_MAX_BODY_BYTES`.",
    422: "A field is missing, has the wrong type or value; `detail` names it.",
    429: "A per-user limit (active runs, requests per minute); retry after `Retry-After` s.",
    500: "A server fault (logged); the body never carries a traceback.",
    503: "DynamoDB or the identity provider is unavailable; retry after `Retry-After` s.",
}
"""Every error status the API gives, and what it means (the README's table)."""

COMMON_ERRORS: Final = (400, 401, 403, 413, 422, 429, 500, 503)
"""Statuses any route may give: body and Content-Length checks, authentication and
authorization, validation, per-user limits, faults, and DynamoDB throttling.
Route-specific ones (404, 409) are added per route."""

CANCELLING: Final[dict[int | str, dict[str, Any]]] = {
    202: {"description": "Cancellation requested (no body); `wait=true` answers 200 instead."}
}
"""The extra success status of ``POST .../runs/{rid}/cancel``."""


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for ``statuses``, each with the one error schema.

    Args:
        statuses: HTTP statuses from :data:`ERROR_DESCRIPTIONS`.

    Returns:
        A mapping for a route's or router's ``responses=`` argument.
    """
    # Content given explicitly, not as ``model``: FastAPI would give a model the route's
    # media type, and an SSE route's errors are JSON all the same.
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}
    return {
        status: {"description": ERROR_DESCRIPTIONS[status], "content": content}
        for status in statuses
    }


def stream_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` for an SSE route: its events (``schema`` describes each one, as
    OpenAPI before 3.2 reads a ``text/event-stream`` schema), and its errors, as JSON."""
    events = {"text/event-stream": {"schema": {"$ref": f"#/components/schemas/{EVENT_SCHEMA}"}}}
    return {200: {"content": events}, **error_responses(*statuses)}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare :class:`ErrorResponse` and :class:`ServerSentEvent`
    once, where the routes refer to them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()  # cached by FastAPI: the additions below stay
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in (ErrorResponse, ServerSentEvent):
                schemas[model.__name__] = model.model_json_schema()
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
