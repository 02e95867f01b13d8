"""The local stack takes its tables, timeouts and WebSocket routes from template.yaml."""

from __future__ import annotations

import boto3
import pytest

from lambdagraph.settings import Settings
from lambdagraph.store import schema
from lambdagraph.store.app import AppStore
from lambdagraph.store.checkpoint import AsyncDynamoDBSaver
from lambdagraph.wiring import default_checkpointer
from lambdagraph.ws.routes import ROUTES
from lambdagraph_client.local import gateway
from lambdagraph_client.local.invoker import LocalInvoker
from lambdagraph_client.local.server import LOCAL_CHECKPOINT_BUCKET, with_local_bucket
from lambdagraph_client.local.template import function_timeout, table_definitions
from tests.conftest import Tables
from tests.deploy.template import (
    document,
    functions,
    globals_function,
    resolved_environment,
    websocket_routes,
)


def template_routes() -> set[str]:
    return websocket_routes()


def test_local_tables_match_the_template(tables: Tables) -> None:
    dynamodb = boto3.client("dynamodb")
    for logical_id, name in {
        "CheckpointsTable": tables.checkpoints,
        "AppTable": tables.app,
    }.items():
        declared = document()["Resources"][logical_id]["Properties"]
        assert table_definitions()[logical_id] == declared
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == declared["KeySchema"]
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            declared["AttributeDefinitions"], key=str
        )
        local_indexes = {
            i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])
        }
        assert local_indexes == {
            i["IndexName"]: i["KeySchema"] for i in declared.get("GlobalSecondaryIndexes", [])
        }
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["AttributeName"] == declared["TimeToLiveSpecification"]["AttributeName"]


@pytest.mark.parametrize("function", sorted(functions()))
def test_local_timeouts_are_the_template_timeouts(function: str) -> None:
    declared = functions()[function].get("Timeout", globals_function()["Timeout"])
    assert function_timeout(function) == declared


def test_local_worker_invoker_defaults_to_the_worker_timeout() -> None:
    async def handler(event: dict[str, object], context: object) -> None:
        return None

    assert LocalInvoker(handler).timeout_seconds == functions()["WorkerFunction"]["Timeout"]


def test_local_gateway_routes_and_stage_are_the_template_ones() -> None:
    routes = template_routes()
    assert set(gateway.ROUTE_KEYS) == {r for r in routes if not r.startswith("$")}
    assert set(ROUTES) == routes
    assert document()["Resources"]["WebSocketApi"]["Properties"]["StageName"] == gateway.STAGE
    assert functions()["WsFunction"]["Timeout"] <= gateway.ROUTE_TIMEOUT_SECONDS


@pytest.mark.parametrize("function", ["StreamFunction", "ApiFunction", "WorkerFunction"])
def test_the_local_stack_offloads_large_state_as_the_deployed_functions_do(
    function: str, aws_endpoint: str
) -> None:
    deployed = Settings.from_env(resolved_environment(function, {}))
    local = with_local_bucket(Settings())  # `make dev`: no bucket configured, S3 is moto's

    for settings in (deployed, local):
        saver = default_checkpointer(settings)
        store = AppStore.from_settings(settings)
        assert isinstance(saver, AsyncDynamoDBSaver)
        assert saver.bucket and store.bucket == saver.bucket == settings.checkpoint_bucket
        assert saver.offload_threshold_bytes == schema.RUN_KWARGS_INLINE_BYTES
    assert deployed.checkpoint_bucket == "lg-CheckpointsBucket"
    assert local.checkpoint_bucket == LOCAL_CHECKPOINT_BUCKET
    assert deployed.max_body_bytes == local.max_body_bytes == 6 * 1024 * 1024
