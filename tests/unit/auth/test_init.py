"""Authenticator selection from settings, and what an authenticator is."""

from __future__ import annotations

import pytest

from lambdagraph.auth import (
    LOCAL_USER,
    Authenticator,
    AuthRequest,
    Identity,
    NoAuth,
    authenticator_from_settings,
)
from lambdagraph.errors import ConfigurationError, Unauthorized
from lambdagraph.settings import Settings
from tests.auth import TokenIsUser


async def test_none_mode_is_the_local_user() -> None:
    auth = authenticator_from_settings(Settings.from_env({"LAMBDAGRAPH_AUTH_MODE": "none"}))
    assert isinstance(auth, NoAuth)
    request = AuthRequest(headers={"authorization": "Bearer whatever"})
    assert (await auth.authenticate(request)).user_id == LOCAL_USER


def test_unknown_mode() -> None:
    with pytest.raises(ConfigurationError, match="auth_mode"):
        Settings(auth_mode="basic")


async def test_any_object_with_authenticate_is_an_authenticator() -> None:
    auth = TokenIsUser()
    assert isinstance(auth, Authenticator) and isinstance(NoAuth(), Authenticator)
    identity = await auth.authenticate(AuthRequest(headers={"authorization": "Bearer bob"}))
    assert identity.user_id == "bob"
    with pytest.raises(Unauthorized):
        await auth.authenticate(AuthRequest())


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer   ", "Basic Ym9iOnB3", "bearer bob", "BEARER bob"]
)
def test_bearer_token_is_read_only_from_a_bearer_header(header: str) -> None:
    token = AuthRequest(headers={"authorization": header}).bearer_token
    assert token == ("bob" if header.lower() == "bearer bob" else None)


def test_identity_survives_the_websocket_authorizer_context() -> None:
    identity = Identity(
        "alice", permissions=("threads:write",), display_name="Alice", claims={"org": "acme"}
    )
    context = identity.to_context()
    assert all(isinstance(value, str) for value in context.values())
    assert Identity.from_context(context) == identity


def test_a_context_without_identity_json_still_names_the_user() -> None:
    assert Identity.from_context({"user_id": "alice"}) == Identity("alice")
    assert Identity.from_context({"principalId": "bob", "identity": "not json"}) == Identity("bob")
    assert Identity.from_context({}) is None
