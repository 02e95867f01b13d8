"""The local issuer's login form: the implicit flow the chat page signs in with."""

from __future__ import annotations

import urllib.parse

import jwt
from starlette.testclient import TestClient

from lambdagraph_client.local.oidc import LocalIssuer

ISSUER = "http://127.0.0.1:8000/.local-oidc"
PAGE = "http://127.0.0.1:8000/"


def _client() -> tuple[LocalIssuer, TestClient]:
    issuer = LocalIssuer(ISSUER)
    return issuer, TestClient(issuer.app(), base_url="http://127.0.0.1:8000")


def test_the_form_asks_for_a_user_and_keeps_the_request() -> None:
    _, client = _client()
    response = client.get("/authorize", params={"redirect_uri": PAGE, "state": "s1"})
    assert response.status_code == 200
    assert 'name="user"' in response.text
    assert 'value="s1"' in response.text


def test_signing_in_redirects_with_a_token_for_that_user() -> None:
    issuer, client = _client()
    response = client.post(
        "/authorize",
        content=urllib.parse.urlencode({"user": "alice", "redirect_uri": PAGE, "state": "s1"}),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    target, _, fragment = response.headers["location"].partition("#")
    assert target == PAGE
    answer = dict(urllib.parse.parse_qsl(fragment))
    assert answer["state"] == "s1"
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "alice"
    assert claims["iss"] == issuer.url


def test_another_origin_never_gets_a_token() -> None:
    _, client = _client()
    response = client.post(
        "/authorize",
        content=urllib.parse.urlencode({"user": "alice", "redirect_uri": "http://evil.example/"}),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "location" not in response.headers
