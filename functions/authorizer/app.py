"""WebSocket ``$connect`` REQUEST authorizer: the ``token`` query parameter → a user id.

Allowed connections carry ``context.user_id``, which API Gateway passes to every later
event of the connection in ``requestContext.authorizer``.
"""

from __future__ import annotations

from typing import Any

from lambdagraph.auth import authenticator_from_settings
from lambdagraph.entry import LambdaEntry
from lambdagraph.errors import Unauthorized
from lambdagraph.ws import authorize  # the package imports its modules on first use

entry = LambdaEntry.from_env("lambdagraph-authorizer")
logger = entry.logger
authenticator = authenticator_from_settings(entry.settings)
entry.ready()


@logger.inject_lambda_context(clear_state=True)
@entry.traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An IAM policy for the connection; no token at all → 401."""
    try:
        return entry.run(authorize(event, authenticator))
    except Unauthorized:
        # The one exception text API Gateway turns into a 401 for a Lambda authorizer.
        raise Exception("Unauthorized") from None
