"""WebSocket function: ``$connect``, ``$disconnect``, ``$default`` and the actions
``run``, ``cancel``, ``subscribe``, ``ping`` of the API Gateway WebSocket API.

Runs are never executed here (a route gets 29 s): ``run`` records the run and invokes the
worker asynchronously; the worker posts the run's events to its subscribers.
"""

from __future__ import annotations

from typing import Any

from lambdagraph.entry import LambdaEntry
from lambdagraph.wiring import build_ws_api

entry = LambdaEntry.from_env("lambdagraph-ws")
logger = entry.logger
api = build_ws_api(entry.settings)
entry.ready()


@logger.inject_lambda_context(clear_state=True)
@entry.traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handle one WebSocket event."""
    return entry.run(api.handle(event, context))
