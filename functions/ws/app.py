"""WebSocket function: ``$connect``, ``$disconnect``, ``$default`` and the actions
``run``, ``cancel``, ``subscribe``, ``ping`` of the API Gateway WebSocket API.

Runs are never executed here (a route gets 29 s): ``run`` records the run and invokes the
worker asynchronously; the worker posts the run's events to its subscribers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from lambdagraph.settings import Settings
from lambdagraph.ws.api import build_ws_api

settings = Settings.from_env()
logger = Logger(service="lambdagraph-ws", level=settings.log_level)
copy_config_to_registered_loggers(source_logger=logger, include={"lambdagraph"})
api = build_ws_api(settings)
# One loop for the life of the instance: clients built on it stay usable warm.
loop = asyncio.new_event_loop()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handle one WebSocket event."""
    return loop.run_until_complete(api.handle(event, context))
