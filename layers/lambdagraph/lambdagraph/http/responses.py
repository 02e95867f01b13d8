"""JSON responses through the protocol's encoder, so LangChain messages serialise the same way
in a response body as in an SSE frame."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from lambdagraph.protocol.sse import dumps


def json_response(
    data: Any, *, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``data`` as compact JSON."""
    return Response(dumps(data), status_code=status_code, headers=headers,
                    media_type="application/json")


def pagination_headers(found: int, offset: int, limit: int) -> dict[str, str]:
    """LangGraph Server's ``X-Pagination-*`` headers for the page ``[offset, offset + limit)``
    of ``found`` results: the total counts one past the page when more follow (checked with
    langgraph-api 0.16.7), and ``Next`` is then the next page's offset."""
    end = offset + limit
    if found > end:
        return {"X-Pagination-Total": str(end + 1), "X-Pagination-Next": str(end)}
    return {"X-Pagination-Total": str(max(offset, found))}

