"""JSON request bodies, decoded once and strictly, before FastAPI validates them.

FastAPI decodes bodies with Python's ``json``, which accepts ``NaN``, ``1e999``, lone
surrogates and integers of any size; each of those once reached the store and failed there
as a 500, or was stored as ``null``. Every route with a body uses :class:`JsonBodyRoute`,
which decodes it with :func:`lambdagraph.protocol.codec.loads` (the WebSocket's decoder too)
and answers 422 with a ``detail`` naming the field. A body sent without a JSON content type
is refused by name: a browser can send such a body cross-site without a CORS preflight.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from lambdagraph.errors import InvalidInput
from lambdagraph.protocol.codec import loads

JSON_CONTENT_TYPE: Final = "application/json"

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class JsonRequest(Request):
    """A request whose JSON body :meth:`decode` checks; :meth:`json` returns that value."""

    _decoded: Any = None

    async def decode(self) -> None:
        """Read and decode the body (an empty body is left to the route's validation).

        Raises:
            InvalidInput: no JSON content type, or a body :func:`loads` refuses.
        """
        body = await self.body()
        if not body:
            return
        content_type = self.headers.get("content-type")
        if not is_json(content_type):
            got = f"got {content_type!r}" if content_type else "no Content-Type header"
            raise InvalidInput(
                f"Request body must be JSON sent with Content-Type: {JSON_CONTENT_TYPE} ({got})"
            )
        self._decoded = loads(body)

    async def json(self) -> Any:
        """The decoded body."""
        return self._decoded


def is_json(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` header names JSON (``application/json``, ``*/*+json``)."""
    media = (content_type or "").partition(";")[0].strip().lower()
    structured = media.startswith("application/") and media.endswith("+json")
    return media == JSON_CONTENT_TYPE or structured


class JsonBodyRoute(APIRoute):
    """A route whose body, if it takes one, is decoded by :class:`JsonRequest` first."""

    def get_route_handler(self) -> Handler:
        """FastAPI's handler, given a :class:`JsonRequest` it has already decoded."""
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def decode_then_handle(request: Request) -> Response:
            decoded = JsonRequest(request.scope, request.receive)
            await decoded.decode()
            return await handler(decoded)

        return decode_then_handle
