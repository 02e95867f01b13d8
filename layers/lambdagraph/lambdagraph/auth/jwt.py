"""``auth_mode=jwt``: OIDC access or ID tokens (Amazon Cognito user pools, any OIDC provider).

A bearer token is accepted when PyJWT verifies its signature with a key of the issuer's JWKS
(RS256 or ES256 only: never ``none``, never an HMAC that a public key could forge), its
``exp``/``nbf`` (30 s leeway), its ``iss`` (exact) and its audience: ``aud`` must contain
``LAMBDAGRAPH_JWT_AUDIENCE``, or, for a Cognito access token (``token_use: access``, no
``aud``), ``client_id`` must equal it. The user id is ``sub``.

Keys: the JWKS URL is ``LAMBDAGRAPH_JWT_JWKS_URL`` or the ``jwks_uri`` of
``{issuer}/.well-known/openid-configuration``, both fetched on the first request (never at
cold start, so a cold start never waits on the network) in a worker thread, off the event
loop. The key set is kept for an hour; a token whose ``kid`` is not in it triggers a
refetch, at most once a minute (a key rotation is picked up, a flood of made-up key ids
is not a flood of fetches). The cache policy is ours rather than ``PyJWKClient``'s because
its cooldown reads ``time.monotonic`` directly (no clock to test with) and, once its cache
has expired, a failed refresh fails the request; here a failed refresh keeps serving the
keys it has. PyJWT still does the fetching, parsing and verifying.

Errors: a bad token is :class:`~lambdagraph.errors.Unauthorized` with a message saying
what is wrong (expired, not yet valid, wrong issuer, …); keys that cannot be fetched or
parsed are :class:`~lambdagraph.errors.Unavailable` (503), never an internal error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlparse

import jwt
from jwt import PyJWK, PyJWKClient

from lambdagraph.auth.identity import AuthRequest, Identity
from lambdagraph.errors import ConfigurationError, Unauthorized, Unavailable
from lambdagraph.settings import Settings

logger = logging.getLogger(__name__)

ALGORITHMS: Final = ("RS256", "ES256")
"""Signature algorithms a token may use: asymmetric only, so a public key cannot sign."""
LEEWAY_SECONDS: Final = 30.0
"""Clock skew allowed on ``exp``, ``nbf`` and ``iat``."""
KEYS_MAX_AGE_SECONDS: Final = 3600.0
"""How long a fetched key set is used before it is fetched again (a removed key stops
working within this)."""
REFETCH_INTERVAL_SECONDS: Final = 60.0
"""Least time between two fetches of the key set (after an unknown ``kid`` or expiry)."""
FETCH_TIMEOUT_SECONDS: Final = 5.0
"""Timeout of one discovery or JWKS request (API Gateway gives a request 29 s in all)."""
DISCOVERY_PATH: Final = "/.well-known/openid-configuration"
DISPLAY_NAME_CLAIMS: Final = ("name", "email", "preferred_username", "cognito:username", "username")
"""Claims tried, in order, for :attr:`Identity.display_name`."""

Clock = Callable[[], float]

_TOKEN_ERRORS: Final[tuple[tuple[type[jwt.PyJWTError], str], ...]] = (
    (jwt.ExpiredSignatureError, "Token expired"),
    (jwt.ImmatureSignatureError, "Token not yet valid"),
    (jwt.InvalidIssuerError, "Wrong token issuer"),
    (jwt.InvalidSignatureError, "Bad token signature"),
    (jwt.InvalidAlgorithmError, "Token algorithm not allowed"),
    (jwt.DecodeError, "Malformed token"),
)


class JwtAuthenticator:
    """Checks OIDC bearer tokens against an issuer's keys; the user id is ``sub``.

    Reads (through :meth:`from_settings`) ``LAMBDAGRAPH_JWT_ISSUER``,
    ``LAMBDAGRAPH_JWT_AUDIENCE`` and ``LAMBDAGRAPH_JWT_JWKS_URL``.

    The identity's ``permissions`` are the token's ``scope`` claim split on spaces (access
    tokens carry it; ID tokens usually do not), ``display_name`` the first of
    :data:`DISPLAY_NAME_CLAIMS` present, and ``claims`` every verified claim.

    Args:
        issuer: the exact ``iss`` tokens must carry, e.g.
            ``https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf``.
        audience: what ``aud`` must contain (or a Cognito access token's ``client_id``).
        jwks_url: the issuer's JWKS; empty: the discovery document's ``jwks_uri``.
        clock: monotonic seconds, for the cache's ages (tests pass a fake one).

    Raises:
        ConfigurationError: no issuer or no audience, or a URL that is not http(s).

    Example:
        >>> auth = JwtAuthenticator("https://issuer.example", "my-client-id")
        >>> identity = await auth.authenticate(AuthRequest(headers={"authorization": ...}))
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str = "",
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        if not issuer:
            raise ConfigurationError("LAMBDAGRAPH_JWT_ISSUER must be set when auth_mode is jwt")
        if not audience:
            raise ConfigurationError(
                "LAMBDAGRAPH_JWT_AUDIENCE must be set when auth_mode is jwt (the app client id "
                "or API audience its tokens carry)"
            )
        urls = (("LAMBDAGRAPH_JWT_ISSUER", issuer), ("LAMBDAGRAPH_JWT_JWKS_URL", jwks_url))
        for name, url in urls:
            if url and urlparse(url).scheme not in ("http", "https"):
                raise ConfigurationError(f"{name}={url!r} is not an http(s) URL")
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self._clock = clock
        self._lock = threading.Lock()
        self._client: PyJWKClient | None = None
        self._keys: dict[str, PyJWK] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> JwtAuthenticator:
        """The authenticator the ``jwt_*`` settings describe (nothing is fetched yet)."""
        return cls(settings.jwt_issuer, settings.jwt_audience, settings.jwt_jwks_url)

    async def authenticate(self, request: AuthRequest) -> Identity:
        """The identity a valid bearer token names.

        Raises:
            Unauthorized: no token, or a token that does not verify (the message says why).
            Unavailable: the issuer's keys could not be fetched.
        """
        token = request.bearer_token
        if token is None:
            raise Unauthorized("Missing bearer token")
        kid, algorithm = _header(token)
        key = self._cached_key(kid)
        if key is None:
            key = await asyncio.to_thread(self._key, kid)
        if key.algorithm_name != algorithm:
            raise Unauthorized(f"Token algorithm {algorithm} does not match its key's")
        return self._identity(self._verified_claims(token, key))

    def _verified_claims(self, token: str, key: PyJWK) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                # The audience is checked below: a Cognito access token carries none.
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"Token has no {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(_token_error(exc)) from None
        if not self._audience_matches(claims):
            raise Unauthorized("Wrong token audience")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise Unauthorized("Token has no 'sub' claim")
        return claims

    def _audience_matches(self, claims: Mapping[str, Any]) -> bool:
        audience = claims.get("aud")
        if audience is None:
            return claims.get("token_use") == "access" and claims.get("client_id") == self.audience
        audiences = [audience] if isinstance(audience, str) else audience
        return isinstance(audiences, list) and self.audience in audiences

    @staticmethod
    def _identity(claims: dict[str, Any]) -> Identity:
        scope = claims.get("scope")
        names = (claims[c] for c in DISPLAY_NAME_CLAIMS if isinstance(claims.get(c), str))
        return Identity(
            claims["sub"],
            permissions=tuple(scope.split()) if isinstance(scope, str) else (),
            display_name=next(names, ""),
            claims=claims,
        )

    # --- keys -------------------------------------------------------------------------------

    def _cached_key(self, kid: str) -> PyJWK | None:
        """The key from a fresh cache, without leaving the event loop; None to go fetch."""
        keys = self._keys
        if keys is None or self._clock() - self._fetched_at >= KEYS_MAX_AGE_SECONDS:
            return None
        return keys.get(kid)

    def _key(self, kid: str) -> PyJWK:
        """The key ``kid`` names, fetching the key set when needed (blocking: runs in a
        worker thread). One lock: concurrent first requests make one fetch, not many."""
        with self._lock:
            now = self._clock()
            stale = self._keys is None or now - self._fetched_at >= KEYS_MAX_AGE_SECONDS
            if self._keys is None or (stale and self._may_fetch(now)):
                self._refresh(now)
            keys = self._keys or {}
            if kid not in keys and self._may_fetch(now):
                self._refresh(now)
                keys = self._keys or {}
            if kid not in keys:
                raise Unauthorized(f"Unknown token signing key {kid!r}")
            return keys[kid]

    def _may_fetch(self, now: float) -> bool:
        attempted = self._attempted_at
        return attempted is None or now - attempted >= REFETCH_INTERVAL_SECONDS

    def _refresh(self, now: float) -> None:
        """Fetch the key set; on failure keep the keys there are, else ``Unavailable``."""
        self._attempted_at = now
        try:
            client = self._client or PyJWKClient(
                self.jwks_url or self._discover_jwks_url(),
                cache_jwk_set=False,
                timeout=FETCH_TIMEOUT_SECONDS,
            )
            self._client = client
            keys = {key.key_id: key for key in client.get_signing_keys() if key.key_id}
        except Unavailable:
            raise
        except (jwt.PyJWTError, ValueError, OSError) as exc:
            # PyJWKClientConnectionError (down), PyJWKClientError / PyJWKSetError (no usable
            # keys), ValueError (not JSON): the issuer's problem, not the caller's.
            logger.warning("Cannot fetch the JWT signing keys: %s", exc)
            if self._keys is None:
                raise Unavailable("The token issuer's signing keys cannot be fetched") from None
            return
        self._keys = keys
        self._fetched_at = now

    def _discover_jwks_url(self) -> str:
        url = self.issuer.rstrip("/") + DISCOVERY_PATH
        try:
            document = _get_json(url)
        except (ValueError, OSError) as exc:
            logger.warning("Cannot read the OIDC discovery document %s: %s", url, exc)
            raise Unavailable("The token issuer's discovery document cannot be read") from None
        jwks_uri = document.get("jwks_uri") if isinstance(document, dict) else None
        if not isinstance(jwks_uri, str) or urlparse(jwks_uri).scheme not in ("http", "https"):
            logger.warning("The OIDC discovery document %s has no http(s) jwks_uri", url)
            raise Unavailable("The token issuer's discovery document has no jwks_uri")
        return jwks_uri


def _header(token: str) -> tuple[str, str]:
    """The token's ``kid`` and ``alg``, read before any key is looked up."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("Malformed token") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise Unauthorized(
            f"Token algorithm {algorithm!r} not allowed (only {', '.join(ALGORITHMS)})"
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthorized("Token has no key id (kid)")
    return kid, algorithm


def _token_error(exc: jwt.PyJWTError) -> str:
    for kind, message in _TOKEN_ERRORS:
        if isinstance(exc, kind):
            return message
    return "Invalid token"


def _get_json(url: str) -> Any:
    """GET ``url`` as JSON; raises ``OSError`` (network, HTTP status) or ``ValueError``."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
        return json.load(response)


__all__ = ["ALGORITHMS", "LEEWAY_SECONDS", "JwtAuthenticator"]
