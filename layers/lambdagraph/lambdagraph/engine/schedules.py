"""What fires crons: one EventBridge Scheduler schedule per cron in the cloud, the table locally.

:class:`EventBridgeSchedules` creates, updates and deletes a cron's schedule as the cron
changes; the schedule invokes the worker with ``{"kind": "cron", "owner", "cron_id"}``
(``engine.crons.fire``). On the local stack (:class:`TableSchedules`) there is nothing to
tell: its scheduler reads due crons from the table.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

from lambdagraph import aws
from lambdagraph.engine import crontab
from lambdagraph.errors import ConfigurationError, InvalidInput, Unavailable
from lambdagraph.protocol.sse import dumps
from lambdagraph.settings import Settings
from lambdagraph.store.crons import Cron

logger = logging.getLogger(__name__)


class Schedules(Protocol):
    """What fires crons: told of every cron created, changed or deleted."""

    async def put(self, owner: str, cron: Cron, *, new: bool) -> None:
        """Make ``cron`` fire on its schedule (``new``: it had no schedule yet)."""
        ...

    async def delete(self, cron_id: str) -> None:
        """Stop firing the cron (it may already have no schedule)."""
        ...


class TableSchedules:
    """Nothing to tell: the local stack's scheduler reads due crons from the table."""

    async def put(self, owner: str, cron: Cron, *, new: bool) -> None:
        return None

    async def delete(self, cron_id: str) -> None:
        return None


class EventBridgeSchedules:
    """One EventBridge Scheduler schedule per cron, named by its id, invoking the worker.

    Args:
        group: the schedule group (``LAMBDAGRAPH_CRON_SCHEDULE_GROUP``).
        target_arn: the worker function's ARN.
        role_arn: the role Scheduler assumes to invoke it (``iam:PassRole`` is needed).
        client: a boto3 ``scheduler`` client; one is built when omitted.
    """

    def __init__(
        self, group: str, target_arn: str, role_arn: str, *, client: Any | None = None
    ) -> None:
        self.group = group
        self.target_arn = target_arn
        self.role_arn = role_arn
        self.client = client if client is not None else aws.client("scheduler")

    def request(self, owner: str, cron: Cron) -> dict[str, Any]:
        """The ``CreateSchedule``/``UpdateSchedule`` arguments for ``cron``."""
        target_input = {"kind": "cron", "owner": owner, "cron_id": cron["cron_id"]}
        request: dict[str, Any] = {
            "Name": cron["cron_id"],
            "GroupName": self.group,
            "ScheduleExpression": crontab.to_eventbridge(cron["schedule"]),
            "ScheduleExpressionTimezone": cron["timezone"] or "UTC",
            "State": "ENABLED" if cron["enabled"] else "DISABLED",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": self.target_arn,
                "RoleArn": self.role_arn,
                "Input": dumps(target_input).decode(),
                # A lost fire is better than a duplicate run; the worker invoke is async.
                "RetryPolicy": {"MaximumRetryAttempts": 0},
            },
        }
        if cron["end_time"]:
            request["EndDate"] = datetime.fromisoformat(cron["end_time"])
        return request

    async def put(self, owner: str, cron: Cron, *, new: bool) -> None:
        method = self.client.create_schedule if new else self.client.update_schedule
        try:
            await asyncio.to_thread(method, **self.request(owner, cron))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ValidationException":  # e.g. an end_time already past
                message = exc.response.get("Error", {}).get("Message", "")
                raise InvalidInput(
                    f"EventBridge Scheduler refused the schedule: {message}"
                ) from exc
            logger.exception("EventBridge Scheduler failed on cron %s", cron["cron_id"])
            raise Unavailable("The scheduler is unavailable; retry") from exc

    async def delete(self, cron_id: str) -> None:
        try:
            await asyncio.to_thread(self.client.delete_schedule, Name=cron_id, GroupName=self.group)
        except self.client.exceptions.ResourceNotFoundException:
            return


def schedules_from_settings(settings: Settings) -> Schedules:
    """EventBridge schedules when the settings name a schedule group, else the table's.

    Raises:
        ConfigurationError: a group without the worker's ARN or the scheduler's role.
    """
    if settings.cron_schedule_group:
        if not (settings.cron_target_arn and settings.cron_role_arn):
            raise ConfigurationError(
                "LAMBDAGRAPH_CRON_SCHEDULE_GROUP needs LAMBDAGRAPH_CRON_TARGET_ARN and "
                "LAMBDAGRAPH_CRON_ROLE_ARN"
            )
        return EventBridgeSchedules(
            settings.cron_schedule_group, settings.cron_target_arn, settings.cron_role_arn
        )
    return TableSchedules()


__all__ = ["EventBridgeSchedules", "Schedules", "TableSchedules", "schedules_from_settings"]
