"""``JwtAuthenticator`` against an issuer served on a free port: what it accepts, what it
refuses and why, and how often it asks the issuer for keys."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import jwt
import pytest

from lambdagraph.auth import AuthRequest, Identity, authenticator_from_settings
from lambdagraph.auth.jwt import (
    KEYS_MAX_AGE_SECONDS,
    REFETCH_INTERVAL_SECONDS,
    JwtAuthenticator,
)
from lambdagraph.errors import ConfigurationError, Unauthorized, Unavailable
from lambdagraph.settings import Settings
from tests.oidc import AUDIENCE, IssuerServer, forged_tokens, issuer_server

#: What each bad token is told (a substring of the ``Unauthorized`` message).
REFUSALS = {
    "missing": "Missing bearer token",
    "malformed": "Malformed token",
    "expired": "Token expired",
    "not yet valid": "Token not yet valid",
    "wrong issuer": "Wrong token issuer",
    "wrong audience": "Wrong token audience",
    "wrong signature": "Bad token signature",
    "alg none": "Token algorithm 'none' not allowed",
    "HS256 with the public key": "Token algorithm 'HS256' not allowed",
    "unknown kid": "Unknown token signing key 'not-a-key-of-ours'",
    "no sub": "Token has no 'sub' claim",
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[IssuerServer]:
    with issuer_server() as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def auth(server: IssuerServer, clock: FakeClock) -> JwtAuthenticator:
    return JwtAuthenticator(server.issuer.url, AUDIENCE, clock=clock)


def bearer(token: str | None) -> AuthRequest:
    return AuthRequest(headers={"authorization": f"Bearer {token}"} if token else {})


async def test_a_valid_token_is_its_subject(server: IssuerServer, auth: JwtAuthenticator) -> None:
    identity = await auth.authenticate(bearer(server.token("alice", scope="threads:read runs")))
    assert identity.user_id == "alice"
    assert identity.display_name == "alice"
    assert identity.permissions == ("threads:read", "runs")
    assert identity.claims["iss"] == server.issuer.url and identity.claims["aud"] == AUDIENCE
    assert Identity.from_context(identity.to_context()) == identity


async def test_es256_tokens_are_accepted(server: IssuerServer, auth: JwtAuthenticator) -> None:
    server.issuer.rotate("ES256")
    assert (await auth.authenticate(bearer(server.token("bob")))).user_id == "bob"


async def test_an_audience_list_containing_ours_is_accepted(
    server: IssuerServer, auth: JwtAuthenticator
) -> None:
    token = server.token("alice", aud=["other-api", AUDIENCE])
    assert (await auth.authenticate(bearer(token))).user_id == "alice"


async def test_a_cognito_access_token_is_checked_by_its_client_id(
    server: IssuerServer, auth: JwtAuthenticator
) -> None:
    scope = "aws.cognito.signin.user.admin"
    access = server.token("alice", aud=None, token_use="access", client_id=AUDIENCE, scope=scope)
    assert "aud" not in jwt.decode(access, options={"verify_signature": False})
    access_identity = await auth.authenticate(bearer(access))
    assert access_identity.user_id == "alice"
    assert access_identity.permissions == ("aws.cognito.signin.user.admin",)
    other_client = server.token("alice", aud=None, token_use="access", client_id="other")
    not_access = server.token("alice", aud=None, token_use="id", client_id=AUDIENCE)
    for token in (other_client, not_access):
        with pytest.raises(Unauthorized, match="Wrong token audience"):
            await auth.authenticate(bearer(token))


@pytest.mark.parametrize("kind", list(REFUSALS))
async def test_bad_tokens_are_refused_saying_why(
    server: IssuerServer, auth: JwtAuthenticator, kind: str
) -> None:
    await auth.authenticate(bearer(server.token("alice")))  # keys cached: only the token counts
    token = forged_tokens(server)[kind]
    with pytest.raises(Unauthorized) as refused:
        await auth.authenticate(bearer(token))
    assert REFUSALS[kind] in refused.value.message


def test_issuer_and_audience_are_required() -> None:
    with pytest.raises(ConfigurationError, match="LAMBDAGRAPH_JWT_ISSUER"):
        authenticator_from_settings(Settings(auth_mode="jwt", jwt_audience="app"))
    with pytest.raises(ConfigurationError, match="LAMBDAGRAPH_JWT_AUDIENCE"):
        authenticator_from_settings(Settings(auth_mode="jwt", jwt_issuer="https://issuer.example"))
    with pytest.raises(ConfigurationError, match="LAMBDAGRAPH_JWT_JWKS_URL"):
        JwtAuthenticator("https://issuer.example", "app", "file:///etc/passwd")


async def test_keys_are_fetched_on_first_use_once(server: IssuerServer) -> None:
    auth = authenticator_from_settings(
        Settings(auth_mode="jwt", jwt_issuer=server.issuer.url, jwt_audience=AUDIENCE)
    )
    assert isinstance(auth, JwtAuthenticator)
    assert server.fetches == {}  # a cold start asks the network nothing
    for user in ("alice", "bob", "alice"):
        assert (await auth.authenticate(bearer(server.token(user)))).user_id == user
    assert server.discovery_fetches == 1 and server.jwks_fetches == 1


async def test_an_explicit_jwks_url_skips_discovery(server: IssuerServer) -> None:
    auth = JwtAuthenticator(server.issuer.url, AUDIENCE, server.issuer.jwks_uri)
    assert (await auth.authenticate(bearer(server.token()))).user_id == "alice"
    assert server.discovery_fetches == 0 and server.jwks_fetches == 1


async def test_concurrent_first_requests_fetch_once(
    server: IssuerServer, auth: JwtAuthenticator
) -> None:
    tokens = [server.token(f"user-{i}") for i in range(8)]
    identities = await asyncio.gather(*(auth.authenticate(bearer(t)) for t in tokens))
    assert [i.user_id for i in identities] == [f"user-{i}" for i in range(8)]
    assert server.jwks_fetches == 1


async def test_fetching_keys_leaves_the_event_loop_free(
    server: IssuerServer, auth: JwtAuthenticator
) -> None:
    # The issuer holds its answer until this coroutine releases it, which it can do only
    # if the event loop is not blocked by the fetch.
    server.gate = threading.Event()
    pending = asyncio.ensure_future(auth.authenticate(bearer(server.token())))
    assert await asyncio.to_thread(server.arrived.wait, 10)
    server.gate.set()
    assert (await pending).user_id == "alice"


@pytest.mark.parametrize("mode", ["down", "garbage", "no-keys"])
async def test_an_issuer_that_cannot_give_keys_is_unavailable_until_it_can(
    server: IssuerServer, auth: JwtAuthenticator, mode: str
) -> None:
    server.mode = mode  # type: ignore[assignment]
    for _ in range(2):  # a failure is not remembered: every request tries again
        with pytest.raises(Unavailable, match="token issuer"):
            await auth.authenticate(bearer(server.token()))
    server.mode = "ok"
    assert (await auth.authenticate(bearer(server.token()))).user_id == "alice"


async def test_a_garbage_jwks_behind_good_discovery_is_unavailable(server: IssuerServer) -> None:
    auth = JwtAuthenticator(server.issuer.url, AUDIENCE)
    original = server.answer

    def garbage_jwks(path: str) -> tuple[int, bytes]:
        status, body = original(path)
        return (200, b"[1, 2]") if path == "/jwks.json" else (status, body)

    server.answer = garbage_jwks  # type: ignore[method-assign]
    with pytest.raises(Unavailable):
        await auth.authenticate(bearer(server.token()))
    assert server.discovery_fetches == 1


async def test_a_rotated_key_is_fetched_at_most_once_a_minute(
    server: IssuerServer, auth: JwtAuthenticator, clock: FakeClock
) -> None:
    await auth.authenticate(bearer(server.token("alice")))
    server.issuer.rotate()
    rotated = server.token("bob")
    clock.now += REFETCH_INTERVAL_SECONDS / 2
    with pytest.raises(Unauthorized, match="Unknown token signing key"):
        await auth.authenticate(bearer(rotated))  # the keys were fetched a moment ago
    assert server.jwks_fetches == 1
    clock.now += REFETCH_INTERVAL_SECONDS / 2
    assert (await auth.authenticate(bearer(rotated))).user_id == "bob"
    assert server.jwks_fetches == 2
    unknown = forged_tokens(server)["unknown kid"]
    for _ in range(20):
        clock.now += 1
        with pytest.raises(Unauthorized, match="Unknown token signing key"):
            await auth.authenticate(bearer(unknown))
    assert server.jwks_fetches == 2  # made-up kids cannot make us hammer the issuer
    clock.now += REFETCH_INTERVAL_SECONDS
    with pytest.raises(Unauthorized, match="Unknown token signing key"):
        await auth.authenticate(bearer(unknown))
    assert server.jwks_fetches == 3


async def test_old_keys_are_fetched_again_and_kept_when_the_issuer_is_down(
    server: IssuerServer, auth: JwtAuthenticator, clock: FakeClock
) -> None:
    await auth.authenticate(bearer(server.token("alice")))
    clock.now += KEYS_MAX_AGE_SECONDS
    server.mode = "down"
    assert (await auth.authenticate(bearer(server.token("alice")))).user_id == "alice"
    assert server.jwks_fetches == 2  # tried, failed, kept the keys it had
    server.mode = "ok"
    server.issuer.rotate(keep_old=False)
    clock.now += REFETCH_INTERVAL_SECONDS
    assert (await auth.authenticate(bearer(server.token("bob")))).user_id == "bob"
    assert server.jwks_fetches == 3


async def test_leeway_accepts_a_token_just_past_expiry(
    server: IssuerServer, auth: JwtAuthenticator
) -> None:
    now = int(time.time())
    token = server.token("alice", exp=now - 5, iat=now - 600, nbf=now - 600)
    assert (await auth.authenticate(bearer(token))).user_id == "alice"
