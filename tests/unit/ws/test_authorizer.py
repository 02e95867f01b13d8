"""The REQUEST authorizer on a captured ``$connect`` authorizer event."""

from __future__ import annotations

from typing import Any

import pytest

from lambdagraph.auth import Identity, NoAuth
from lambdagraph.errors import Unauthorized
from lambdagraph.ws.authorizer import authorize, is_allowed
from tests.auth import TokenIsUser
from tests.conftest import load_event


def authorizer_event(token: str | None) -> dict[str, Any]:
    event = load_event("ws_authorizer")
    event.pop("queryStringParameters")
    event.pop("multiValueQueryStringParameters")
    if token is not None:
        event["queryStringParameters"] = {"token": token}
        event["multiValueQueryStringParameters"] = {"token": [token]}
    return event


async def test_none_mode_allows_the_local_user_and_puts_it_in_the_context() -> None:
    policy = await authorize(authorizer_event(None), NoAuth())
    assert is_allowed(policy)
    assert policy["principalId"] == "local"
    assert Identity.from_context(policy["context"]) == Identity("local")
    [statement] = policy["policyDocument"]["Statement"]
    assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:000000000000:local/ws/*"]


async def test_a_token_becomes_the_user_id() -> None:
    policy = await authorize(authorizer_event("alice"), TokenIsUser())
    assert is_allowed(policy) and policy["context"]["user_id"] == "alice"


async def test_a_refused_token_gets_a_deny_policy() -> None:
    policy = await authorize(authorizer_event("mallory"), TokenIsUser())
    assert not is_allowed(policy)
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in policy or not policy["context"]


async def test_no_token_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        await authorize(authorizer_event(None), TokenIsUser())
