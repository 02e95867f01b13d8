"""Server-Sent Events framing: pure functions from events to bytes.

A frame is ``event: NAME``, an ``id:`` line when the event has one, one line of compact JSON
in ``data:``, then a blank line — the exact shape LangGraph Server sends and its SDKs parse.
"""

from __future__ import annotations

from typing import Any

import orjson

from lambdagraph.protocol.events import Event

_OPTIONS = orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    """Serialise what orjson does not know: pydantic models, LangChain messages, sets."""
    for method in ("model_dump", "dict", "to_json"):
        dump = getattr(value, method, None)
        if callable(dump):
            return dump()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(data: Any) -> bytes:
    """Compact JSON, one line (orjson never emits raw newlines), for SSE and WebSocket."""
    return orjson.dumps(data, default=_default, option=_OPTIONS)


def encode_event(event: Event) -> bytes:
    """One SSE frame for ``event``."""
    head = b"event: " + event.event.encode() + b"\n"
    if event.id is not None:
        head += b"id: " + event.id.encode() + b"\n"
    return head + b"data: " + dumps(event.data) + b"\n\n"


def encode_comment(text: str) -> bytes:
    """An SSE comment line (``: heartbeat``), ignored by clients, keeps proxies from idling out."""
    return b": " + text.encode() + b"\n\n"
