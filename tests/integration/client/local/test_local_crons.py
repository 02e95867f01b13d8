"""The local stack's cron scheduler on moto: due crons fire once, whoever else is ticking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lambdagraph.engine.invoker import WorkerPayload
from lambdagraph.store.crons import Cron, CronStore
from lambdagraph_client.local.crons import LocalCronScheduler
from tests.conftest import Tables

START = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


class Recorder:
    """An invoker that records what it was handed."""

    def __init__(self) -> None:
        self.payloads: list[WorkerPayload] = []

    async def invoke(self, payload: WorkerPayload) -> None:
        self.payloads.append(payload)


def _cron(cron_id: str, *, enabled: bool = True, next_run: datetime) -> Cron:
    return {
        "cron_id": cron_id,
        "assistant_id": "a",
        "thread_id": None,
        "user_id": "alice",
        "schedule": "* * * * *",
        "timezone": None,
        "end_time": None,
        "payload": {},
        "metadata": {},
        "on_run_completed": "delete",
        "enabled": enabled,
        "next_run_date": next_run.isoformat(),
        "created_at": START.isoformat(),
        "updated_at": START.isoformat(),
    }


async def test_due_crons_fire_once_across_two_schedulers_and_move_to_their_next_minute(
    tables: Tables,
) -> None:
    store = CronStore(tables.app)
    minute = START.replace(second=0) + timedelta(minutes=1)
    await store.create("alice", _cron("due", next_run=minute))
    await store.create("alice", _cron("off", enabled=False, next_run=minute))
    await store.create("bob", _cron("later", next_run=minute + timedelta(minutes=5)))
    ended = {
        **_cron("ended", next_run=minute),
        "end_time": (minute - timedelta(hours=1)).isoformat(),
    }
    await store.create("alice", ended)  # type: ignore[arg-type]
    now = [START]
    first, second = Recorder(), Recorder()
    schedulers = [LocalCronScheduler(store, r, clock=lambda: now[0]) for r in (first, second)]

    assert [await s.tick() for s in schedulers] == [0, 0]  # nothing is due yet
    now[0] = minute + timedelta(seconds=2)
    assert [await s.tick() for s in schedulers] == [1, 0]  # the second finds it claimed
    assert first.payloads == [{"kind": "cron", "owner": "alice", "cron_id": "due"}]
    assert second.payloads == []
    moved = await store.get("alice", "due")
    assert moved["next_run_date"] == (minute + timedelta(minutes=1)).isoformat()
    assert await schedulers[1].tick() == 0  # not again within the same minute
