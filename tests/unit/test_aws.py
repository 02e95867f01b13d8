"""The one botocore configuration: what it says, and that every client the package builds
carries it."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from lambdagraph import aws
from lambdagraph.engine.invoker import LambdaInvoker
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore
from lambdagraph.store.checkpoint import AsyncDynamoDBSaver, DynamoDBSaver
from lambdagraph.store.connections import ConnectionStore
from lambdagraph.store.events import EventLog
from lambdagraph.store.leases import RunLeases
from lambdagraph.store.table import AppTable
from lambdagraph.ws.sender import management_client

PACKAGE = Path(aws.__file__).parent


def assert_shared_config(client: Any, *, read_timeout: float = 20) -> None:
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (5, read_timeout)
    assert config.max_pool_connections == 50


def test_a_client_gets_standard_retries_short_timeouts_and_a_large_pool() -> None:
    client = aws.client("dynamodb")

    assert_shared_config(client)
    assert client.meta.service_model.service_name == "dynamodb"


def test_bedrock_gets_a_longer_read_timeout_and_the_rest_unchanged() -> None:
    assert_shared_config(aws.client("bedrock-runtime"), read_timeout=300)


def test_a_callers_config_wins_where_it_speaks() -> None:
    client = aws.client("s3", config=Config(read_timeout=90, signature_version="s3v4"))

    assert client.meta.config.read_timeout == 90
    assert client.meta.config.signature_version == "s3v4"
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_keyword_arguments_reach_boto3() -> None:
    client = aws.client("apigatewaymanagementapi", endpoint_url="http://127.0.0.1:9/ws")

    assert client.meta.endpoint_url == "http://127.0.0.1:9/ws"
    assert_shared_config(client)


def built_clients() -> dict[str, Any]:
    """Every client the package's classes build when given none."""
    settings = Settings(checkpoint_bucket="blobs")
    saver = DynamoDBSaver("checkpoints", bucket="blobs")
    async_saver = AsyncDynamoDBSaver.from_settings(settings)
    return {
        "AppStore": AppStore.from_settings(settings).client,
        "AppTable": AppTable("app").client,
        "RunLeases": RunLeases("app").client,
        "ConnectionStore": ConnectionStore("app").client,
        "EventLog": EventLog("app").client,
        "DynamoDBSaver": saver.client,
        "DynamoDBSaver.s3": saver.s3_client,
        "AsyncDynamoDBSaver": async_saver.client,
        "AsyncDynamoDBSaver.s3": async_saver.s3_client,
        "LambdaInvoker": LambdaInvoker("worker").client,
        "management_client": management_client("http://127.0.0.1:9/ws"),
    }


@pytest.mark.parametrize("name", sorted(built_clients()))
def test_every_client_the_package_builds_carries_the_config(name: str) -> None:
    assert_shared_config(built_clients()[name])


def test_a_savers_boto_config_is_merged_over_ours() -> None:
    saver = DynamoDBSaver("checkpoints", boto_config=Config(read_timeout=45))

    assert saver.client.meta.config.read_timeout == 45
    assert saver.client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}


def direct_client_calls(path: Path) -> list[str]:
    """Every ``boto3.<name>(...)`` call in ``path`` (``client``, ``resource``, ``Session``)."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "boto3":
                calls.append(f"{path.relative_to(PACKAGE)}:{node.lineno} boto3.{node.func.attr}")
    return calls


def test_no_module_but_aws_builds_a_boto3_client_itself() -> None:
    found = [
        call
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != Path(aws.__file__)
        for call in direct_client_calls(path)
    ]

    assert found == []
