"""The authenticator tests inject to act as several users: the bearer token is the user id."""

from __future__ import annotations

from lambdagraph.auth import AuthRequest, Identity
from lambdagraph.errors import Unauthorized

REFUSED_USER = "mallory"
"""A token :class:`TokenIsUser` always refuses, for tests of a rejected credential."""


class TokenIsUser:
    """``Authorization: Bearer alice`` is the user ``alice``; ``mallory`` is always refused."""

    async def authenticate(self, request: AuthRequest) -> Identity:
        """The identity the bearer token names."""
        token = request.bearer_token
        if token is None:
            raise Unauthorized("Missing bearer token")
        if token == REFUSED_USER:
            raise Unauthorized("Token refused")
        return Identity(token)
