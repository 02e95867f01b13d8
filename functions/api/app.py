"""Buffered API function: the same ASGI app behind API Gateway's HTTP API, through Mangum.

Mangum buffers whole responses, so this function serves the non-streaming routes; clients
stream from the function URL (the ``stream`` function).
"""

from __future__ import annotations

import gc
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from mangum import Mangum

from lambdagraph.http.app import create_app_from_settings
from lambdagraph.settings import Settings

settings = Settings.from_env()
logger = Logger(service="lambdagraph-api", level=settings.log_level)
copy_config_to_registered_loggers(source_logger=logger, include={"lambdagraph"})
# Lifespan off: its shutdown would close the app's clients after every invocation, while a
# warm instance reuses them; Mangum keeps one event loop for the instance.
asgi = Mangum(create_app_from_settings(settings), lifespan="off")
# Long-lived setup (libraries, the app) leaves the collector's view: full collections no
# longer walk it (see README, Benchmarks).
gc.freeze()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one HTTP API (payload 2.0) request."""
    return asgi(event, context)
