from __future__ import annotations

import boto3

from lambdagraph_client.local.template import table_definitions
from tests.conftest import Tables


def test_template_declares_both_tables_with_ttl() -> None:
    definitions = table_definitions()
    assert set(definitions) == {"CheckpointsTable", "AppTable"}
    for properties in definitions.values():
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["TimeToLiveSpecification"]["Enabled"] is True


def test_tables_are_created_from_the_template(tables: Tables) -> None:
    client = boto3.client("dynamodb")
    app = client.describe_table(TableName=tables.app)["Table"]
    declared = table_definitions()["AppTable"]
    assert app["KeySchema"] == declared["KeySchema"]
    assert [i["IndexName"] for i in app["GlobalSecondaryIndexes"]] == ["GSI1"]
    ttl = client.describe_time_to_live(TableName=tables.app)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
