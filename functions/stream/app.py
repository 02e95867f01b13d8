"""Streaming function: the ASGI app, served by uvicorn behind the Lambda Web Adapter.

``run.sh`` execs uvicorn on ``app:app``; the adapter turns each function URL invocation into
an HTTP request to it and streams the response back (``AWS_LWA_INVOKE_MODE=response_stream``).
The Lambda request context arrives in the ``x-amzn-request-context`` header.
"""

from __future__ import annotations

import gc

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from lambdagraph.http.app import create_app_from_settings
from lambdagraph.settings import Settings

settings = Settings.from_env()
logger = Logger(service="lambdagraph-stream", level=settings.log_level)
copy_config_to_registered_loggers(source_logger=logger, include={"lambdagraph"})
app = create_app_from_settings(settings)
# Long-lived setup (libraries, the app) leaves the collector's view: full collections no
# longer walk it mid-stream (see README, Benchmarks).
gc.freeze()
