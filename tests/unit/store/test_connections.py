"""The subscribe write is the no-loss contract: it must only land on an active run."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from lambdagraph.store import schema
from lambdagraph.store.connections import ConnectionStore, RunRef

REF = RunRef("r1", "alice", "t1")


def stubbed() -> tuple[ConnectionStore, Stubber]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return ConnectionStore("app", client=client), Stubber(client)


def expected_subscribe() -> dict[str, object]:
    return {
        "TableName": "app",
        "Key": schema.run_key("t1", "r1"),
        "UpdateExpression": "ADD ws_subscribers :entries",
        "ConditionExpression": (
            "attribute_exists(PK) AND #owner = :owner AND #status IN (:pending, :running)"
        ),
        "ExpressionAttributeNames": {"#owner": "owner", "#status": "status"},
        "ExpressionAttributeValues": {
            ":entries": {"SS": ["conn=#41"]},
            ":owner": {"S": "alice"},
            ":pending": {"S": "pending"},
            ":running": {"S": "running"},
        },
    }


async def test_subscribe_is_conditional_on_an_active_owned_run() -> None:
    store, stub = stubbed()
    stub.add_response("update_item", {}, expected_subscribe())
    with stub:
        assert await store.subscribe(REF, "conn=", 41) is True
    stub.assert_no_pending_responses()


async def test_subscribe_to_a_finished_run_says_so() -> None:
    store, stub = stubbed()
    stub.add_client_error(
        "update_item", "ConditionalCheckFailedException", expected_params=expected_subscribe()
    )
    with stub:
        assert await store.subscribe(REF, "conn=", 41) is False


def test_subscriber_entries_round_trip() -> None:
    entry = schema.subscriber_entry("a+b/c=", -1)
    assert schema.parse_subscriber_entry(entry) == ("a+b/c=", -1)
