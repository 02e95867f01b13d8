"""Server-Sent Events framing: pure functions from events to bytes.

A frame is ``event: NAME``, an ``id:`` line when the event has one, one line of compact JSON
in ``data:``, then a blank line — the exact shape LangGraph Server sends and its SDKs parse.
"""

from __future__ import annotations

from lambdagraph.protocol.codec import dumps
from lambdagraph.protocol.events import Event

__all__ = ["dumps", "encode_comment", "encode_event"]


def encode_event(event: Event) -> bytes:
    """One SSE frame for ``event``."""
    head = b"event: " + event.event.encode() + b"\n"
    if event.id is not None:
        head += b"id: " + event.id.encode() + b"\n"
    return head + b"data: " + dumps(event.data) + b"\n\n"


def encode_comment(text: str) -> bytes:
    """An SSE comment line (``: heartbeat``), ignored by clients, keeps proxies from idling out."""
    return b": " + text.encode() + b"\n\n"
