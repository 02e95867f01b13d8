"""EventBridge Scheduler schedules of crons, on moto's Scheduler."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from lambdagraph.engine.schedules import EventBridgeSchedules
from lambdagraph.errors import InvalidInput, Unavailable
from lambdagraph.store.crons import Cron

WORKER = "arn:aws:lambda:us-east-1:123456789012:function:stack-worker"
ROLE = "arn:aws:iam::123456789012:role/cron-scheduler"


@pytest.fixture
def scheduler() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("scheduler", region_name="us-east-1")
        client.create_schedule_group(Name="stack-crons")
        yield client


def _cron(**changes: Any) -> Cron:
    cron: Cron = {
        "cron_id": "1f0c6c36-52bb-4a6e-9d4c-8c2f0e8b7a11",
        "assistant_id": "a",
        "thread_id": None,
        "user_id": "alice",
        "schedule": "0 9 * * 1-5",
        "timezone": "Europe/Paris",
        "end_time": None,
        "payload": {},
        "metadata": {},
        "on_run_completed": "delete",
        "enabled": True,
        "next_run_date": None,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
    }
    return {**cron, **changes}  # type: ignore[typeddict-item]


async def test_a_cron_becomes_one_schedule_invoking_the_worker_and_goes_with_it(
    scheduler: Any,
) -> None:
    schedules = EventBridgeSchedules("stack-crons", WORKER, ROLE, client=scheduler)
    cron = _cron()
    await schedules.put("alice", cron, new=True)
    found = scheduler.get_schedule(Name=cron["cron_id"], GroupName="stack-crons")
    assert found["ScheduleExpression"] == "cron(0 9 ? * MON-FRI *)"
    assert found["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert found["State"] == "ENABLED"
    assert found["Target"]["Arn"] == WORKER and found["Target"]["RoleArn"] == ROLE
    assert json.loads(found["Target"]["Input"]) == {
        "kind": "cron",
        "owner": "alice",
        "cron_id": cron["cron_id"],
    }

    await schedules.put("alice", _cron(schedule="@hourly", enabled=False), new=False)
    found = scheduler.get_schedule(Name=cron["cron_id"], GroupName="stack-crons")
    assert (found["ScheduleExpression"], found["State"]) == ("cron(0 * * * ? *)", "DISABLED")

    await schedules.delete(cron["cron_id"])
    await schedules.delete(cron["cron_id"])  # already gone: nothing to do
    assert scheduler.list_schedules(GroupName="stack-crons")["Schedules"] == []


class Refusing:
    """A scheduler client whose CreateSchedule fails with ``code``."""

    def __init__(self, code: str) -> None:
        self.code = code

    def create_schedule(self, **request: Any) -> None:
        raise ClientError({"Error": {"Code": self.code, "Message": "EndDate is past"}}, "Create")


@pytest.mark.parametrize(
    ("code", "error"), [("ValidationException", InvalidInput), ("ThrottlingException", Unavailable)]
)
async def test_a_refused_schedule_is_a_clear_error_not_a_fault(
    code: str, error: type[Exception]
) -> None:
    schedules = EventBridgeSchedules("stack-crons", WORKER, ROLE, client=Refusing(code))
    with pytest.raises(error):
        await schedules.put("alice", _cron(), new=True)
