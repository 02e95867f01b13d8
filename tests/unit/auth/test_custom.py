"""Custom auth: LangGraph's parameter injection, user normalisation and error mapping."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph_sdk import Auth

from lambdagraph.auth import AuthRequest, Identity, authenticator_from_settings
from lambdagraph.auth.custom import AuthUser, CustomAuthenticator, CustomAuthorizer, load_auth
from lambdagraph.auth.policy import AllowAll, authorizer_from_settings
from lambdagraph.errors import ConfigurationError, Forbidden, NotFound, Unauthorized
from lambdagraph.settings import Settings

REQUEST = AuthRequest(
    headers={"authorization": "Bearer tok", "x-org": "acme"},
    method="POST",
    path="/threads",
    query={"a": "1"},
)


def authenticator(handler: Any) -> CustomAuthenticator:
    auth = Auth()
    auth.authenticate(handler)
    return CustomAuthenticator(auth)


async def test_the_handler_gets_what_it_names_as_langgraph_injects_it() -> None:
    seen: dict[str, Any] = {}

    async def handler(
        authorization: str | None,
        path: str,
        method: str,
        headers: Any,
        query_params: Any,
        request: Any,
    ) -> str:
        seen.update(
            authorization=authorization,
            path=path,
            method=method,
            org=headers[b"x-org"],
            a=query_params["a"],
            url_path=request.url.path,
        )
        return "alice"

    assert await authenticator(handler).authenticate(REQUEST) == Identity(
        "alice", display_name="alice"
    )
    assert seen == {
        "authorization": "Bearer tok",
        "path": "/threads",
        "method": "POST",
        "org": b"acme",
        "a": "1",
        "url_path": "/threads",
    }


async def test_a_user_dict_becomes_an_identity_with_its_extra_fields_as_claims() -> None:
    async def handler(authorization: str | None) -> dict[str, Any]:
        return {"identity": "u1", "permissions": ["read"], "display_name": "U", "org": "acme"}

    identity = await authenticator(handler).authenticate(REQUEST)
    assert identity == Identity(
        "u1", permissions=("read",), display_name="U", claims={"org": "acme"}
    )
    user = AuthUser(identity)
    assert (user.identity, user["org"], user.org, user.is_authenticated) == (
        "u1",
        "acme",
        "acme",
        True,
    )


@pytest.mark.parametrize(
    ("raised", "kind", "message"),
    [
        (Auth.exceptions.HTTPException(401, "bad token"), Unauthorized, "bad token"),
        (Auth.exceptions.HTTPException(403, "no"), Forbidden, "no"),
        (RuntimeError("secret"), Unauthorized, "Unauthorized"),
        (AssertionError("secret"), Unauthorized, "Unauthorized"),
    ],
)
async def test_authenticate_failures_keep_only_an_http_exceptions_detail(
    raised: Exception, kind: type[Exception], message: str
) -> None:
    async def handler() -> str:
        raise raised

    with pytest.raises(kind) as caught:
        await authenticator(handler).authenticate(REQUEST)
    assert str(caught.value) == message


async def test_the_most_specific_on_handler_decides() -> None:
    auth = Auth()
    calls: list[str] = []

    @auth.on
    async def everything(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> bool:
        calls.append("global")
        return False

    @auth.on.threads.read
    async def read(ctx: Auth.types.AuthContext, value: Auth.types.ThreadsRead) -> dict[str, str]:
        calls.append(f"read:{ctx.user.identity}:{ctx.resource}.{ctx.action}")
        return {"owner": ctx.user.identity}

    @auth.on.threads.delete
    async def delete(ctx: Auth.types.AuthContext, value: Auth.types.ThreadsDelete) -> None:
        raise Auth.exceptions.HTTPException(404, "hidden")

    authorizer = CustomAuthorizer(auth)
    alice = Identity("alice")
    assert await authorizer.authorize(alice, "threads", "read", {}) == {"owner": "alice"}
    with pytest.raises(Forbidden):
        await authorizer.authorize(alice, "assistants", "search", {})
    with pytest.raises(NotFound, match="hidden"):
        await authorizer.authorize(alice, "threads", "delete", {})
    assert calls == ["read:alice:threads.read", "global"]


@pytest.mark.parametrize(
    "path",
    [
        "",
        "no_colon",
        "tests.unit.auth.nowhere:auth",
        "tests.unit.auth.test_custom:REQUEST",
        "tests.unit.auth.test_custom:NO_AUTHENTICATE",
    ],
)
def test_a_bad_auth_path_is_a_configuration_error_naming_the_setting(path: str) -> None:
    with pytest.raises(ConfigurationError, match="LAMBDAGRAPH_AUTH_PATH"):
        load_auth(path)


NO_AUTHENTICATE = Auth()


def test_custom_mode_builds_both_from_the_one_auth_object() -> None:
    settings = Settings(auth_mode="custom", auth_path="tests.e2e.auth_files.langgraph_auth:auth")
    assert isinstance(authenticator_from_settings(settings), CustomAuthenticator)
    assert isinstance(authorizer_from_settings(settings), CustomAuthorizer)
    assert isinstance(authorizer_from_settings(Settings()), AllowAll)
