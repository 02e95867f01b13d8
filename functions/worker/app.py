"""Worker function: executes runs no HTTP response waits on (invoked asynchronously only).

Payloads are ``{"kind": "run" | "continue", "owner", "thread_id", "run_id", "attempt"?}``;
a duplicated or retried invocation finds its attempt claimed and returns at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from lambdagraph.engine.worker import build_worker, handle_worker_event
from lambdagraph.settings import Settings
from lambdagraph.ws.fanout import websocket_sinks

settings = Settings.from_env()
logger = Logger(service="lambdagraph-worker", level=settings.log_level)
copy_config_to_registered_loggers(source_logger=logger, include={"lambdagraph"})
# Runs started over the WebSocket post their events to subscribers (LAMBDAGRAPH_WS_ENDPOINT).
worker = build_worker(settings, worker_sinks=websocket_sinks(settings))
# One loop for the life of the instance: clients and savers built on it stay usable warm.
loop = asyncio.new_event_loop()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    """Execute or continue the payload's run."""
    outcome = loop.run_until_complete(handle_worker_event(worker, event, context))
    logger.info("worker done", extra={"run_id": event.get("run_id"), "outcome": outcome})
    return {"outcome": outcome}
