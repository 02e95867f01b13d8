"""Streaming function: the ASGI app, served by uvicorn behind the Lambda Web Adapter.

``run.sh`` execs uvicorn on ``app:app``; the adapter turns each function URL invocation into
an HTTP request to it and streams the response back (``AWS_LWA_INVOKE_MODE=response_stream``).
The Lambda request context arrives in the ``x-amzn-request-context`` header.
"""

from __future__ import annotations

from lambdagraph.entry import LambdaEntry
from lambdagraph.wiring import build_http_app

entry = LambdaEntry.from_env("lambdagraph-stream", own_loop=False)
logger = entry.logger
app = build_http_app(entry.settings)
entry.ready()
