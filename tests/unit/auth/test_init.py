"""Authenticator selection from settings."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from lambdagraph.auth import LOCAL_USER, Authenticator, NoAuth, authenticator_from_settings
from lambdagraph.errors import ConfigurationError, Unauthorized
from lambdagraph.settings import Settings


async def test_none_mode_is_the_local_user() -> None:
    auth = authenticator_from_settings(Settings.from_env({"LAMBDAGRAPH_AUTH_MODE": "none"}))
    assert isinstance(auth, NoAuth)
    assert await auth.authenticate({"authorization": "Bearer whatever"}) == LOCAL_USER


@pytest.mark.parametrize("mode", ["jwt", "iam"])
def test_modes_not_built_yet_say_so(mode: str) -> None:
    with pytest.raises(ConfigurationError, match="not implemented yet"):
        authenticator_from_settings(Settings(auth_mode=mode))


def test_unknown_mode() -> None:
    with pytest.raises(ConfigurationError, match="Unknown auth_mode"):
        authenticator_from_settings(Settings(auth_mode="basic"))


class HeaderAuth:
    """What a test injects to act as several users: the user id comes from ``x-user``."""

    async def authenticate(self, headers: Mapping[str, str]) -> str:
        try:
            return headers["x-user"]
        except KeyError:
            raise Unauthorized("x-user header missing") from None


async def test_any_object_with_authenticate_is_an_authenticator() -> None:
    auth = HeaderAuth()
    assert isinstance(auth, Authenticator) and isinstance(NoAuth(), Authenticator)
    assert await auth.authenticate({"x-user": "bob"}) == "bob"
    with pytest.raises(Unauthorized):
        await auth.authenticate({})
