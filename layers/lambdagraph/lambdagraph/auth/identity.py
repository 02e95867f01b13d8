"""Who is calling, and what they presented: the two values every authenticator deals in.

An :class:`AuthRequest` is what any transport can tell about a request (HTTP headers, the
WebSocket ``$connect`` query string, the Lambda or API Gateway request context); an
:class:`Identity` is what an authenticator makes of it. The run service and the store only
ever see ``Identity.user_id``: it is the partition every thread, run and connection is
owned by.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AuthRequest:
    """What a transport knows about one request, for an authenticator to judge.

    Attributes:
        headers: header names in lower case.
        method: the HTTP method (``GET`` for a WebSocket ``$connect``).
        path: the request path.
        query: query-string parameters (the WebSocket token rides here).
        request_context: the Lambda function URL or API Gateway request context, when the
            request came through one (IAM mode reads the caller's principal from it).
    """

    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"
    path: str = "/"
    query: Mapping[str, str] = field(default_factory=dict)
    request_context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def bearer_token(self) -> str | None:
        """The token of an ``Authorization: Bearer …`` header, if there is one."""
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token else None


@dataclass(frozen=True)
class Identity:
    """An authenticated caller.

    Attributes:
        user_id: the owner of everything the caller creates (JWT ``sub``, the IAM principal,
            or what a custom ``@auth.authenticate`` handler returned as ``identity``).
        permissions: what a custom auth handler granted (``ctx.permissions`` in handlers).
        display_name: a human-readable name, when the credentials carry one.
        claims: the rest of what the credentials said (token claims, or the extra fields of
            a custom handler's user dict), for authorization handlers to read.
    """

    user_id: str
    permissions: tuple[str, ...] = ()
    display_name: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)

    def to_context(self) -> dict[str, str]:
        """The identity as a WebSocket authorizer context (string values only).

        API Gateway passes an authorizer's context to every later event of the connection;
        its values must be strings, numbers or booleans, so the identity travels as JSON.
        """
        document = {
            "user_id": self.user_id,
            "permissions": list(self.permissions),
            "display_name": self.display_name,
            "claims": dict(self.claims),
        }
        return {"user_id": self.user_id, "identity": json.dumps(document, default=str)}

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> Identity | None:
        """The identity an authorizer context carries (see :meth:`to_context`), if any."""
        user_id = context.get("user_id") or context.get("principalId")
        if not isinstance(user_id, str) or not user_id:
            return None
        try:
            document = json.loads(context.get("identity") or "{}")
        except (TypeError, ValueError):
            document = {}
        if not isinstance(document, dict) or document.get("user_id") != user_id:
            return cls(user_id)
        return cls(
            user_id,
            permissions=tuple(str(p) for p in document.get("permissions") or ()),
            display_name=str(document.get("display_name") or ""),
            claims=dict(document.get("claims") or {}),
        )
