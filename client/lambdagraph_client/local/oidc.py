"""A local OIDC issuer for ``lambdagraph dev --auth jwt``: discovery, JWKS and a token endpoint.

The issuer lives at ``{stack}/.local-oidc`` on the local stack's own port (one URL to
remember, nothing else to start, and the stack knows the issuer URL as soon as its socket
is bound):

* ``GET /.local-oidc/.well-known/openid-configuration``: the discovery document;
* ``GET /.local-oidc/jwks.json``: the public keys (RSA, generated at start, never saved);
* ``GET /.local-oidc/authorize`` (OAuth 2.0 implicit flow, ``response_type=token``): a
  login form asking for a user name, which redirects back to ``redirect_uri`` with
  ``#access_token=…`` (the chat page signs in so); only to this stack's own origin;
* ``POST /.local-oidc/token`` with ``{"user": "alice"}``: a signed token for that user
  (``lambdagraph token --user alice`` asks it). Anyone who can reach the port can mint
  tokens: it is a development tool, which is why it lives in the client package, never in
  the layer, and only runs in ``lambdagraph dev --auth jwt`` (or ``running_stack(
  local_issuer=True)``).

The API checks these tokens with the same :class:`~lambdagraph.auth.jwt.JwtAuthenticator`
that checks Cognito's, fetching the discovery document and keys over HTTP.
"""

from __future__ import annotations

import html
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from lambdagraph.auth.jwt import DISCOVERY_PATH
from lambdagraph.errors import ConfigurationError

PATH: Final = "/.local-oidc"
"""Where the local stack serves its issuer."""
LOCAL_AUDIENCE: Final = "lambdagraph-local"
"""The audience of local tokens (``LAMBDAGRAPH_JWT_AUDIENCE`` overrides it)."""
DEFAULT_EXPIRES_IN: Final = 3600
MAX_EXPIRES_IN: Final = 7 * 24 * 3600

Algorithm = Literal["RS256", "ES256"]


@dataclass
class _Key:
    kid: str
    algorithm: Algorithm
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def public_jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def _new_key(algorithm: Algorithm) -> _Key:
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        private = ec.generate_private_key(ec.SECP256R1())
    return _Key(uuid.uuid4().hex[:16], algorithm, private)


@dataclass
class LocalIssuer:
    """An OIDC issuer whose keys exist only in this process.

    Args:
        url: the issuer URL (the ``iss`` of its tokens), e.g.
            ``http://127.0.0.1:8000/.local-oidc``.
        audience: the ``aud`` of its tokens.
        algorithm: the signing algorithm of its first key.
    """

    url: str
    audience: str = LOCAL_AUDIENCE
    algorithm: Algorithm = "RS256"
    keys: list[_Key] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        self.keys.append(_new_key(self.algorithm))

    @property
    def kid(self) -> str:
        """The id of the key new tokens are signed with."""
        return self.keys[-1].kid

    @property
    def jwks_uri(self) -> str:
        """Where the public keys are served."""
        return f"{self.url}/jwks.json"

    def rotate(self, algorithm: Algorithm | None = None, *, keep_old: bool = True) -> str:
        """Sign from now on with a new key (its id is returned); the old one stays in the
        JWKS unless ``keep_old`` is false, as providers publish both during a rotation."""
        key = _new_key(algorithm or self.algorithm)
        self.keys = [*self.keys, key] if keep_old else [key]
        return key.kid

    def discovery(self) -> dict[str, Any]:
        """The OpenID Provider configuration document."""
        return {
            "issuer": self.url,
            "jwks_uri": self.jwks_uri,
            "token_endpoint": f"{self.url}/token",
            "authorization_endpoint": f"{self.url}/authorize",
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": sorted({k.algorithm for k in self.keys}),
        }

    def jwks(self) -> dict[str, Any]:
        """The public keys, as a JWK Set."""
        return {"keys": [key.public_jwk() for key in self.keys]}

    def token(
        self, user: str, *, expires_in: int = DEFAULT_EXPIRES_IN, **claims: Any
    ) -> str:
        """A token for ``user`` (``sub``), valid for ``expires_in`` seconds; ``claims`` add
        to or replace the standard ones, ``None`` leaves one out (tests make expired,
        wrong-audience or Cognito-style tokens)."""
        now = int(time.time())
        body = {
            "iss": self.url,
            "sub": user,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            "name": user,
            **claims,
        }
        key = self.keys[-1]
        body = {name: value for name, value in body.items() if value is not None}
        return jwt.encode(body, key.private, algorithm=key.algorithm, headers={"kid": key.kid})

    def app(self) -> Router:
        """The issuer's HTTP endpoints, relative to :data:`PATH`."""

        async def discovery(request: Request) -> Response:
            return JSONResponse(self.discovery())

        async def jwks(request: Request) -> Response:
            return JSONResponse(self.jwks())

        async def token(request: Request) -> Response:
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                return JSONResponse({"detail": "Body must be JSON"}, status_code=422)
            user = body.get("user") if isinstance(body, dict) else None
            expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN) if isinstance(body, dict) else 0
            if not isinstance(user, str) or not user:
                return JSONResponse({"detail": "Give a user: {\"user\": \"alice\"}"}, 422)
            if not isinstance(expires_in, int) or not 0 < expires_in <= MAX_EXPIRES_IN:
                detail = f"expires_in must be 1..{MAX_EXPIRES_IN} seconds"
                return JSONResponse({"detail": detail}, status_code=422)
            return JSONResponse(
                {
                    "access_token": self.token(user, expires_in=expires_in),
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                }
            )

        async def authorize(request: Request) -> Response:
            return await self._authorize(request)

        return Router(
            routes=[
                Route(DISCOVERY_PATH, discovery, methods=["GET"]),
                Route("/authorize", authorize, methods=["GET", "POST"]),
                Route("/jwks.json", jwks, methods=["GET"]),
                Route("/token", token, methods=["POST"]),
            ]
        )


    async def _authorize(self, request: Request) -> Response:
        """The implicit flow's login form (GET) and its answer (POST: a redirect with the
        token in the fragment, never to another origin than the issuer's)."""
        if request.method == "GET":
            fields = dict(request.query_params)
        else:
            body = (await request.body()).decode("utf-8", "replace")
            fields = {k: v[-1] for k, v in urllib.parse.parse_qs(body).items()}
        redirect = fields.get("redirect_uri", "")
        if not _same_origin(redirect, self.url):
            return JSONResponse({"detail": "redirect_uri must be on this stack"}, 400)
        user = fields.get("user", "").strip()
        if request.method == "GET" or not user:
            return HTMLResponse(_login_form(fields))
        fragment = urllib.parse.urlencode(
            {
                "access_token": self.token(user),
                "token_type": "Bearer",
                "expires_in": DEFAULT_EXPIRES_IN,
                "state": fields.get("state", ""),
            }
        )
        return RedirectResponse(f"{redirect.split('#')[0]}#{fragment}", status_code=303)


def _same_origin(url: str, issuer: str) -> bool:
    target, own = urllib.parse.urlsplit(url), urllib.parse.urlsplit(issuer)
    return target.scheme in ("http", "https") and (target.scheme, target.netloc) == (
        own.scheme,
        own.netloc,
    )


def _login_form(fields: dict[str, str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
        if k in ("redirect_uri", "state", "client_id", "response_type", "scope")
    )
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Sign in (local issuer)</title>"
        '<form method="post" style="font-family:system-ui;max-width:20rem;margin:3rem auto">'
        "<h1>Sign in</h1><p>The local stack's development issuer: any name signs in.</p>"
        '<label>User <input name="user" autofocus required></label> '
        f'{hidden}<button type="submit">Sign in</button></form></html>'
    )


class WithIssuer:
    """An ASGI app serving ``issuer`` under :data:`PATH` and everything else from ``app``."""

    def __init__(self, app: ASGIApp, issuer: LocalIssuer) -> None:
        self.app = app
        self.issuer = issuer
        self.router = issuer.app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == PATH or path.startswith(f"{PATH}/")):
            await self.router({**scope, "path": path.removeprefix(PATH) or "/"}, receive, send)
        else:
            await self.app(scope, receive, send)


def request_token(url: str, user: str, *, expires_in: int = DEFAULT_EXPIRES_IN) -> str:
    """Ask the local issuer of the stack at ``url`` for a token (``lambdagraph token``).

    Raises:
        ConfigurationError: no local issuer answers there, or it refused the request.
    """
    endpoint = f"{url.rstrip('/')}{PATH}/token"
    body = json.dumps({"user": user, "expires_in": expires_in}).encode()
    request = urllib.request.Request(
        endpoint, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ConfigurationError(
                f"No local issuer at {url}: start the stack with `lambdagraph dev --auth jwt`"
            ) from None
        raise ConfigurationError(f"The local issuer refused: {_detail(exc)}") from None
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"Cannot reach the local issuer at {endpoint}: {exc}") from None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str):
        raise ConfigurationError(f"{endpoint} answered without an access_token")
    return token


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.load(error).get("detail") or error.reason)
    except (ValueError, AttributeError):
        return str(error.reason)
