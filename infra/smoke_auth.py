"""The auth checks of ``infra/smoke.py``: users from the stack's Cognito pool, and what a
deployed stack must answer them.

With ``AuthMode=jwt`` and no ``JwtIssuer`` the stack creates a user pool and an app client
(outputs ``UserPoolId``, ``UserPoolClientId``). The smoke test creates two throw-away
users there with the admin API (``AdminCreateUser`` without an invitation,
``AdminSetUserPassword``), signs them in with ``ADMIN_USER_PASSWORD_AUTH`` (the app client
allows it; it needs AWS credentials allowed ``cognito-idp:AdminInitiateAuth``, so it opens
nothing to the public), uses their access tokens, and deletes them at the end. Your
credentials need ``cognito-idp:AdminCreateUser``, ``AdminSetUserPassword``,
``AdminInitiateAuth`` and ``AdminDeleteUser`` on the pool.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from botocore.exceptions import ClientError

POOL_OUTPUTS = ("UserPoolId", "UserPoolClientId")


class AuthCheckError(Exception):
    """An auth check failed, or its users could not be made; the message says which."""


def new_password() -> str:
    """A random password that meets the stack's pool policy (12+, upper, lower, digit)."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(24))
    return f"{body}Aa1-"


@dataclass(frozen=True)
class PoolUser:
    """A throw-away user of the stack's user pool."""

    username: str
    password: str


@dataclass
class PoolUsers:
    """Creates users in a Cognito user pool, signs them in, and deletes them again.

    Args:
        cognito: a boto3 ``cognito-idp`` client.
        pool_id: the pool (output ``UserPoolId``).
        client_id: its app client (output ``UserPoolClientId``), the tokens' audience.
    """

    cognito: Any
    pool_id: str
    client_id: str
    created: list[PoolUser] = field(default_factory=list)

    @classmethod
    def from_outputs(cls, cognito: Any, outputs: dict[str, str]) -> PoolUsers | None:
        """Users of the pool the stack created; None when it created none."""
        if not all(outputs.get(name) for name in POOL_OUTPUTS):
            return None
        return cls(cognito, outputs["UserPoolId"], outputs["UserPoolClientId"])

    def create(self, label: str) -> PoolUser:
        """A new confirmed user (no invitation e-mail is sent)."""
        user = PoolUser(f"smoke-{label}-{uuid.uuid4().hex[:8]}@example.com", new_password())
        with self._explained(f"create user {user.username}"):
            self.cognito.admin_create_user(
                UserPoolId=self.pool_id,
                Username=user.username,
                MessageAction="SUPPRESS",
                TemporaryPassword=new_password(),
            )
            self.created.append(user)
            self.cognito.admin_set_user_password(
                UserPoolId=self.pool_id,
                Username=user.username,
                Password=user.password,
                Permanent=True,
            )
        return user

    def access_token(self, user: PoolUser) -> str:
        """The user's access token (``ADMIN_USER_PASSWORD_AUTH``)."""
        with self._explained(f"sign in {user.username}"):
            answer = self.cognito.admin_initiate_auth(
                UserPoolId=self.pool_id,
                ClientId=self.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": user.username, "PASSWORD": user.password},
            )
        result = answer.get("AuthenticationResult") or {}
        if "AccessToken" not in result:
            raise AuthCheckError(
                f"signing in {user.username} asked for {answer.get('ChallengeName')}"
            )
        return str(result["AccessToken"])

    def delete_all(self) -> None:
        """Delete every user this object created (a user already gone is fine)."""
        while self.created:
            user = self.created.pop()
            try:
                self.cognito.admin_delete_user(UserPoolId=self.pool_id, Username=user.username)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "UserNotFoundException":
                    raise

    @contextmanager
    def _explained(self, what: str) -> Iterator[None]:
        """Turn a ``ClientError`` into an :class:`AuthCheckError` that says what failed."""
        try:
            yield
        except ClientError as exc:
            detail = exc.response["Error"].get("Message", "")
            raise AuthCheckError(f"cannot {what} in user pool {self.pool_id}: {detail}") from exc


class AuthChecks:
    """What a stack with user auth must answer: no token 401, a token works, another user's
    thread 404 (indistinguishable from one that does not exist)."""

    def __init__(
        self, function_url: str, http_api_url: str, websocket_url: str, owner: str, other: str
    ) -> None:
        self.urls = {"function URL": function_url, "HTTP API": http_api_url}
        self.websocket_url = websocket_url
        self.owner = {"Authorization": f"Bearer {owner}"}
        self.other = {"Authorization": f"Bearer {other}"}
        self.http = httpx.AsyncClient(timeout=30.0)
        self.thread_id: str | None = None

    async def no_token_is_401(self) -> str:
        for name, url in self.urls.items():
            response = await self.http.post(f"{url}/threads", json={})
            if response.status_code != 401:
                raise AuthCheckError(f"{name} answered {response.status_code} without a token")
        return "function URL and HTTP API: 401"

    async def websocket_without_token_is_refused(self) -> str:
        from websockets.asyncio.client import connect  # lazy: only this check needs it
        from websockets.exceptions import InvalidStatus

        try:
            async with connect(self.websocket_url):
                pass
        except InvalidStatus as refused:
            status = refused.response.status_code
            if status in (401, 403):
                return f"handshake refused with {status}"
            raise AuthCheckError(f"handshake refused with {status}, not 401") from refused
        raise AuthCheckError("a WebSocket without a token was accepted")

    async def token_works(self) -> str:
        response = await self.http.post(
            f"{self.urls['function URL']}/threads", json={}, headers=self.owner
        )
        if response.status_code != 200:
            raise AuthCheckError(f"a pool token got {response.status_code}: {response.text[:200]}")
        self.thread_id = str(response.json()["thread_id"])
        return f"created thread {self.thread_id}"

    async def other_users_thread_is_404(self) -> str:
        if self.thread_id is None:
            raise AuthCheckError("no thread to look at (the token check failed)")
        path = f"/threads/{self.thread_id}"
        for name, url in self.urls.items():
            foreign = await self.http.get(f"{url}{path}", headers=self.other)
            if foreign.status_code != 404:
                raise AuthCheckError(
                    f"{name}: another user's thread answered {foreign.status_code}"
                )
            own = await self.http.get(f"{url}{path}", headers=self.owner)
            if own.status_code != 200:
                raise AuthCheckError(f"{name}: the owner's own thread answered {own.status_code}")
        return "404 for the other user, 200 for the owner"

    async def aclose(self) -> None:
        await self.http.aclose()
