"""The embedded DynamoDB keeps DynamoDB's semantics with its speed-ups (``local.dynamo``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from lambdagraph_client.local.dynamo import moto_process
from lambdagraph_client.local.tables import ensure_tables
from tests.conftest import Tables


def _put(table: str, pk: str, sk: str, value: str) -> dict[str, object]:
    return {"Put": {"TableName": table, "Item": {"PK": {"S": pk}, "SK": {"S": sk},
                                                  "v": {"S": value}}}}


def _values(client: object, table: str, pk: str) -> list[tuple[str, str]]:
    items = client.query(  # type: ignore[attr-defined]
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )["Items"]
    return [(item["SK"]["S"], item["v"]["S"]) for item in items]


@pytest.fixture
def app_table(aws_endpoint: str) -> str:
    name = f"app-{uuid.uuid4().hex[:10]}"
    ensure_tables(boto3.client("dynamodb"), {"AppTable": name})
    return name


def test_a_cancelled_transaction_leaves_every_item_as_it_was(app_table: str) -> None:
    client = boto3.client("dynamodb")
    client.transact_write_items(TransactItems=[_put(app_table, "a", "1", "old")])
    client.put_item(TableName=app_table, Item={"PK": {"S": "b"}, "SK": {"S": "1"},
                                               "v": {"S": "other"}})
    failing = [
        _put(app_table, "a", "1", "new"),
        _put(app_table, "a", "2", "created"),
        {"ConditionCheck": {"TableName": app_table, "Key": {"PK": {"S": "b"}, "SK": {"S": "1"}},
                            "ConditionExpression": "attribute_not_exists(PK)"}},
    ]

    with pytest.raises(ClientError) as caught:
        client.transact_write_items(TransactItems=failing)

    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _values(client, app_table, "a") == [("1", "old")]
    assert _values(client, app_table, "b") == [("1", "other")]


def test_a_key_query_returns_its_partition_only_in_sort_key_order(app_table: str) -> None:
    client = boto3.client("dynamodb")
    for pk, sk in (("p", "3"), ("q", "1"), ("p", "1"), ("p", "2"), ("q", "2")):
        client.put_item(TableName=app_table, Item={"PK": {"S": pk}, "SK": {"S": sk},
                                                   "v": {"S": pk + sk}})

    newest_first = client.query(
        TableName=app_table,
        KeyConditionExpression="PK = :pk AND SK > :after",
        ExpressionAttributeValues={":pk": {"S": "p"}, ":after": {"S": "1"}},
        ScanIndexForward=False,
    )["Items"]

    assert _values(client, app_table, "p") == [("1", "p1"), ("2", "p2"), ("3", "p3")]
    assert [item["SK"]["S"] for item in newest_first] == ["3", "2"]
    assert _values(client, app_table, "nobody") == []


def test_the_checkpoint_table_round_trips_through_the_speed_ups(tables: Tables) -> None:
    client = boto3.client("dynamodb")
    key = {"PK": {"S": "thread"}, "SK": {"S": "cp"}}
    description = client.describe_table(TableName=tables.checkpoints)["Table"]["KeySchema"]
    names = {k["KeyType"]: k["AttributeName"] for k in description}
    item = {names["HASH"]: key["PK"], names["RANGE"]: key["SK"], "v": {"S": "x"}}

    client.transact_write_items(TransactItems=[{"Put": {"TableName": tables.checkpoints,
                                                        "Item": item}}])

    got = client.get_item(TableName=tables.checkpoints,
                          Key={names["HASH"]: key["PK"], names["RANGE"]: key["SK"]})
    assert got["Item"]["v"] == {"S": "x"}


def _refuses(endpoint: str) -> bool:
    try:
        httpx.get(endpoint, timeout=2)
    except httpx.TransportError:
        return True
    return False


def test_moto_in_its_own_process_serves_both_services_and_stops_with_the_block(
    aws_endpoint: str,
) -> None:
    name = f"app-{uuid.uuid4().hex[:10]}"
    with moto_process() as endpoint:
        assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == endpoint != aws_endpoint
        dynamodb, s3 = boto3.client("dynamodb"), boto3.client("s3")
        ensure_tables(dynamodb, {"AppTable": name})
        dynamodb.put_item(TableName=name, Item={"PK": {"S": "a"}, "SK": {"S": "1"},
                                                "v": {"S": "x"}})
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="k", Body=b"blob")
        # Both services answer on one host: moto's remembered lookup keeps them apart.
        assert _values(dynamodb, name, "a") == [("1", "x")]
        assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"blob"
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == aws_endpoint
    assert _refuses(endpoint)


_DIES_WITHOUT_CLEANING_UP = """
import os
from lambdagraph_client.local.dynamo import moto_process
with moto_process() as endpoint:
    print(endpoint, flush=True)
    os._exit(0)
"""


def test_moto_in_its_own_process_exits_when_its_parent_dies() -> None:
    parent = subprocess.run(
        [sys.executable, "-c", _DIES_WITHOUT_CLEANING_UP], capture_output=True, text=True,
        timeout=60, check=True,
    )
    endpoint = parent.stdout.strip()
    deadline = time.monotonic() + 20
    while not _refuses(endpoint) and time.monotonic() < deadline:
        time.sleep(0.1)  # polls for the orphan's exit, bounded by the deadline
    assert _refuses(endpoint)
