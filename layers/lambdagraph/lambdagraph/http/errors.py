"""Errors on the HTTP API, mapped once: our error types to a status code and ``{"detail": ...}``.

Every response body for an error is JSON ``{"detail": "<text a client can act on>"}``, as
LangGraph Server sends it (the SDK reads ``detail``). Anything unmapped is a server fault:
logged with ``logger.exception`` and answered with a generic 500, never a traceback.
"""

from __future__ import annotations

import logging
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lambdagraph.engine import describe_errors
from lambdagraph.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    LambdagraphError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from lambdagraph.http.openapi import ErrorResponse

logger = logging.getLogger(__name__)

GENERIC_DETAIL: Final = "Internal server error"


# Most specific first: the first matching class decides the status.
STATUS_BY_ERROR: Final[tuple[tuple[type[LambdagraphError], int], ...]] = (
    (BadRequest, 400),
    (InvalidInput, 422),
    (Unauthorized, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (NotFound, 404),
    (Conflict, 409),
    (Unavailable, 503),
)
# Headers a client needs to act on the status: how to authenticate, when to retry.
HEADERS_BY_STATUS: Final[dict[int, dict[str, str]]] = {
    401: {"WWW-Authenticate": "Bearer"},
    503: {"Retry-After": "1"},
}


def status_for(exc: LambdagraphError) -> int:
    """The HTTP status for one of our errors; 500 for anything not in the table."""
    for kind, status in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            return status
    return 500


def error_response(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error body shape: ``{"detail": ...}`` (:class:`ErrorResponse`, as documented)."""
    body = ErrorResponse(detail=detail).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


async def handle_lambdagraph_error(request: Request, exc: Exception) -> JSONResponse:
    """Our error types: mapped status, their message (written for clients) as the detail."""
    assert isinstance(exc, LambdagraphError)
    status = status_for(exc)
    if status == 500:
        logger.error(
            "unmapped %s on %s %s", type(exc).__name__, request.method, request.url.path,
            exc_info=exc,
        )
        return error_response(500, GENERIC_DETAIL)
    headers = HEADERS_BY_STATUS.get(status)
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(status, exc.message, headers)


describe_validation_errors = describe_errors
"""One readable line from pydantic errors (shared with every transport)."""


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Body, query and path validation failures: 422 with a readable ``detail`` string."""
    assert isinstance(exc, RequestValidationError)
    return error_response(422, describe_validation_errors(exc.errors()))


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (unknown route 404, wrong method 405) in our body shape."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else "Request failed"
    return error_response(exc.status_code, detail, dict(exc.headers or {}) or None)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(LambdagraphError, handle_lambdagraph_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(HTTPException, handle_http_exception)


class ServerFaultMiddleware:
    """Outermost guard: an exception nothing else handled becomes a logged, generic 500.

    Starlette's own server-error middleware re-raises after answering, which would put a
    second traceback in the server log for every fault; this one answers and stops there.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            # The client left before its request body was read: nobody to answer, no fault.
            logger.info("client left during %s %s", scope.get("method"), scope.get("path"))
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                # The status is on the wire already; ending the body is all we can do.
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await error_response(500, GENERIC_DETAIL)(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with 413, declared or streamed.

    A declared ``Content-Length`` over the limit is refused before the app runs; a chunked
    body is counted as it is read, and the read fails with an ``HTTPException`` (413) that
    FastAPI's body parsing lets through to :func:`handle_http_exception`.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.detail = f"Request body exceeds the limit of {limit} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await error_response(400, "Invalid Content-Length header")(scope, receive, send)
                    return
                if declared > self.limit:
                    await error_response(413, self.detail)(scope, receive, send)
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(status_code=413, detail=self.detail)
            return message

        await self.app(scope, counting_receive, send)
