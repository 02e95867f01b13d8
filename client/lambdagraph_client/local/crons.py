"""The local stack's cron scheduler: what EventBridge Scheduler does for crons in the cloud.

Every tick it scans the app table for enabled crons whose ``next_run_date`` has come, claims
each fire by moving ``next_run_date`` on with a conditional write (two stacks on one table
never fire a cron twice), and invokes the worker with the same ``cron`` payload a deployed
schedule sends. Its clock is injectable, so a test can make a minute pass at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from lambdagraph.engine.crontab import next_run
from lambdagraph.engine.invoker import CronPayload, Invoker
from lambdagraph.settings import Settings
from lambdagraph.store import schema
from lambdagraph.store.crons import Cron, CronStore, cron_from_item
from lambdagraph.store.dynamo import call, get_s, s
from lambdagraph.wiring import LocalApps

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


async def due(store: CronStore, now: str) -> list[tuple[str, Cron]]:
    """``(owner, cron)`` of every enabled cron due at ``now`` (ISO 8601, UTC).

    A Scan, which only this scheduler makes: a local table is small, and in the cloud
    EventBridge Scheduler fires each cron (the deployed functions may not scan).
    """
    values = {":prefix": s(schema.CRON_PK_PREFIX), ":true": {"BOOL": True}, ":now": s(now)}
    request: dict[str, Any] = {
        "TableName": store.table_name,
        "FilterExpression": schema.CRON_DUE,
        "ConsistentRead": True,
        **schema.expression_attributes(schema.CRON_DUE, values=values),
    }
    found: list[tuple[str, Cron]] = []
    while True:
        out = await call(store.client.scan, **request)
        for item in out.get("Items", []):
            found.append((get_s(item, "owner") or "", cron_from_item(item)))
        if "LastEvaluatedKey" not in out:
            return found
        request["ExclusiveStartKey"] = out["LastEvaluatedKey"]


class LocalCronScheduler:
    """Fires due crons through the worker invoker.

    Args:
        store: the cron items.
        invoker: the local worker invoker (runs the worker handler in this process).
        interval: seconds between ticks.
        clock: now, in UTC.
    """

    def __init__(
        self,
        store: CronStore,
        invoker: Invoker,
        *,
        interval: float = 1.0,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.invoker = invoker
        self.interval = interval
        self.clock = clock

    async def tick(self) -> int:
        """Fire every cron due now; returns how many this scheduler fired."""
        now = self.clock()
        fired = 0
        for owner, cron in await due(self.store, now.astimezone(UTC).isoformat()):
            seen = cron["next_run_date"]
            if seen is None or (
                cron["end_time"] and datetime.fromisoformat(cron["end_time"]) < now
            ):
                continue  # past its end time: never again (Scheduler's EndDate in the cloud)
            following = next_run(cron["schedule"], now, cron["timezone"]).isoformat()
            if not await self.store.move_next_run(
                cron["cron_id"], schema.CRON_NEXT_IS, seen, following
            ):
                continue  # another scheduler fired it, or it was deleted meanwhile
            await self.invoker.invoke(
                CronPayload(kind="cron", owner=owner, cron_id=cron["cron_id"])
            )
            fired += 1
        return fired

    async def run(self) -> None:
        """Tick until cancelled; a failed tick is logged and the next one tries again.

        Ticks fall on multiples of ``interval`` on the wall clock: with the default minute
        (a crontab's resolution) each one comes just after a minute starts, when crons fall
        due. Each tick scans the table, so ticking more often only costs the stack's CPU.
        """
        while True:
            try:
                await self.tick()
            except Exception:
                logger.exception("cron scheduler tick failed")
            await asyncio.sleep(self.interval - time.time() % self.interval)


class WithCronScheduler:
    """ASGI wrapper running a :class:`LocalCronScheduler` for as long as the app's lifespan.

    Args:
        app: the local stack's ASGI app.
        scheduler: the scheduler to run.
    """

    def __init__(self, app: Any, scheduler: LocalCronScheduler) -> None:
        self.app = app
        self.scheduler = scheduler

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        task = asyncio.get_running_loop().create_task(self.scheduler.run(), name="local-crons")
        try:
            await self.app(scope, receive, send)
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


def with_cron_scheduler(app: Any, apps: LocalApps, settings: Settings, clock: Clock | None) -> Any:
    """``app`` running the local cron scheduler over ``apps``' table and worker invoker."""
    context = apps.http.state.context
    invoker = context.runs.durable.invoker
    if invoker is None:
        return app  # no worker: crons could not run anyway
    scheduler = LocalCronScheduler(
        CronStore(context.store.table_name, client=context.store.client),
        invoker,
        interval=settings.local_cron_tick_seconds,
        clock=clock or (lambda: datetime.now(UTC)),
    )
    return WithCronScheduler(app, scheduler)


__all__ = ["Clock", "LocalCronScheduler", "WithCronScheduler", "with_cron_scheduler"]
