"""``GET /info``'s feature flags follow the routes the app really serves."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lambdagraph.http.info import info, info_body


def _app(*routes: tuple[str, str]) -> FastAPI:
    app = FastAPI()
    for method, path in routes:
        app.add_api_route(path, lambda: None, methods=[method])
    app.add_api_route("/info", info, methods=["GET"])
    return app


def test_flags_are_false_for_features_not_served() -> None:
    body = TestClient(_app(("POST", "/threads"))).get("/info").json()
    assert body["flags"]["assistants"] is False
    assert body["flags"]["crons"] is False
    assert body["flags"]["langsmith"] is False


def test_flags_are_true_once_the_creating_route_is_served() -> None:
    body = info_body(_app(("POST", "/assistants"), ("POST", "/runs/crons")))
    assert body["flags"]["assistants"] is True
    assert body["flags"]["crons"] is True


def test_a_route_with_another_method_does_not_count() -> None:
    assert info_body(_app(("GET", "/assistants")))["flags"]["assistants"] is False


def test_versions_and_host_have_langgraph_servers_shape() -> None:
    body = info_body(FastAPI())
    assert body["version"] and body["langgraph_py_version"]
    assert body["host"]["kind"] == "self-hosted"
    assert set(body["host"]) == {
        "kind",
        "project_id",
        "host_revision_id",
        "revision_id",
        "tenant_id",
    }
