"""The exact conditional writes behind starting a run (botocore Stubber, no server)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lambdagraph.errors import ThreadBusy, ThreadNotFound
from lambdagraph.store.app import AppStore
from lambdagraph.store.schema import THREAD_IDLE


@pytest.fixture
def stubbed() -> tuple[AppStore, Stubber]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return AppStore("app", client=client), Stubber(client)


def start_request() -> dict[str, Any]:
    return {
        "TransactItems": [
            {
                "Update": {
                    "TableName": "app",
                    "Key": {"PK": {"S": "THREAD#t1"}, "SK": {"S": "THREAD"}},
                    "UpdateExpression": (
                        "SET active_run_id = :run_id, #status = :busy, updated_at = :now, "
                        "stamp_graph_id = :graph, stamp_assistant_id = :assistant"
                    ),
                    "ConditionExpression": THREAD_IDLE,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    "ExpressionAttributeNames": {
                        "#status": "status",
                        "#queue": "queue",
                        "#owner": "owner",
                    },
                    "ExpressionAttributeValues": {
                        ":owner": {"S": "alice"},
                        ":zero": {"N": "0"},
                        ":run_id": ANY,
                        ":busy": {"S": "busy"},
                        ":now": ANY,
                        # the thread's metadata shows the run's graph and assistant
                        ":graph": {"S": "agent"},
                        ":assistant": ANY,
                    },
                }
            },
            {
                "Put": {
                    "TableName": "app",
                    "Item": ANY,
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
    }


async def test_start_is_one_transaction_conditioned_on_owner_and_idle(
    stubbed: tuple[AppStore, Stubber],
) -> None:
    store, stubber = stubbed
    stubber.add_response("transact_write_items", {}, start_request())
    with stubber:
        run = await store.create_run("alice", thread_id="t1", assistant_id="agent", kwargs={})
    stubber.assert_no_pending_responses()
    assert run["status"] == "running"


def add_cancellation(stubber: Stubber, old_item: dict[str, Any] | None) -> None:
    reason: dict[str, Any] = {"Code": "ConditionalCheckFailed"}
    if old_item is not None:
        reason["Item"] = old_item
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
        expected_params=start_request(),
        modeled_fields={"CancellationReasons": [reason, {"Code": "None"}]},
    )


async def test_foreign_or_missing_thread_is_not_found(stubbed: tuple[AppStore, Stubber]) -> None:
    store, stubber = stubbed
    add_cancellation(stubber, None)
    add_cancellation(stubber, {"owner": {"S": "bob"}, "active_run_id": {"S": "r0"}})
    with stubber:
        for _ in range(2):
            with pytest.raises(ThreadNotFound):
                await store.create_run("alice", thread_id="t1", assistant_id="agent", kwargs={})


async def test_busy_thread_with_reject_costs_one_request(stubbed: tuple[AppStore, Stubber]) -> None:
    store, stubber = stubbed
    add_cancellation(stubber, {"owner": {"S": "alice"}, "active_run_id": {"S": "r0"}})
    with stubber, pytest.raises(ThreadBusy):
        await store.create_run(
            "alice", thread_id="t1", assistant_id="agent", kwargs={},
            multitask_strategy="reject",
        )
    stubber.assert_no_pending_responses()
