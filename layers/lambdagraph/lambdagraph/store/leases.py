"""Worker leases: which attempt of a durable run may execute it, and whether it is alive.

A run handed to a worker gets a lease item (attempt 0). Each invocation that executes the run
claims the next attempt with one conditional write (``attempt = n - 1`` → ``n``), so a
retried or duplicated async invocation finds its attempt taken and does nothing. The holder
renews ``lease_until`` while it works; a lease left to expire means the holder died.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from botocore.exceptions import ClientError

from lambdagraph import aws
from lambdagraph.store.dynamo import error_code, translate_errors
from lambdagraph.store.schema import (
    CLAIM_ATTEMPT,
    LEASE_HELD,
    LEASE_STALE,
    RESERVE_LEASE,
    TTL_ATTRIBUTE,
    worker_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

_LEASE_ITEM_TTL = 7 * 86_400


class Lease(TypedDict):
    """A run's lease item; ``usage`` carries the totals and AWS use of the attempts that
    handed over (``UsageTracker.snapshot``)."""

    attempt: int
    holder: str
    lease_until: float
    usage: dict[str, Any] | None


class RunLeases:
    """Claims, renews and inspects worker leases in the app table.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client; one is built when omitted.
        lease_seconds: how long a claim or renewal holds the run.
    """

    def __init__(
        self, table_name: str, *, client: DynamoDBClient | None = None, lease_seconds: float = 30.0
    ) -> None:
        self.table_name = table_name
        self.client = client if client is not None else aws.client("dynamodb")
        self.lease_seconds = lease_seconds

    async def reserve(self, run_id: str, *, hold: float | None = None) -> bool:
        """Create the lease at attempt 0 (the run awaits its first worker); False if it exists.

        The reservation expires like a lease (after ``hold`` seconds, default
        ``lease_seconds``), so a run whose worker never starts is found stale too.
        """
        put = reserve_put(self.table_name, run_id, hold or self.lease_seconds)["Put"]
        return await self._conditional(self.client.put_item, **put)

    async def claim(self, run_id: str, attempt: int, holder: str) -> bool:
        """Take attempt ``attempt`` (from ``attempt - 1``); False if another invocation has it."""
        return await self._update(
            run_id,
            "SET attempt = :attempt, holder = :holder, lease_until = :until",
            CLAIM_ATTEMPT,
            {
                ":attempt": {"N": str(attempt)},
                ":previous": {"N": str(attempt - 1)},
                ":holder": {"S": holder},
                ":until": {"N": _num(time.time() + self.lease_seconds)},
            },
        )

    async def renew(
        self,
        run_id: str,
        attempt: int,
        *,
        hold: float | None = None,
        usage: Mapping[str, Any] | None = None,
    ) -> bool:
        """Extend the lease of ``attempt`` by ``hold`` seconds (default ``lease_seconds``).

        Args:
            run_id: the run.
            attempt: the caller's attempt.
            hold: seconds from now.
            usage: token counts so far, recorded for the next attempt (at a hand-over).

        Returns:
            False if the attempt no longer holds the run.
        """
        until = time.time() + (hold or self.lease_seconds)
        values = {":attempt": {"N": str(attempt)}, ":until": {"N": _num(until)}}
        update = "SET lease_until = :until"
        if usage is not None:
            update += ", usage_json = :usage"
            values[":usage"] = {"S": json.dumps(usage)}
        return await self._update(run_id, update, LEASE_HELD, values)

    async def take_over_stale(self, run_id: str, lease: Lease, holder: str) -> bool:
        """Claim the next attempt from a holder whose lease ran out; False if it is alive.

        The caller then owns the run (to record it failed): the dead holder, if it was only
        slow, fails its next renewal and stops.
        """
        return await self._update(
            run_id,
            "SET attempt = :next, holder = :holder, lease_until = :until",
            LEASE_STALE,
            {
                ":attempt": {"N": str(lease["attempt"])},
                ":next": {"N": str(lease["attempt"] + 1)},
                ":now": {"N": _num(time.time())},
                ":holder": {"S": holder},
                ":until": {"N": _num(time.time() + self.lease_seconds)},
            },
        )

    async def get(self, run_id: str) -> Lease | None:
        """The run's lease (consistent read), or ``None`` if it was never handed to a worker."""
        with translate_errors():
            response = await asyncio.to_thread(
                self.client.get_item,
                TableName=self.table_name,
                Key=worker_key(run_id),
                ConsistentRead=True,
            )
        item = response.get("Item")
        if item is None:
            return None
        usage = json.loads(item["usage_json"]["S"]) if "usage_json" in item else None
        return Lease(
            attempt=int(item["attempt"]["N"]),
            holder=item["holder"]["S"],
            lease_until=float(item["lease_until"]["N"]),
            usage=usage,
        )

    async def _update(
        self, run_id: str, update: str, condition: str, values: dict[str, Any]
    ) -> bool:
        return await self._conditional(
            self.client.update_item,
            TableName=self.table_name,
            Key=worker_key(run_id),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )

    async def _conditional(self, method: Any, **request: Any) -> bool:
        with translate_errors():
            try:
                await asyncio.to_thread(method, **request)
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return True


def reserve_put(table_name: str, run_id: str, hold: float) -> dict[str, Any]:
    """The transaction operation that creates a run's lease at attempt 0 for ``hold``
    seconds (:meth:`RunLeases.reserve` as one write of a run's create transaction)."""
    now = time.time()
    item = {
        **worker_key(run_id),
        "attempt": {"N": "0"},
        "holder": {"S": "reserved"},
        "lease_until": {"N": _num(now + hold)},
        TTL_ATTRIBUTE: {"N": str(int(now) + _LEASE_ITEM_TTL)},
    }
    return {"Put": {"TableName": table_name, "Item": item, "ConditionExpression": RESERVE_LEASE}}


def _num(value: float) -> str:
    return f"{value:.3f}"
