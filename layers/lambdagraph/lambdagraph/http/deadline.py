"""The Lambda deadline of the invocation serving a request, for runs streamed in process.

Behind the AWS Lambda Web Adapter each request carries the invocation's context as JSON in
``x-amzn-lambda-context``, including its deadline (epoch milliseconds). A small ASGI
middleware reads it into a context variable, so a resumable run the request starts can hand
itself to the worker before the function is stopped. Locally there is no such header and no
deadline.
"""

from __future__ import annotations

import json
import time
from contextvars import ContextVar
from typing import Any, Final

from starlette.types import ASGIApp, Receive, Scope, Send

HEADER: Final = b"x-amzn-lambda-context"

_deadline: ContextVar[float | None] = ContextVar("lambdagraph_request_deadline", default=None)


def current_deadline() -> float | None:
    """The serving invocation's deadline on the ``time.monotonic()`` clock, if known."""
    return _deadline.get()


def parse_deadline(raw: bytes) -> float | None:
    """The deadline in an ``x-amzn-lambda-context`` value as monotonic seconds, or ``None``."""
    try:
        context: Any = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(context, dict):
        return None
    epoch_ms = context.get("deadline", context.get("deadline_ms"))
    if not isinstance(epoch_ms, (int, float)) or isinstance(epoch_ms, bool):
        return None
    return time.monotonic() + (epoch_ms / 1000 - time.time())


class LambdaDeadlineMiddleware:
    """Makes the invocation deadline of each request available to :func:`current_deadline`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = next((value for name, value in scope["headers"] if name == HEADER), None)
        token = _deadline.set(parse_deadline(raw) if raw is not None else None)
        try:
            await self.app(scope, receive, send)
        finally:
            _deadline.reset(token)
