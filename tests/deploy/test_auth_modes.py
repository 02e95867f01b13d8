"""Each AuthMode deploys the auth it promises: asserted on the CloudFormation that SAM
produces, with conditions evaluated as CloudFormation evaluates them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lambdagraph.http.app import EXPOSED_HEADERS
from lambdagraph.settings import Settings
from lambdagraph.wiring import build_http_app
from tests.deploy.template import deployed, document, functions, resolved_environment

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
MODES: dict[str, dict[str, str]] = {
    "jwt-own-pool": {},
    "jwt-existing-issuer": {"JwtIssuer": ISSUER, "JwtAudience": "client-id"},
    "iam": {"AuthMode": "iam"},
    "custom": {"AuthMode": "custom", "AuthPath": "my_auth:auth"},
    "none": {"AuthMode": "none"},
}
# mode → ($connect auth, its identity sources or None without an authorizer,
#         HTTP API $default auth, function URL AuthType)
EXPECTED = {
    "jwt-own-pool": ("CUSTOM", ["route.request.querystring.token"], "JWT", "NONE"),
    "jwt-existing-issuer": ("CUSTOM", ["route.request.querystring.token"], "JWT", "NONE"),
    "iam": ("AWS_IAM", None, "AWS_IAM", "AWS_IAM"),
    "custom": ("CUSTOM", ["route.request.querystring.token"], "NONE", "NONE"),
    "none": ("CUSTOM", [], "NONE", "AWS_IAM"),
}


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def http_route(template: dict[str, Any], key: str) -> dict[str, Any]:
    [route] = [
        p
        for p in resources(template, "AWS::ApiGatewayV2::Route").values()
        if p["ApiId"] == {"Ref": "HttpApi"} and p["RouteKey"] == key
    ]
    return route


def test_the_default_is_jwt_with_a_user_pool_the_stack_creates() -> None:
    parameters = document()["Parameters"]
    assert parameters["AuthMode"]["Default"] == "jwt"
    assert parameters["JwtIssuer"]["Default"] == ""
    template = deployed()
    assert set(resources(template, "AWS::Cognito::UserPool")) == {"UserPool"}
    [client] = resources(template, "AWS::Cognito::UserPoolClient").values()
    assert client["GenerateSecret"] is False
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]
    assert {"UserPoolId", "UserPoolClientId", "JwtIssuer"} <= set(template["Outputs"])
    assert template["Outputs"]["UserPoolClientId"]["Value"] == {"Ref": "UserPoolClient"}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_each_mode_wires_its_authorizers_and_url_auth(mode: str) -> None:
    connect_auth, sources, http_auth, url_auth = EXPECTED[mode]
    template = deployed(MODES[mode])
    [connect] = [
        p
        for p in resources(template, "AWS::ApiGatewayV2::Route").values()
        if p["ApiId"] == {"Ref": "WebSocketApi"} and p["RouteKey"] == "$connect"
    ]
    assert connect["AuthorizationType"] == connect_auth
    authorizers = resources(template, "AWS::ApiGatewayV2::Authorizer")
    if sources is None:
        assert "AuthorizerId" not in connect and "WebSocketApiConnectAuthorizer" not in authorizers
    else:
        assert connect["AuthorizerId"] == {"Ref": "WebSocketApiConnectAuthorizer"}
        ws = authorizers["WebSocketApiConnectAuthorizer"]
        # Any listed source that a request lacks is a 401 before our authorizer runs.
        assert ws.get("IdentitySource", []) == sources
        assert "WebSocketApiAuthorizerPermission" in template["Resources"]

    default = http_route(template, "$default")
    assert default["AuthorizationType"] == http_auth
    assert ("AuthorizerId" in default) == (http_auth == "JWT")
    assert ("HttpApiJwtAuthorizer" in authorizers) == (http_auth == "JWT")
    for open_route in ("GET /ok", "OPTIONS /{proxy+}"):
        assert http_route(template, open_route)["AuthorizationType"] == "NONE"

    [url] = resources(template, "AWS::Lambda::Url").values()
    assert url["AuthType"] == url_auth
    public = [
        p
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p.get("Principal") == "*"
    ]
    assert len(public) == (2 if url_auth == "NONE" else 0)
    assert ("UserPool" in template["Resources"]) == (mode == "jwt-own-pool")


@pytest.mark.parametrize("mode", ["jwt-own-pool", "jwt-existing-issuer"])
def test_the_http_authorizer_and_the_app_trust_the_same_issuer(mode: str) -> None:
    template = deployed(MODES[mode])
    jwt = resources(template, "AWS::ApiGatewayV2::Authorizer")["HttpApiJwtAuthorizer"]
    for name, function in resources(template, "AWS::Lambda::Function").items():
        variables = function["Environment"]["Variables"]
        assert variables["LAMBDAGRAPH_AUTH_MODE"] == {"Ref": "AuthMode"}, name
        assert variables["LAMBDAGRAPH_JWT_ISSUER"] == jwt["JwtConfiguration"]["Issuer"], name
        assert [variables["LAMBDAGRAPH_JWT_AUDIENCE"]] == jwt["JwtConfiguration"]["Audience"]
    if mode == "jwt-existing-issuer":
        assert jwt["JwtConfiguration"] == {
            "Issuer": {"Ref": "JwtIssuer"},
            "Audience": [{"Ref": "JwtAudience"}],
        }
    else:
        assert jwt["JwtConfiguration"]["Audience"] == [{"Ref": "UserPoolClient"}]


@pytest.mark.parametrize("function", sorted(functions()))
def test_every_function_gets_the_auth_and_limit_parameters(function: str) -> None:
    parameters = {
        "AuthMode": "custom",
        "AuthPath": "my_auth:auth",
        "JwtJwksUrl": "https://issuer.example/jwks.json",
        "MaxActiveRunsPerUser": "3",
        "RequestsPerMinutePerUser": "30",
    }
    settings = Settings.from_env(resolved_environment(function, parameters))
    assert settings.auth_mode == "custom" and settings.auth_path == "my_auth:auth"
    assert settings.jwt_jwks_url == "https://issuer.example/jwks.json"
    assert settings.max_active_runs_per_user == 3
    assert settings.requests_per_minute_per_user == 30
    assert settings.ws_endpoint.startswith("https://lg-WebSocketApi.execute-api.")
    own_pool = Settings.from_env(resolved_environment(function))
    assert own_pool.jwt_issuer == "https://cognito-idp.us-east-1.amazonaws.com/lg-UserPool"
    assert own_pool.jwt_audience == "lg-UserPoolClient"
    assert own_pool.max_active_runs_per_user > 0 and own_pool.requests_per_minute_per_user > 0


async def preflight(settings: Settings, origin: str) -> httpx.Response:
    # CORS wraps every route whatever the auth mode (a preflight carries no credentials).
    app = build_http_app(settings.replace(worker_function="lg-worker", auth_mode="none"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://fn-url"
    ) as client:
        return await client.options(
            "/threads",
            headers={"origin": origin, "access-control-request-method": "POST"},
        )


async def test_by_default_no_browser_origin_is_allowed() -> None:
    template = deployed()
    [url] = resources(template, "AWS::Lambda::Url").values()
    assert "Cors" not in url
    assert "CorsConfiguration" not in resources(template, "AWS::ApiGatewayV2::Api")["HttpApi"]
    settings = Settings.from_env(resolved_environment("StreamFunction"))
    answer = await preflight(settings, "https://evil.example")
    assert "access-control-allow-origin" not in answer.headers


async def test_cors_origins_reach_the_function_url_the_http_api_and_the_app() -> None:
    origins = "https://app.example.com,https://admin.example.com"
    template = deployed({"CorsAllowOrigins": origins})
    [url] = resources(template, "AWS::Lambda::Url").values()
    http_api = resources(template, "AWS::ApiGatewayV2::Api")["HttpApi"]
    for cors in (url["Cors"], http_api["CorsConfiguration"]):
        assert cors["AllowOrigins"] == {"Fn::Split": [",", {"Ref": "CorsAllowOrigins"}]}
        assert [h.lower() for h in cors["ExposeHeaders"]] == [h.lower() for h in EXPOSED_HEADERS]
    settings = Settings.from_env(
        resolved_environment("StreamFunction", {"CorsAllowOrigins": origins})
    )
    allowed = await preflight(settings, "https://admin.example.com")
    assert allowed.headers["access-control-allow-origin"] == "https://admin.example.com"
    refused = await preflight(settings, "https://evil.example")
    assert "access-control-allow-origin" not in refused.headers
