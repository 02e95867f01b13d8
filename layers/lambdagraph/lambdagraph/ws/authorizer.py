"""The WebSocket API's REQUEST authorizer: the ``token`` query parameter → a user id.

Browsers and most mobile WebSocket APIs cannot set headers on the upgrade request, so the
token travels as ``wss://…/{stage}?token=…``. It is handed to the same
:class:`~lambdagraph.auth.Authenticator` the HTTP API uses, as a bearer ``Authorization``
header, so every auth mode works here unchanged.

* authenticated → an IAM policy allowing the connection, with ``context.user_id``; API
  Gateway passes that context to every later event in ``requestContext.authorizer``;
* a token that does not authenticate → a ``Deny`` policy (API Gateway answers 403);
* no token where one is needed → :class:`~lambdagraph.errors.Unauthorized`; the function
  entry raises ``Exception("Unauthorized")``, which API Gateway answers with 401.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponseWebSocket,
)

from lambdagraph.auth import Authenticator, AuthRequest
from lambdagraph.errors import Forbidden, Unauthorized

logger = logging.getLogger(__name__)

TOKEN_PARAMETER = "token"


async def authorize(event: dict[str, Any], authenticator: Authenticator) -> dict[str, Any]:
    """The authorizer's answer to a ``$connect`` REQUEST authorizer event.

    Returns:
        An IAM policy (``Allow`` with ``context.user_id``, or ``Deny`` for a bad token).

    Raises:
        Unauthorized: no token, and the authenticator needs one (API Gateway: 401).
    """
    view = APIGatewayAuthorizerRequestEvent(event)
    query = view.get("queryStringParameters") or {}
    token = query.get(TOKEN_PARAMETER)
    headers = {name.lower(): value for name, value in (view.get("headers") or {}).items()}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = AuthRequest(
        headers=headers,
        method="GET",
        path=view.get("path") or "/",
        query=query,
        request_context=view.get("requestContext") or {},
    )
    try:
        identity = await authenticator.authenticate(request)
    except (Unauthorized, Forbidden) as exc:
        if not token and isinstance(exc, Unauthorized):
            raise
        logger.info("WebSocket connect denied: the token did not authenticate")
        policy = APIGatewayAuthorizerResponseWebSocket.from_route_arn(view.method_arn, "anonymous")
        policy.deny_all_routes()
        return policy.asdict()
    policy = APIGatewayAuthorizerResponseWebSocket.from_route_arn(
        view.method_arn, identity.user_id, context=identity.to_context()
    )
    policy.allow_all_routes()
    return policy.asdict()


def is_allowed(policy: dict[str, Any]) -> bool:
    """Whether an authorizer policy allows the connection (the local gateway's check)."""
    statements = policy.get("policyDocument", {}).get("Statement", [])
    effects = {statement.get("Effect") for statement in statements}
    return "Allow" in effects and "Deny" not in effects
