"""``auth_mode=iam``: the caller is the IAM principal AWS verified the SigV4 signature of.

Lambda and API Gateway check the signature before our code runs; they put who signed in
the request context, which is all this authenticator reads:

* a function URL with ``AuthType: AWS_IAM`` (behind the Lambda Web Adapter the context
  arrives as the ``x-amzn-request-context`` header) and an HTTP API route with the IAM
  authorizer (payload 2.0, through Mangum): ``requestContext.authorizer.iam`` with
  ``userArn``, ``userId``, ``accountId``, ``callerId``, ``cognitoIdentity``…;
* a WebSocket ``$connect`` route with ``AuthorizationType: AWS_IAM`` (no authorizer
  function runs): ``requestContext.identity`` with ``userArn``, ``accountId``, ``caller``,
  ``cognitoIdentityId``… Later events of the connection carry no authorizer context, so
  the ``ws`` function records the user with the connection (see ``ws/api.py``).

The user id is the principal's ``userArn``: ``arn:aws:iam::ACCOUNT:user/NAME`` for an IAM
user, ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` for a role session. The session
name is part of it on purpose: IAM Identity Center and most federations set it to the
person (their e-mail or user name), so two people in one role stay two users; a caller
that wants one identity across sessions (a service) assumes its role with a fixed
``--role-session-name``. Callers signing with credentials from a Cognito identity pool all
share one role session ARN, so their user id is their Cognito identity id
(``REGION:UUID``) instead. Nothing here trusts a header the client could have set: with
any other ``AuthType`` the context has no IAM fields and the request is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    RequestContextV2AuthorizerIam,
)
from aws_lambda_powertools.utilities.data_classes.common import APIGatewayEventIdentity

from lambdagraph.auth.identity import AuthRequest, Identity
from lambdagraph.errors import Unauthorized


class IamAuthenticator:
    """The caller's IAM principal from the Lambda or API Gateway request context."""

    async def authenticate(self, request: AuthRequest) -> Identity:
        """The identity of the principal that signed the request.

        Raises:
            Unauthorized: the request context names no IAM principal (not SigV4-signed,
                or not through an endpoint with IAM auth).
        """
        identity = iam_identity(request.request_context)
        if identity is None:
            raise Unauthorized("This API needs requests signed with AWS SigV4 (IAM auth)")
        return identity


def iam_identity(request_context: Mapping[str, Any]) -> Identity | None:
    """The IAM principal a request context names, or None when it names none."""
    authorizer = request_context.get("authorizer")
    iam = authorizer.get("iam") if isinstance(authorizer, Mapping) else None
    if isinstance(iam, Mapping) and iam.get("userArn"):
        v2 = RequestContextV2AuthorizerIam(dict(iam))
        return _identity(
            arn=v2.user_arn,
            account_id=v2.account_id,
            principal_id=v2.user_id or v2.caller_id,
            org_id=v2.principal_org_id,
            cognito_identity_id=v2.cognito_identity_id,
            cognito_pool_id=v2.cognito_identity_pool_id,
        )
    caller = request_context.get("identity")
    if isinstance(caller, Mapping) and caller.get("userArn"):
        v1 = APIGatewayEventIdentity(dict(caller))
        return _identity(
            arn=v1.user_arn or "",
            account_id=v1.account_id or "",
            principal_id=v1.caller or v1.user or "",
            org_id=v1.principal_org_id or "",
            cognito_identity_id=v1.cognito_identity_id or "",
            cognito_pool_id=v1.cognito_identity_pool_id or "",
        )
    return None


def _identity(
    *,
    arn: str,
    account_id: str,
    principal_id: str,
    org_id: str,
    cognito_identity_id: str,
    cognito_pool_id: str,
) -> Identity:
    claims = {
        "user_arn": arn,
        "account_id": account_id,
        "principal_id": principal_id,
        "principal_org_id": org_id,
        "cognito_identity_id": cognito_identity_id,
        "cognito_identity_pool_id": cognito_pool_id,
    }
    return Identity(
        cognito_identity_id or arn,
        display_name=arn.rpartition("/")[2] or arn,
        claims={name: value for name, value in claims.items() if value},
    )


__all__ = ["IamAuthenticator", "iam_identity"]
