"""infra/smoke_auth.py: users of a Cognito pool built as the template declares it (on the
moto server), and the auth checks passing against a stack that authenticates, failing
against one that does not."""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest

from lambdagraph_client.local.server import LocalStack, running_stack
from tests.auth import TokenIsUser
from tests.conftest import Tables
from tests.deploy.template import deployed, document
from tests.deploy.test_smoke import LocalSession, smoke
from tests.e2e.conftest import stack_settings

# infra/ is on the path once test_smoke has loaded smoke.py, as `python infra/smoke.py` has it.
smoke_auth = importlib.import_module("smoke_auth")


@pytest.fixture
def cognito(aws_endpoint: str) -> Any:
    return boto3.client("cognito-idp", endpoint_url=aws_endpoint)


@pytest.fixture
def pool(cognito: Any) -> dict[str, str]:
    """A pool and app client with the template's properties (names aside), as the default
    parameters deploy them (no chat-page sign-in: its ``Fn::If`` branches drop out)."""
    resources = deployed()["Resources"]
    pool_props = {
        k: v for k, v in resources["UserPool"]["Properties"].items() if k != "UserPoolName"
    }
    pool_id = cognito.create_user_pool(PoolName="lg-users", **pool_props)["UserPool"]["Id"]
    client_props = dict(resources["UserPoolClient"]["Properties"])
    client_props.update(UserPoolId=pool_id, ClientName="lg-app")
    client_id = cognito.create_user_pool_client(**client_props)["UserPoolClient"]["ClientId"]
    return {"UserPoolId": pool_id, "UserPoolClientId": client_id}


def test_passwords_meet_the_template_pool_policy() -> None:
    policy = document()["Resources"]["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]
    for _ in range(20):
        password = smoke_auth.new_password()
        assert len(password) >= policy["MinimumLength"]
        assert re.search("[a-z]", password) and re.search("[A-Z]", password)
        assert re.search("[0-9]", password)
    assert smoke_auth.new_password() != smoke_auth.new_password()


def test_pool_users_get_access_tokens_of_the_app_client_and_are_deleted(
    cognito: Any, pool: dict[str, str]
) -> None:
    users = smoke_auth.PoolUsers.from_outputs(cognito, pool)
    assert users is not None
    owner, other = users.create("owner"), users.create("other")
    tokens = [users.access_token(owner), users.access_token(other)]
    claims = [jwt.decode(t, options={"verify_signature": False}) for t in tokens]
    assert {c["token_use"] for c in claims} == {"access"}
    assert {c["client_id"] for c in claims} == {pool["UserPoolClientId"]}
    assert claims[0]["sub"] != claims[1]["sub"]
    users.delete_all()
    assert cognito.list_users(UserPoolId=pool["UserPoolId"])["Users"] == []


def test_a_stack_without_a_pool_has_no_pool_users(cognito: Any) -> None:
    assert smoke_auth.PoolUsers.from_outputs(cognito, {"FunctionUrl": "https://f"}) is None


def test_a_refused_sign_in_is_a_clear_error(cognito: Any, pool: dict[str, str]) -> None:
    users = smoke_auth.PoolUsers(cognito, pool["UserPoolId"], "no-such-client")
    user = users.create("owner")
    with pytest.raises(smoke_auth.AuthCheckError, match=f"cannot sign in {user.username}"):
        users.access_token(user)
    users.delete_all()


@pytest.fixture
def authenticating_stack(tables: Tables) -> Iterator[LocalStack]:
    settings = stack_settings(tables, scripted_delay_ms=2)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


def args(auth_checks: str) -> argparse.Namespace:
    return argparse.Namespace(
        stack="lg",
        token=None,
        sign="auto",
        skip_websocket=False,
        timeout=30.0,
        auth_checks=auth_checks,
        # No CloudWatch locally: the observability check runs on stubs (test_smoke_observe).
        skip_observability=True,
        metrics_wait=1.0,
    )


async def test_every_check_passes_with_pool_users_and_they_are_removed(
    authenticating_stack: LocalStack,
    cognito: Any,
    pool: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = LocalSession(authenticating_stack, cognito, **pool)
    assert await smoke.smoke(args("auto"), session) is True
    lines = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith(("PASS", "FAIL"))
    ]
    assert len(lines) == 10 and all(line.startswith("PASS") for line in lines), lines
    assert any("another user's thread: 404" in line for line in lines)
    assert cognito.list_users(UserPoolId=pool["UserPoolId"])["Users"] == []


async def test_auth_checks_fail_against_a_stack_that_lets_anyone_in(
    tables: Tables, cognito: Any, pool: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with running_stack(settings=stack_settings(tables, scripted_delay_ms=2)) as open_stack:
        session = LocalSession(open_stack, cognito, **pool)
        assert await smoke.smoke(args("always"), session) is False
    failed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL")]
    assert any("no token: 401" in line for line in failed), failed
    assert any("another user's thread: 404" in line for line in failed), failed


async def test_always_needs_a_pool(authenticating_stack: LocalStack) -> None:
    with pytest.raises(smoke.SmokeError, match="UserPoolId"):
        await smoke.smoke(args("always"), LocalSession(authenticating_stack))
