"""Authentication: one authenticator per deployment turns a request into an :class:`Identity`.

Every transport (the HTTP API behind the function URL and the HTTP API, the WebSocket
``$connect`` authorizer) builds an :class:`AuthRequest` and asks the same authenticator; the
run service and the store see only ``Identity.user_id``, the partition that every thread,
run and connection belongs to.

Modes (``LAMBDAGRAPH_AUTH_MODE``): ``none`` (local development: every request is the user
``"local"``), ``jwt``, ``iam`` and ``custom``.
"""

from __future__ import annotations

from typing import Final, Protocol, runtime_checkable

from lambdagraph.auth.identity import AuthRequest, Identity
from lambdagraph.errors import ConfigurationError, Unauthorized
from lambdagraph.settings import Settings

LOCAL_USER: Final = "local"


@runtime_checkable
class Authenticator(Protocol):
    """Turns what a request presents into the caller's identity.

    Any object with this one method is an authenticator (no base class): the HTTP app and
    the WebSocket authorizer take one as a constructor argument, so tests can pass their own
    (e.g. one that trusts the bearer token as the user id) to act as several users.
    """

    async def authenticate(self, request: AuthRequest) -> Identity:
        """The caller's identity.

        Raises:
            Unauthorized: the request carries no valid credentials (401).
            Forbidden: the credentials are valid but not enough (403).
            Unavailable: the credentials could not be checked now, e.g. the issuer's keys
                could not be fetched (503).
        """
        ...


class NoAuth:
    """``auth_mode=none``: every request is the local user."""

    def __init__(self, user_id: str = LOCAL_USER) -> None:
        self.identity = Identity(user_id)

    async def authenticate(self, request: AuthRequest) -> Identity:
        """Always the local user."""
        return self.identity


def authenticator_from_settings(settings: Settings) -> Authenticator:
    """The authenticator ``settings.auth_mode`` names.

    Raises:
        ConfigurationError: the mode's settings are incomplete or its extra is missing.
    """
    mode = settings.auth_mode
    if mode == "none":
        return NoAuth()
    if mode == "jwt":
        try:
            from lambdagraph.auth.jwt import JwtAuthenticator  # lazy: the `jwt` extra
        except ImportError as exc:
            raise ConfigurationError(
                "auth_mode 'jwt' needs PyJWT: pip install 'lambdagraph[jwt]'"
            ) from exc
        return JwtAuthenticator.from_settings(settings)
    if mode == "custom":
        from lambdagraph.auth import custom  # langgraph-sdk: only in this mode

        return custom.CustomAuthenticator(custom.load_auth(settings.auth_path))
    if mode == "iam":
        from lambdagraph.auth.iam import IamAuthenticator

        return IamAuthenticator()
    raise ConfigurationError(f"Unknown auth_mode {mode!r}; expected none, jwt, iam or custom")


__all__ = [
    "LOCAL_USER",
    "AuthRequest",
    "Authenticator",
    "Identity",
    "NoAuth",
    "Unauthorized",
    "authenticator_from_settings",
]
