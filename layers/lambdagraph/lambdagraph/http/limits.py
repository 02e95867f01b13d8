"""The per-user request limit on HTTP: every authenticated route counts one request.

A route that records a run counts inside the run's create transaction instead
(:mod:`lambdagraph.store.limits`), so its first token waits for no extra write; every other
route awaits one conditional update before it runs. ``GET /ok`` counts nothing.
"""

from __future__ import annotations

from typing import Final

from fastapi import Depends, Request

from lambdagraph.http.context import Caller, get_context

RUN_ROUTES: Final = frozenset(
    {
        ("POST", "/threads/{thread_id}/runs/stream"),
        ("POST", "/runs/stream"),
        ("POST", "/threads/{thread_id}/runs/wait"),
        ("POST", "/runs/wait"),
        ("POST", "/threads/{thread_id}/runs"),
        ("POST", "/runs"),
        ("POST", "/runs/batch"),
    }
)
"""``(method, path)`` of the routes that record a run (counted by the run's own write)."""


async def count_request(request: Request, caller: Caller) -> None:
    """Count the caller's request; ``RateLimited`` (429 + ``Retry-After``) over the limit."""
    route = request.scope.get("route")
    if (request.method, getattr(route, "path", None)) in RUN_ROUTES:
        return
    await get_context(request).store.limits.count_request(caller.user_id)


RATE_LIMIT: Final = Depends(count_request)
"""The dependency every router of the app carries."""

__all__ = ["RATE_LIMIT", "RUN_ROUTES", "count_request"]
