"""The exact writes behind the per-user limits (botocore Stubber, no server)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lambdagraph.errors import ActiveRunLimit, RateLimited
from lambdagraph.store.app import AppStore
from tests.unit.store.test_app import start_request

NOW = 1_800_000_030.0  # 30 s into minute 30_000_000


def limited_store() -> tuple[AppStore, Stubber]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    store = AppStore("app", client=client, max_active_runs=2, requests_per_minute=10)
    store.limits.clock = lambda: NOW
    return store, Stubber(client)


ACTIVE_OP = {
    "Update": {
        "TableName": "app",
        "Key": {"PK": {"S": "USER#alice"}, "SK": {"S": "ACTIVE"}},
        "UpdateExpression": "ADD active_runs :entries",
        "ConditionExpression": (
            "attribute_not_exists(active_runs) OR size(active_runs) < :limit"
        ),
        "ExpressionAttributeValues": {":entries": ANY, ":limit": {"N": "2"}},
    }
}
REQUEST_UPDATE: dict[str, Any] = {
    "TableName": "app",
    "Key": {"PK": {"S": "USER#alice"}, "SK": {"S": "RPM#30000000"}},
    "UpdateExpression": "ADD requests :one SET expires_at = :ttl",
    "ConditionExpression": "attribute_not_exists(requests) OR requests < :limit",
    "ExpressionAttributeValues": {
        ":one": {"N": "1"},
        ":limit": {"N": "10"},
        ":ttl": {"N": str(30_000_001 * 60 + 120)},
    },
}


def limited_start_request() -> dict[str, Any]:
    request = start_request()
    request["TransactItems"] += [ACTIVE_OP, {"Update": REQUEST_UPDATE}]
    return request


async def test_a_run_is_admitted_inside_its_own_create_transaction() -> None:
    store, stubber = limited_store()
    stubber.add_response("transact_write_items", {}, limited_start_request())
    with stubber:
        await store.create_run("alice", thread_id="t1", assistant_id="agent", kwargs={})
    stubber.assert_no_pending_responses()  # one request: no write before the run starts


@pytest.mark.parametrize(
    ("failed", "error"), [(2, ActiveRunLimit), (3, RateLimited)], ids=["active", "requests"]
)
async def test_a_refused_limit_is_told_apart_by_its_cancellation_reason(
    failed: int, error: type[Exception]
) -> None:
    store, stubber = limited_store()
    reasons: list[dict[str, Any]] = [{"Code": "None"} for _ in range(4)]
    reasons[failed] = {"Code": "ConditionalCheckFailed"}
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
        expected_params=limited_start_request(),
        modeled_fields={"CancellationReasons": reasons},
    )
    with stubber, pytest.raises(error) as refused:
        await store.create_run("alice", thread_id="t1", assistant_id="agent", kwargs={})
    assert isinstance(refused.value, ActiveRunLimit) == (error is ActiveRunLimit)
    if error is RateLimited:
        assert refused.value.retry_after == 30  # type: ignore[attr-defined]


async def test_another_request_is_one_conditional_update() -> None:
    store, stubber = limited_store()
    stubber.add_response("update_item", {}, REQUEST_UPDATE)
    with stubber:
        await store.limits.count_request("alice")
    stubber.assert_no_pending_responses()
