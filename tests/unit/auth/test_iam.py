"""IAM mode: the caller is the principal in the request context AWS built after checking
the SigV4 signature; without one, 401."""

from __future__ import annotations

import pytest

from lambdagraph.auth import AuthRequest, authenticator_from_settings
from lambdagraph.auth.iam import IamAuthenticator, iam_identity
from lambdagraph.errors import Unauthorized
from lambdagraph.settings import Settings
from tests.iam_contexts import (
    ACCOUNT,
    function_url_context,
    function_url_iam,
    user_arn,
    websocket_identity,
)


def test_iam_mode_builds_the_iam_authenticator() -> None:
    auth = authenticator_from_settings(Settings.from_env({"LAMBDAGRAPH_AUTH_MODE": "iam"}))
    assert isinstance(auth, IamAuthenticator)


async def test_a_function_url_caller_is_their_user_arn() -> None:
    request = AuthRequest(request_context=function_url_context(user_arn("alice")))
    identity = await IamAuthenticator().authenticate(request)
    assert identity.user_id == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert identity.display_name == "alice"
    assert identity.claims["account_id"] == ACCOUNT
    assert "accessKey" not in str(identity.claims) and "AKIA" not in str(identity.claims)


async def test_an_assumed_role_session_is_its_own_user() -> None:
    role = f"arn:aws:sts::{ACCOUNT}:assumed-role/Developers/alice@example.com"
    other = f"arn:aws:sts::{ACCOUNT}:assumed-role/Developers/bob@example.com"
    auth = IamAuthenticator()
    first = await auth.authenticate(AuthRequest(request_context=function_url_context(role)))
    second = await auth.authenticate(AuthRequest(request_context=function_url_context(other)))
    assert first.user_id == role and second.user_id == other
    assert first.display_name == "alice@example.com"


def test_cognito_identity_pool_callers_are_their_identity_id() -> None:
    shared = f"arn:aws:sts::{ACCOUNT}:assumed-role/Cognito_Auth_Role/CognitoIdentityCredentials"
    cognito = {
        "amr": ["authenticated"],
        "identityId": "us-east-1:1f2e3d4c-0000-4000-8000-000000000001",
        "identityPoolId": "us-east-1:pool",
    }
    identity = iam_identity({"authorizer": {"iam": function_url_iam(shared, cognito=cognito)}})
    assert identity is not None
    assert identity.user_id == "us-east-1:1f2e3d4c-0000-4000-8000-000000000001"
    assert identity.claims["user_arn"] == shared


def test_a_websocket_connect_caller_is_read_from_the_identity_block() -> None:
    identity = iam_identity(
        {"routeKey": "$connect", "identity": websocket_identity(user_arn("bob"))}
    )
    assert identity is not None and identity.user_id == user_arn("bob")
    assert identity.claims["principal_id"] == "AIDACKCEVSQ6C2EXAMPLE"


@pytest.mark.parametrize(
    "context",
    [
        {},
        function_url_context(None),
        {"authorizer": None},
        {"authorizer": {"iam": None}},
        {"authorizer": {"iam": {"userArn": None, "accountId": ACCOUNT}}},
        {"authorizer": {"jwt": {"claims": {"sub": "alice"}}}},
        {"authorizer": {"principalId": "alice", "user_id": "alice"}},
        {"identity": websocket_identity(None)},
        {"identity": "arn:aws:iam::1:user/x"},
    ],
    ids=[
        "empty",
        "unsigned-function-url",
        "null-authorizer",
        "null-iam",
        "null-arn",
        "jwt",
        "lambda-authorizer",
        "unsigned-websocket",
        "not-a-dict",
    ],
)
async def test_no_iam_principal_is_401(context: dict[str, object]) -> None:
    with pytest.raises(Unauthorized, match="SigV4"):
        await IamAuthenticator().authenticate(AuthRequest(request_context=context))


async def test_headers_and_tokens_are_not_credentials() -> None:
    request = AuthRequest(
        headers={"authorization": "Bearer alice", "x-amz-user-arn": user_arn("alice")},
        request_context=function_url_context(None),
    )
    with pytest.raises(Unauthorized):
        await IamAuthenticator().authenticate(request)
