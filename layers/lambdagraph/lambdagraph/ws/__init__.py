"""The WebSocket API: API Gateway routes, the batching sender, the worker's fan-out sink.

The names below are imported on first use (PEP 562), so that using one of them (the
authorizer function's ``authorize``) does not import the others' modules: the WebSocket API
pulls in the run engine and LangGraph, which the authorizer's cold start never needs.

The Python client lives in ``lambdagraph_client.websocket``, outside the Lambda layer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdagraph.ws.api import WebSocketApi
    from lambdagraph.ws.authorizer import authorize
    from lambdagraph.ws.batching import Batcher, merge_events
    from lambdagraph.ws.errors import CODES, ActionError
    from lambdagraph.ws.fanout import WebSocketFanout
    from lambdagraph.ws.sender import ConnectionSender, management_client

_HOMES = {
    "CODES": "errors",
    "ActionError": "errors",
    "Batcher": "batching",
    "ConnectionSender": "sender",
    "WebSocketApi": "api",
    "WebSocketFanout": "fanout",
    "authorize": "authorizer",
    "management_client": "sender",
    "merge_events": "batching",
}


def __getattr__(name: str) -> Any:
    """Import ``name``'s module on first access."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = [
    "CODES",
    "ActionError",
    "Batcher",
    "ConnectionSender",
    "WebSocketApi",
    "WebSocketFanout",
    "authorize",
    "management_client",
    "merge_events",
]
