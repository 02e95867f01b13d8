"""Small helpers the compatibility tests share."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

DEADLINE = 30.0
# LangGraph Server's namespace for default assistants (langgraph_api/graph.py, 0.16.7).
NAMESPACE_GRAPH = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def default_id(graph_id: str) -> str:
    """The id of a graph's default assistant. LangGraph Server (0.16.7) takes a graph name for
    an ``assistant_id`` only in runs and ``GET /assistants/{aid}/graph``; its other assistant
    routes answer 422 unless given this id (lambdagraph takes either everywhere)."""
    return str(uuid.uuid5(NAMESPACE_GRAPH, graph_id))


def refused(call: Callable[[], Any]) -> int:
    """The HTTP status with which the server refused ``call`` (an SDK call).

    Raises:
        AssertionError: the call succeeded.
    """
    try:
        result = call()
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code
    raise AssertionError(f"expected an error status, got {result!r}")


def until(check: Callable[[], Any], what: str) -> Any:
    """Poll ``check()`` until it returns something truthy (returned), or fail after a deadline."""
    deadline = time.monotonic() + DEADLINE
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return result


EMAIL = "send an email to bob@example.com about the launch"
"""What makes the demo agent call ``send_email``, which waits for approval (an interrupt)."""


def user_message(text: str) -> dict[str, Any]:
    """Run input with one user message."""
    return {"messages": [{"role": "user", "content": text}]}
