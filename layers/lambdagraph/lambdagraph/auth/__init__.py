"""Authenticators: turn a request's headers into a user id.

``none`` (local development: every request is the user ``"local"``); ``jwt`` and ``iam``
come later.
"""

from __future__ import annotations

from typing import Final, Mapping, Protocol, runtime_checkable

from lambdagraph.errors import ConfigurationError, Unauthorized
from lambdagraph.settings import Settings

LOCAL_USER: Final = "local"


@runtime_checkable
class Authenticator(Protocol):
    """Turns request headers into a user id.

    Any object with this one method is an authenticator (no base class): the HTTP app and
    the WebSocket authorizer take one as a constructor argument, so tests can pass their own
    (e.g. one that trusts an ``x-user`` header) to act as several users.
    """

    async def authenticate(self, headers: Mapping[str, str]) -> str:
        """The caller's user id; raises ``Unauthorized`` when the request carries none."""
        ...


class NoAuth:
    """``auth_mode=none``: every request is the local user."""

    def __init__(self, user_id: str = LOCAL_USER) -> None:
        self.user_id = user_id

    async def authenticate(self, headers: Mapping[str, str]) -> str:
        """Always the local user."""
        return self.user_id


def authenticator_from_settings(settings: Settings) -> Authenticator:
    """The authenticator ``settings.auth_mode`` names.

    Raises:
        ConfigurationError: for modes not implemented yet (``jwt``, ``iam``) or unknown ones.
    """
    mode = settings.auth_mode
    if mode == "none":
        return NoAuth()
    if mode in ("jwt", "iam"):
        raise ConfigurationError(f"auth_mode {mode!r} is not implemented yet; use 'none'")
    raise ConfigurationError(f"Unknown auth_mode {mode!r}; expected 'none', 'jwt' or 'iam'")


__all__ = ["LOCAL_USER", "Authenticator", "NoAuth", "Unauthorized", "authenticator_from_settings"]
