"""Request contexts as Lambda and API Gateway build them for SigV4-signed requests.

Shapes from the AWS documentation: the function URL payload (Lambda developer guide,
"Invoking Lambda function URLs", ``requestContext.authorizer.iam``), the HTTP API payload
2.0 with the IAM authorizer (the same ``authorizer.iam``, plus ``cognitoIdentity``), and the
WebSocket API ``$connect`` event with ``AuthorizationType: AWS_IAM`` (the
``$context.identity.*`` variables of the WebSocket mapping template reference).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import load_event

ACCOUNT = "111122223333"


def user_arn(name: str) -> str:
    """An IAM user's ARN."""
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def function_url_iam(arn: str, *, cognito: dict[str, Any] | None = None) -> dict[str, Any]:
    """``requestContext.authorizer.iam`` of a function URL (or HTTP API) request."""
    return {
        "accessKey": "AKIAIOSFODNN7EXAMPLE",
        "accountId": ACCOUNT,
        "callerId": "AIDACKCEVSQ6C2EXAMPLE",
        "cognitoIdentity": cognito,
        "principalOrgId": None,
        "userArn": arn,
        "userId": "AIDACKCEVSQ6C2EXAMPLE",
    }


def function_url_context(arn: str | None, path: str = "/threads") -> dict[str, Any]:
    """A function URL request context; ``arn`` None: an unsigned request (no authorizer)."""
    context: dict[str, Any] = copy.deepcopy(load_event("function_url_ok")["requestContext"])
    context["http"]["path"] = path
    if arn is not None:
        context["accountId"] = ACCOUNT
        context["authorizer"] = {"iam": function_url_iam(arn)}
    return context


def http_api_event(arn: str | None, method: str, path: str, body: str = "") -> dict[str, Any]:
    """An HTTP API payload 2.0 event; with ``arn``, the route has the IAM authorizer."""
    event = load_event("http_api_ok")
    event.update(rawPath=path, routeKey="$default", body=body)
    event["headers"]["content-type"] = "application/json"
    event["requestContext"]["http"].update(method=method, path=path)
    if arn is not None:
        cognito = {"amr": None, "identityId": None, "identityPoolId": None}
        event["requestContext"]["authorizer"] = {"iam": function_url_iam(arn, cognito=cognito)}
    return event


def websocket_identity(arn: str | None) -> dict[str, Any]:
    """``requestContext.identity`` of a WebSocket ``$connect`` with IAM auth."""
    identity: dict[str, Any] = {"sourceIp": "198.51.100.7", "userAgent": "lambdagraph-tests"}
    if arn is not None:
        identity.update(
            accountId=ACCOUNT,
            accessKey="AKIAIOSFODNN7EXAMPLE",
            caller="AIDACKCEVSQ6C2EXAMPLE",
            user="AIDACKCEVSQ6C2EXAMPLE",
            userArn=arn,
            cognitoIdentityId=None,
            cognitoIdentityPoolId=None,
            cognitoAuthenticationType=None,
            cognitoAuthenticationProvider=None,
        )
    return identity
