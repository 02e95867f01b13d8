"""Authenticator selection from settings."""

from __future__ import annotations

import pytest

from lambdagraph.auth import LOCAL_USER, NoAuth, authenticator_from_settings
from lambdagraph.errors import ConfigurationError
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
