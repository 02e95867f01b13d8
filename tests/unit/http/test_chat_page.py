"""The chat page's routes: content types, the config endpoint, outside the OpenAPI schema."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lambdagraph.http.chat_page import ASSETS, chat_config, install_chat_page
from lambdagraph.settings import Settings


def _client(settings: Settings) -> TestClient:
    app = FastAPI()
    app.state.context = SimpleNamespace(settings=settings)
    install_chat_page(app)
    return TestClient(app)


def test_the_page_is_html_and_names_its_module() -> None:
    response = _client(Settings()).get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="chat/static/js/main.js">' in response.text


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/chat/static/chat.css", "text/css"), ("/chat/static/js/main.js", "javascript")],
)
def test_assets_have_browser_content_types(path: str, kind: str) -> None:
    response = _client(Settings()).get(path)
    assert response.status_code == 200
    assert kind in response.headers["content-type"]


def test_every_module_the_page_imports_is_shipped() -> None:
    client = _client(Settings())
    for module in sorted((ASSETS / "js").glob("*.js")):
        assert client.get(f"/chat/static/js/{module.name}").status_code == 200


def test_an_unknown_asset_is_404_not_500() -> None:
    assert _client(Settings()).get("/chat/static/nope.js").status_code == 404


def test_config_without_auth_has_no_login() -> None:
    body = _client(Settings()).get("/chat/config").json()
    assert body == {"auth": "none", "login": None, "websocket_url": ""}


def test_config_in_jwt_mode_names_the_authorize_url_and_client() -> None:
    settings = Settings(
        auth_mode="jwt",
        jwt_issuer="https://issuer.example",
        jwt_audience="client-1",
        web_login_url="https://auth.example/oauth2/authorize",
        web_ws_url="wss://ws.example/prod",
    )
    assert chat_config(settings) == {
        "auth": "jwt",
        "login": {
            "authorize_url": "https://auth.example/oauth2/authorize",
            "client_id": "client-1",
        },
        "websocket_url": "wss://ws.example/prod",
    }


def test_jwt_without_a_login_url_asks_for_a_token() -> None:
    settings = Settings(auth_mode="jwt", jwt_issuer="https://i.example", jwt_audience="a")
    assert chat_config(settings)["login"] is None


def test_the_routes_stay_out_of_the_openapi_schema() -> None:
    paths = _client(Settings()).app.openapi()["paths"]  # type: ignore[attr-defined]
    assert "/" not in paths
    assert not [p for p in paths if p.startswith("/chat")]
