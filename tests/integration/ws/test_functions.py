"""The ``ws`` and ``authorizer`` Lambda entry points, imported as Lambda would import them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import boto3
import pytest

from lambdagraph.store import schema
from lambdagraph_client.local.invoker import LocalContext
from tests.conftest import Tables, load_event

FUNCTIONS = Path(__file__).parents[3] / "functions"


def load_function(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"function_{name}", FUNCTIONS / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def environment(tables: Tables, monkeypatch: pytest.MonkeyPatch) -> Tables:
    monkeypatch.setenv("LAMBDAGRAPH_APP_TABLE", tables.app)
    monkeypatch.setenv("LAMBDAGRAPH_CHECKPOINT_TABLE", tables.checkpoints)
    monkeypatch.setenv("LAMBDAGRAPH_WORKER_FUNCTION", "lambdagraph-worker")
    monkeypatch.setenv("LAMBDAGRAPH_AUTH_MODE", "none")
    return tables


def test_authorizer_function_allows_the_local_user(environment: Tables) -> None:
    module = load_function("authorizer")
    policy = module.handler(load_event("ws_authorizer"), LocalContext("AuthorizerFunction", 10))
    assert policy["principalId"] == "local" and policy["context"]["user_id"] == "local"
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_ws_function_connects_and_disconnects(environment: Tables) -> None:
    module = load_function("ws")
    event = load_event("ws_connect")
    event["requestContext"]["authorizer"] = {"principalId": "local", "user_id": "local"}
    context = LocalContext("WsFunction", 29)
    assert module.handler(event, context) == {"statusCode": 200}
    key = schema.connection_key(event["requestContext"]["connectionId"])
    dynamodb = boto3.client("dynamodb")
    assert dynamodb.get_item(TableName=environment.app, Key=key)["Item"]["owner"]["S"] == "local"
    assert module.handler(load_event("ws_disconnect"), context) == {"statusCode": 200}
    assert "Item" not in dynamodb.get_item(TableName=environment.app, Key=key)
