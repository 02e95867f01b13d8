"""DynamoDB capacity units from item sizes, by the documented rounding rules."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from lambdagraph.pricing import aws_meter, dynamo_units
from lambdagraph.pricing.dynamo_units import item_size, read_units, request_units, write_units


def sized(total: int) -> dict[str, Any]:
    """An item of exactly ``total`` bytes: name ``PK`` (2 bytes) plus a string."""
    return {"PK": {"S": "x" * (total - 2)}}


def test_item_sizes_follow_dynamodbs_rules() -> None:
    assert item_size({"a": {"S": "héllo"}}) == 1 + 6  # UTF-8 bytes
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # (digits + 1) // 2 + 1
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 4
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"l": {"L": [{"S": "ab"}, {"S": "c"}]}}) == 1 + 3 + (1 + 2) + (1 + 1)
    assert item_size(sized(1024)) == 1024


@pytest.mark.parametrize(("size", "units"), [(1, 1), (1024, 1), (1025, 2), (3000, 3)])
def test_one_write_unit_per_kilobyte_and_two_in_a_transaction(size: int, units: int) -> None:
    assert write_units(size) == units
    assert write_units(size, transactional=True) == 2 * units


@pytest.mark.parametrize(("size", "units"), [(0, 1), (4096, 1), (4097, 2), (9000, 3)])
def test_one_read_unit_per_4kb_consistent_half_eventual(size: int, units: int) -> None:
    assert read_units(size, consistent=True) == units
    assert read_units(size, consistent=False) == units / 2
    assert read_units(size, consistent=True, transactional=True) == 2 * units


def test_requests_are_counted_by_operation() -> None:
    put = {"Item": sized(2048)}
    assert request_units("PutItem", put, {}) == 2
    get = {"Item": sized(5000)}
    assert request_units("GetItem", {"ConsistentRead": True}, get) == 2
    assert request_units("GetItem", {}, {}) == 0.5  # nothing found: still the minimum
    # A query rounds the sum of its items, not each one.
    query = {"Items": [sized(1000)] * 5}
    assert request_units("Query", {"ConsistentRead": True}, query) == 2
    transaction = {"TransactItems": [{"Put": put}, {"Update": {"Key": sized(100)}}]}
    assert request_units("TransactWriteItems", transaction, {}) == 2 * 2 + 2 * 1
    batch = {"RequestItems": {"t": [{"PutRequest": put}, {"DeleteRequest": {"Key": sized(9)}}]}}
    assert request_units("BatchWriteItem", batch, {}) == 3
    assert dynamo_units.reported_units({"ConsumedCapacity": [{"CapacityUnits": 1.5}]}) == 1.5
    assert dynamo_units.reported_units({}) is None


def test_an_instrumented_client_meters_only_inside_a_run(aws_endpoint: str) -> None:
    client = aws_meter.instrument(boto3.client("dynamodb", endpoint_url=aws_endpoint))
    assert aws_meter.instrument(client) is client
    client.list_tables()
    use = aws_meter.AwsUse()
    with aws_meter.metering(use):
        client.list_tables()
    client.list_tables()
    assert use.dynamodb_requests == 1 and use.dynamodb_write_units == 0


def test_websocket_posts_are_billed_per_32kb() -> None:
    use = aws_meter.AwsUse()
    for size in (10, 32 * 1024, 32 * 1024 + 1):
        use.add_post(size)
    snapshot = use.snapshot()
    assert snapshot["websocket_posts"] == 3 and snapshot["websocket_messages"] == 4


def test_gb_seconds_use_the_functions_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    use = aws_meter.AwsUse()
    use.restore({"lambda_seconds": 2.0})
    assert use.snapshot()["lambda_gb_seconds"] is None
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1536")
    assert use.snapshot()["lambda_gb_seconds"] == 3.0
