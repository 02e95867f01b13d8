"""The local stack takes its tables, timeouts and WebSocket routes from template.yaml."""

from __future__ import annotations

import boto3
import pytest

from lambdagraph.ws.routes import ROUTES
from lambdagraph_client.local import gateway
from lambdagraph_client.local.invoker import LocalInvoker
from lambdagraph_client.local.template import function_timeout, table_definitions
from tests.conftest import Tables
from tests.deploy.template import document, functions, globals_function


def template_routes() -> set[str]:
    return set(document()["Resources"]["WebSocketApi"]["Properties"]["Routes"])


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
