"""The WebSocket API: API Gateway routes, the batching sender, the worker's fan-out sink.

The Python client lives in ``lambdagraph_client.websocket``, outside the Lambda layer.
"""

from lambdagraph.ws.api import WebSocketApi
from lambdagraph.ws.authorizer import authorize
from lambdagraph.ws.batching import Batcher, merge_events
from lambdagraph.ws.errors import CODES, ActionError
from lambdagraph.ws.fanout import WebSocketFanout
from lambdagraph.ws.sender import ConnectionSender, management_client

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
