"""``auth_mode=jwt`` over HTTP, end to end: the local stack built from settings (no injected
authenticator) checks tokens against an issuer served on a free port, and a stack running
its own local issuer lets two users, with tokens from ``lambdagraph token``, each see only
their own threads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from langgraph_sdk import get_client

from lambdagraph.auth.jwt import REFETCH_INTERVAL_SECONDS, JwtAuthenticator
from lambdagraph.settings import Settings
from lambdagraph_client.cli import main
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import stack_settings, user_message
from tests.oidc import AUDIENCE, IssuerServer, forged_tokens, issuer_server
from tests.unit.auth.test_jwt import REFUSALS, FakeClock


def jwt_settings(tables: Tables, server: IssuerServer) -> Settings:
    return stack_settings(
        tables, auth_mode="jwt", jwt_issuer=server.issuer.url, jwt_audience=AUDIENCE
    )


@pytest.fixture(scope="module")
def server() -> Iterator[IssuerServer]:
    with issuer_server() as running:
        yield running


@pytest.fixture(scope="module")
def stack(server: IssuerServer, aws_endpoint: str) -> Iterator[LocalStack]:
    suffix = uuid.uuid4().hex[:10]
    tables = Tables(checkpoints=f"checkpoints-{suffix}", app=f"app-{suffix}", bucket=f"cp-{suffix}")
    with running_stack(settings=jwt_settings(tables, server)) as running:
        yield running


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.mark.parametrize("kind", list(REFUSALS))
def test_bad_tokens_get_401_with_a_detail(
    stack: LocalStack, server: IssuerServer, kind: str
) -> None:
    token = forged_tokens(server)[kind]
    for request in (
        httpx.post(f"{stack.url}/threads", json={}, headers=bearer(token), timeout=10),
        httpx.post(f"{stack.url}/threads/search", json={}, headers=bearer(token), timeout=10),
    ):
        assert request.status_code == 401
        assert request.headers["www-authenticate"] == "Bearer"
        assert REFUSALS[kind] in request.json()["detail"]
        assert "Traceback" not in request.text


def test_health_needs_no_token(stack: LocalStack) -> None:
    assert httpx.get(f"{stack.url}/ok", timeout=10).json() == {"ok": True}


async def test_a_valid_token_works_with_the_sdk(stack: LocalStack, server: IssuerServer) -> None:
    client = get_client(url=stack.url, headers=bearer(server.token("alice")))
    thread = await client.threads.create()
    result = await client.runs.wait(thread["thread_id"], "agent", input=user_message("count to 3"))
    assert isinstance(result, dict) and result["messages"][-1]["content"] == "1 2 3"
    assert server.jwks_fetches == 1 and server.discovery_fetches == 1


async def test_made_up_kids_do_not_make_the_stack_hammer_the_issuer(
    stack: LocalStack, server: IssuerServer
) -> None:
    await get_client(url=stack.url, headers=bearer(server.token("alice"))).threads.search()
    fetched = server.jwks_fetches
    unknown = forged_tokens(server)["unknown kid"]
    answers = [
        httpx.post(f"{stack.url}/threads/search", json={}, headers=bearer(unknown), timeout=10)
        for _ in range(10)
    ]
    assert {answer.status_code for answer in answers} == {401}
    assert server.jwks_fetches <= fetched + 1


def test_an_issuer_that_is_down_is_503_not_500(tables: Tables) -> None:
    with issuer_server() as down, running_stack(settings=jwt_settings(tables, down)) as stack:
        down.mode = "down"
        answer = httpx.post(
            f"{stack.url}/threads", json={}, headers=bearer(down.token()), timeout=30
        )
        assert answer.status_code == 503
        assert "token issuer" in answer.json()["detail"]
        down.mode = "ok"
        again = httpx.post(
            f"{stack.url}/threads", json={}, headers=bearer(down.token()), timeout=30
        )
        assert again.status_code == 200


async def test_a_rotated_key_is_picked_up(tables: Tables) -> None:
    clock = FakeClock()
    with issuer_server() as rotating:
        auth = JwtAuthenticator(rotating.issuer.url, AUDIENCE, clock=clock)
        with running_stack(settings=jwt_settings(tables, rotating), authenticator=auth) as stack:
            alice = get_client(url=stack.url, headers=bearer(rotating.token("alice")))
            await alice.threads.search()
            rotating.issuer.rotate(keep_old=False)
            clock.now += REFETCH_INTERVAL_SECONDS
            bob = get_client(url=stack.url, headers=bearer(rotating.token("bob")))
            assert await bob.threads.search() == []
            assert rotating.jwks_fetches == 2


def token_from_cli(url: str, user: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``lambdagraph token --user USER --url URL`` prints."""
    capsys.readouterr()
    assert main(["token", "--user", user, "--url", url]) == 0
    return capsys.readouterr().out.strip()


async def test_two_users_of_the_local_issuer_see_only_their_own_threads(
    tables: Tables, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_stack(settings=stack_settings(tables), local_issuer=True) as stack:
        assert stack.issuer is not None and stack.settings.auth_mode == "jwt"
        alice_token, bob_token = (token_from_cli(stack.url, u, capsys) for u in ("alice", "bob"))
        alice = get_client(url=stack.url, headers=bearer(alice_token))
        bob = get_client(url=stack.url, headers=bearer(bob_token))
        mine = await alice.threads.create(metadata={"owner": "alice"})
        theirs = await bob.threads.create(metadata={"owner": "bob"})
        await alice.runs.wait(mine["thread_id"], "agent", input=user_message("count to 2"))

        assert [t["thread_id"] for t in await alice.threads.search()] == [mine["thread_id"]]
        assert [t["thread_id"] for t in await bob.threads.search()] == [theirs["thread_id"]]
        for path in (f"/threads/{mine['thread_id']}", f"/threads/{mine['thread_id']}/state"):
            answer = httpx.get(f"{stack.url}{path}", headers=bearer(bob_token), timeout=10)
            assert answer.status_code == 404
        anonymous = httpx.get(f"{stack.url}/threads/{mine['thread_id']}", timeout=10)
        assert anonymous.status_code == 401


def test_token_without_a_local_issuer_says_how_to_start_one(
    tables: Tables, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_stack(settings=stack_settings(tables)) as stack:
        assert main(["token", "--user", "alice", "--url", stack.url]) == 2
    assert "lambdagraph dev --auth jwt" in capsys.readouterr().err


def test_an_explicit_issuer_wins_over_the_local_one(tables: Tables) -> None:
    with issuer_server() as real:
        settings = jwt_settings(tables, real)
        with running_stack(settings=settings, local_issuer=True) as stack:
            assert stack.issuer is None and stack.settings.jwt_issuer == real.issuer.url
            answer = httpx.post(
                f"{stack.url}/threads", json={}, headers=bearer(real.token()), timeout=10
            )
            assert answer.status_code == 200
            local = httpx.post(f"{stack.url}/.local-oidc/token", json={"user": "a"}, timeout=10)
            assert local.status_code == 404  # no local token endpoint
