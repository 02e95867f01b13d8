"""Create the tables declared in ``template.yaml`` on any DynamoDB endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lambdagraph_client.local.template import table_definitions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_CREATE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
)


def create_table_request(properties: Mapping[str, Any], table_name: str) -> dict[str, Any]:
    """Translate a CloudFormation table's properties into a ``CreateTable`` request."""
    # Only the keys that shape data; encryption and PITR settings matter in the cloud alone
    # (and CloudFormation spells SSESpecification differently from the CreateTable API).
    request = {key: properties[key] for key in _CREATE_KEYS if key in properties}
    request["TableName"] = table_name
    return request


def ensure_tables(client: DynamoDBClient, names: Mapping[str, str]) -> list[str]:
    """Create each template table under the given name unless it already exists.

    Args:
        client: a boto3 DynamoDB client for the target endpoint.
        names: logical id in the template (``AppTable``) → table name to create.

    Returns:
        The names of the tables that were created (existing ones are left alone).
    """
    definitions = table_definitions()
    # ListTables pages at 100 names: a long test session holds more tables than that.
    pages = client.get_paginator("list_tables").paginate()
    existing = {name for page in pages for name in page["TableNames"]}
    created = []
    for logical_id, table_name in names.items():
        if table_name in existing:
            continue
        properties = definitions[logical_id]
        client.create_table(**create_table_request(properties, table_name))
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            client.get_waiter("table_exists").wait(TableName=table_name)
            client.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        created.append(table_name)
    return created
