"""WebSocket ``$connect`` REQUEST authorizer: the ``token`` query parameter → a user id.

Allowed connections carry ``context.user_id``, which API Gateway passes to every later
event of the connection in ``requestContext.authorizer``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from lambdagraph.auth import authenticator_from_settings
from lambdagraph.errors import Unauthorized
from lambdagraph.settings import Settings
from lambdagraph.ws.authorizer import authorize

settings = Settings.from_env()
logger = Logger(service="lambdagraph-authorizer", level=settings.log_level)
copy_config_to_registered_loggers(source_logger=logger, include={"lambdagraph"})
authenticator = authenticator_from_settings(settings)
loop = asyncio.new_event_loop()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An IAM policy for the connection; no token at all → 401."""
    try:
        return loop.run_until_complete(authorize(event, authenticator))
    except Unauthorized:
        # The one exception text API Gateway turns into a 401 for a Lambda authorizer.
        raise Exception("Unauthorized") from None  # noqa: TRY002
