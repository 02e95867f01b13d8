"""Buffered API function: the same ASGI app behind API Gateway's HTTP API, through Mangum.

Mangum buffers whole responses, so this function serves the non-streaming routes; clients
stream from the function URL (the ``stream`` function).
"""

from __future__ import annotations

from typing import Any

from mangum import Mangum

from lambdagraph.entry import LambdaEntry
from lambdagraph.wiring import build_http_app

entry = LambdaEntry.from_env("lambdagraph-api", own_loop=False)
logger = entry.logger
# Lifespan off: its shutdown would close the app's clients after every invocation, while a
# warm instance reuses them; Mangum keeps one event loop for the instance.
asgi = Mangum(build_http_app(entry.settings), lifespan="off")
entry.ready()


@logger.inject_lambda_context(clear_state=True)
@entry.traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one HTTP API (payload 2.0) request."""
    return asgi(event, context)
