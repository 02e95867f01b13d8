"""JSON responses through the protocol's encoder, so LangChain messages serialise the same way
in a response body as in an SSE frame."""

from __future__ import annotations

from typing import Any, Mapping

from starlette.responses import Response

from lambdagraph.protocol.sse import dumps


def json_response(
    data: Any, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``data`` as compact JSON."""
    return Response(dumps(data), status_code=status_code, headers=headers,
                    media_type="application/json")
