"""Per-user limits that protect the account bill, as DynamoDB conditional writes.

Both hold across Lambda instances because DynamoDB decides them (keys in
:mod:`lambdagraph.store.schema`, the "per-user limits" block):

* **Active runs** (``max_active_runs``): a run is active from the write that records it
  until the write that finishes it, pending (queued) runs included: a queued run starts by
  itself when its thread frees, so admitting it admits its cost. The entry is added inside
  the run's own create transaction (:meth:`UserLimits.run_ops`), with the condition that the
  user's set is below the limit, and deleted inside the transaction that finishes the run.
  An entry whose run ended without that write (its process was killed, its thread erased)
  is dropped when the limit next refuses the user: the run service recovers dead runs then
  and tries once more (``RunService.create``).
* **Requests per minute** (``requests_per_minute``): one ``ADD`` on the user's counter for
  the current minute, conditioned below the limit. A request that records a run counts
  inside the run's create transaction, so the first token waits for no extra write; any
  other request awaits :meth:`UserLimits.count_request` (one single-item update).

A limit of 0 turns it off and costs nothing: no operation is added anywhere.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from lambdagraph.errors import ActiveRunLimit, RateLimited
from lambdagraph.store import schema
from lambdagraph.store.dynamo import call, error_code, n, translate_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

WINDOW_SECONDS: Final = 60
ACTIVE_RUNS_RETRY_AFTER: Final = 5
"""Seconds a client refused for its active runs is told to wait: a run ends at any time."""
_COUNTER_KEEP_SECONDS: Final = 2 * WINDOW_SECONDS
_CONFLICT_RETRIES: Final = 3
_FAILED: Final = "ConditionalCheckFailed"

RunRef = tuple[str, str]
"""``(thread_id, run_id)`` of an active run."""


def wall_clock() -> float:
    """Seconds since the epoch: where the request windows' minutes come from."""
    return time.time()


class UserLimits:
    """The per-user limits over the app table.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client.
        max_active_runs: active (pending or running) runs a user may have; 0: no limit.
        requests_per_minute: requests a user may make per clock minute; 0: no limit.
        clock: seconds since the epoch; default :func:`wall_clock` (tests move it across
            minute windows).

    Example:
        >>> limits = UserLimits("app", client=dynamodb, requests_per_minute=600)
        >>> await limits.count_request("alice")   # RateLimited (429) past 600 this minute
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient,
        max_active_runs: int = 0,
        requests_per_minute: int = 0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.max_active_runs = max_active_runs
        self.requests_per_minute = requests_per_minute
        self.clock = clock or wall_clock

    # --- requests per minute ---------------------------------------------------------

    async def count_request(self, owner: str) -> None:
        """Count one request of ``owner`` (one conditional update; nothing when off).

        Raises:
            RateLimited: the user made ``requests_per_minute`` requests this minute already;
                ``retry_after`` is the seconds to the next minute.
        """
        update = self._request_update(owner)
        if update is not None:
            await self._update(update, refused=self.requests_refused)

    def requests_refused(self) -> RateLimited:
        """The error for a user over the request limit: retry at the next minute."""
        now = self.clock()
        wait = math.ceil((math.floor(now / WINDOW_SECONDS) + 1) * WINDOW_SECONDS - now)
        return RateLimited(
            f"More than {self.requests_per_minute} requests this minute; retry in {wait} s",
            retry_after=wait,
        )

    def _request_update(self, owner: str) -> dict[str, Any] | None:
        if not self.requests_per_minute:
            return None
        minute = math.floor(self.clock() / WINDOW_SECONDS)
        values = {
            ":one": n(1),
            ":limit": n(self.requests_per_minute),
            ":ttl": n((minute + 1) * WINDOW_SECONDS + _COUNTER_KEEP_SECONDS),
        }
        return {
            "TableName": self.table_name,
            "Key": schema.requests_key(owner, minute),
            "UpdateExpression": schema.COUNT_REQUEST,
            "ConditionExpression": schema.REQUESTS_BELOW,
            **schema.expression_attributes(
                schema.COUNT_REQUEST, schema.REQUESTS_BELOW, values=values
            ),
        }

    # --- active runs -----------------------------------------------------------------

    def run_ops(self, owner: str, ref: RunRef, *, cancels: int = 0) -> list[dict[str, Any]]:
        """Transaction operations that admit a new run: its active entry, its request count.

        Append them after the create's own operations and pass the cancellation reasons
        from that point to :meth:`raise_if_refused`.

        Args:
            owner: the run's owner.
            ref: the run.
            cancels: active runs of the user that the same transaction cancels
                (``multitask_strategy`` interrupt/rollback): they still hold their entries
                for a moment, so they do not count against the new run.
        """
        ops: list[dict[str, Any]] = []
        if self.max_active_runs:
            values = {
                ":entries": {"SS": [schema.active_run_entry(*ref)]},
                ":limit": n(self.max_active_runs + cancels),
            }
            ops.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": schema.active_runs_key(owner),
                        "UpdateExpression": schema.CLAIM_ACTIVE_RUN,
                        "ConditionExpression": schema.ACTIVE_RUNS_BELOW,
                        **schema.expression_attributes(
                            schema.CLAIM_ACTIVE_RUN, schema.ACTIVE_RUNS_BELOW, values=values
                        ),
                    }
                }
            )
        request = self._request_update(owner)
        if request is not None:
            ops.append({"Update": request})
        return ops

    def raise_if_refused(self, reasons: Sequence[Mapping[str, Any]]) -> None:
        """Raise the limit a failed create transaction hit, if any.

        Args:
            reasons: the cancellation reasons of the operations :meth:`run_ops` returned.

        Raises:
            RateLimited: the request counter was full (checked first: retrying sooner
                cannot help).
            ActiveRunLimit: the user's active runs were at the limit.
        """
        codes = iter(r.get("Code") for r in reasons)
        active_failed = bool(self.max_active_runs) and next(codes, None) == _FAILED
        requests_failed = bool(self.requests_per_minute) and next(codes, None) == _FAILED
        if requests_failed:
            raise self.requests_refused()
        if active_failed:
            raise ActiveRunLimit(self.max_active_runs, retry_after=ACTIVE_RUNS_RETRY_AFTER)

    def release_op(self, owner: str, refs: Iterable[RunRef]) -> dict[str, Any] | None:
        """A transaction operation that frees the entries of ended runs (None when off)."""
        update = self._release_update(owner, refs)
        return None if update is None else {"Update": update}

    async def release(self, owner: str, refs: Iterable[RunRef]) -> None:
        """Free the entries of ended runs now (deleting one that is not there is a no-op)."""
        update = self._release_update(owner, refs)
        if update is not None:
            await self._update(update)

    async def active(self, owner: str) -> list[RunRef]:
        """The runs holding the user's active entries (a consistent read)."""
        with translate_errors():
            out = await call(
                self.client.get_item,
                TableName=self.table_name,
                Key=schema.active_runs_key(owner),
                ConsistentRead=True,
            )
        entries = out.get("Item", {}).get(schema.ACTIVE_RUNS_ATTRIBUTE, {}).get("SS", [])
        return [schema.parse_active_run_entry(entry) for entry in sorted(entries)]

    def _release_update(self, owner: str, refs: Iterable[RunRef]) -> dict[str, Any] | None:
        entries = sorted({schema.active_run_entry(*ref) for ref in refs})
        if not self.max_active_runs or not entries:
            return None
        return {
            "TableName": self.table_name,
            "Key": schema.active_runs_key(owner),
            "UpdateExpression": schema.RELEASE_ACTIVE_RUNS,
            **schema.expression_attributes(
                schema.RELEASE_ACTIVE_RUNS, values={":entries": {"SS": entries}}
            ),
        }


    async def _update(
        self, update: Mapping[str, Any], *, refused: Callable[[], RateLimited] | None = None
    ) -> None:
        """One single-item update, retried when a create transaction holds the item."""
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                await call(self.client.update_item, **update)
                return
            except ClientError as exc:
                code = error_code(exc)
                if code == "ConditionalCheckFailedException" and refused is not None:
                    raise refused() from None
                if code != "TransactionConflictException" or attempt == _CONFLICT_RETRIES:
                    with translate_errors():
                        raise
            await asyncio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))


__all__ = ["ACTIVE_RUNS_RETRY_AFTER", "WINDOW_SECONDS", "RunRef", "UserLimits", "wall_clock"]
