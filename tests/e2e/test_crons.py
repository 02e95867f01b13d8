"""Crons through the real ``langgraph-sdk`` against the local stack, and a cron firing there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from langgraph_sdk.errors import NotFoundError

from lambdagraph.engine import assistant_id
from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.auth import TokenIsUser
from tests.e2e.conftest import auth, eventually, user_message

AGENT_ID = assistant_id("agent")


def as_cron(answer: Any) -> dict[str, Any]:
    """An SDK cron answer (typed as a run by langgraph-sdk 0.4) as the dict it is."""
    assert isinstance(answer, dict)
    return answer


def test_the_sync_sdk_creates_searches_updates_and_deletes_crons(
    sync_client: SyncLangGraphClient,
) -> None:
    thread = sync_client.threads.create()["thread_id"]
    on_thread = as_cron(
        sync_client.crons.create_for_thread(
            thread, "agent", schedule="0 9 * * 1-5", input=user_message("hi"), metadata={"k": "a"}
        )
    )
    stateless = as_cron(sync_client.crons.create("agent", schedule="@daily", enabled=False))
    assert on_thread["thread_id"] == thread and on_thread["assistant_id"] == AGENT_ID
    assert on_thread["payload"]["config"]["configurable"]["cron_id"] == on_thread["cron_id"]
    assert on_thread["next_run_date"] > datetime.now(UTC).isoformat()
    assert (stateless["thread_id"], stateless["on_run_completed"]) == (None, "delete")

    found = sync_client.crons.search()
    assert [c["cron_id"] for c in found] == [stateless["cron_id"], on_thread["cron_id"]]
    assert [c["cron_id"] for c in sync_client.crons.search(thread_id=thread)] == [
        on_thread["cron_id"]
    ]
    assert [c["cron_id"] for c in sync_client.crons.search(enabled=False)] == [stateless["cron_id"]]
    ascending = sync_client.crons.search(sort_by="created_at", sort_order="asc", select=["cron_id"])
    assert ascending == [{"cron_id": on_thread["cron_id"]}, {"cron_id": stateless["cron_id"]}]
    assert sync_client.crons.count() == 2
    assert sync_client.crons.count(thread_id=thread, metadata={"k": "a"}) == 1

    updated: dict[str, Any] = dict(
        sync_client.crons.update(
            on_thread["cron_id"], schedule="30 7 * * *", enabled=False, metadata={"x": 1}
        )
    )
    assert (updated["schedule"], updated["enabled"]) == ("30 7 * * *", False)
    assert updated["metadata"] == {"k": "a", "x": 1}
    assert updated["payload"]["input"] == user_message("hi")  # kept: a shallow merge
    assert updated["next_run_date"][11:16] == "07:30"
    until = datetime(2030, 1, 1, tzinfo=UTC)
    ending = as_cron(sync_client.crons.update(on_thread["cron_id"], end_time=until))
    assert ending["end_time"] == "2030-01-01T00:00:00+00:00"
    assert (
        as_cron(sync_client.crons.update(on_thread["cron_id"], end_time=None))["end_time"] is None
    )
    # A context replaces the configurable the cron id sits in (a run takes one or the other).
    with_context = as_cron(sync_client.crons.update(on_thread["cron_id"], context={"a": 1}))
    assert with_context["payload"]["context"] == {"a": 1}

    sync_client.crons.delete(on_thread["cron_id"])
    assert sync_client.crons.count() == 1
    with pytest.raises(NotFoundError):
        sync_client.crons.delete(on_thread["cron_id"])


async def test_the_async_sdk_does_the_same_and_bob_sees_none_of_it(
    client: LangGraphClient, stack: LocalStack
) -> None:
    cron = as_cron(
        await client.crons.create("agent", schedule="*/5 * * * *", metadata={"who": "alice"})
    )
    bob = get_client(url=stack.url, headers=auth("bob"))
    assert await bob.crons.search() == []
    assert await bob.crons.count() == 0
    with pytest.raises(NotFoundError):
        await bob.crons.update(cron["cron_id"], enabled=False)
    with pytest.raises(NotFoundError):
        await bob.crons.delete(cron["cron_id"])
    assert [c["cron_id"] for c in await client.crons.search()] == [cron["cron_id"]]
    await client.crons.delete(cron["cron_id"])
    assert await client.crons.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"schedule": "every day"}, 422, "Invalid cron schedule: 'every day'"),
        ({"schedule": "0 0 1 * 1"}, 422, "either matches"),
        ({"schedule": "* * * * *", "timezone": "Mars/Olympus"}, 422, "Invalid timezone"),
        ({"schedule": "* * * * *", "assistant_id": "nope"}, 404, "nope"),
        ({"schedule": "* * * * *", "stream_mode": "tokens"}, 422, "stream_mode"),
        ({"assistant_id": "agent"}, 422, "schedule"),
    ],
)
def test_bad_crons_get_langgraphs_4xx_and_nothing_is_written(
    stack: LocalStack, body: dict[str, object], status: int, detail: str
) -> None:
    with httpx.Client(base_url=stack.url, headers=auth("alice")) as http:
        answer = http.post("/runs/crons", json={"assistant_id": "agent", **body})
        assert answer.status_code == status, answer.text
        assert detail in answer.text
        assert http.post("/runs/crons/count", json={}).json() == 0
        unknown = http.post(
            "/threads/00000000-0000-0000-0000-000000000000/runs/crons",
            json={"assistant_id": "agent", "schedule": "* * * * *"},
        )
        assert unknown.status_code == 404
        cron = http.post("/runs/crons", json={"assistant_id": "agent", "schedule": "@hourly"})
        empty = http.patch(f"/runs/crons/{cron.json()['cron_id']}", json={})
        assert (empty.status_code, empty.json()) == (
            400,
            {"detail": "Request body cannot be empty"},
        )
        bad = http.patch(f"/runs/crons/{cron.json()['cron_id']}", json={"schedule": "0 0 L * *"})
        assert bad.status_code == 422
        assert http.post("/runs/crons/search", json={}).json()[0]["schedule"] == "@hourly"


class Clock:
    """The local scheduler's clock: real time plus what the test lets pass."""

    def __init__(self) -> None:
        self.skipped = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ticking_stack(settings: Settings, clock: Clock) -> Iterator[LocalStack]:
    fast = settings.replace(local_cron_tick_seconds=0.05)
    with running_stack(settings=fast, authenticator=TokenIsUser(), cron_clock=clock) as running:
        yield running


async def test_a_cron_fires_an_ordinary_background_run_each_time_its_minute_comes(
    ticking_stack: LocalStack, clock: Clock
) -> None:
    alice = get_client(url=ticking_stack.url, headers=auth("alice"))
    thread = (await alice.threads.create())["thread_id"]
    cron = as_cron(
        await alice.crons.create_for_thread(
            thread,
            "agent",
            schedule="* * * * *",
            input=user_message("hi"),
            metadata={"from": "cron"},
        )
    )
    sync = get_sync_client(url=ticking_stack.url, headers=auth("alice"))
    assert sync.runs.list(thread) == []  # nothing fires before its minute

    async def runs_on_thread(count: int) -> bool:
        return len(await alice.runs.list(thread)) >= count

    await alice.crons.create(
        "agent", schedule="* * * * *", input=user_message("stateless"), on_run_completed="keep"
    )

    async def kept_threads() -> bool:
        return len(await alice.threads.search(limit=100)) >= 2

    clock.skipped += timedelta(minutes=1, seconds=1)
    await eventually(lambda: runs_on_thread(1), "the cron's first run")
    await eventually(kept_threads, "the stateless cron's thread, kept")
    kept = next(t for t in await alice.threads.search(limit=100) if t["thread_id"] != thread)
    [kept_run] = await alice.runs.list(kept["thread_id"])
    await alice.runs.join(kept["thread_id"], kept_run["run_id"])
    kept_values: Any = (await alice.threads.get_state(kept["thread_id"]))["values"]
    assert kept_values["messages"][0]["content"] == "stateless"
    clock.skipped += timedelta(minutes=1)
    await eventually(lambda: runs_on_thread(2), "the cron's second run")
    runs = await alice.runs.list(thread)
    for run in runs:
        await alice.runs.join(thread, run["run_id"])
        finished = await alice.runs.get(thread, run["run_id"])
        assert finished["status"] == "success"
        assert (finished["metadata"] or {})["from"] == "cron"
    values: Any = (await alice.threads.get_state(thread))["values"]
    assert [m["content"] for m in values["messages"] if m["type"] == "human"] == [
        "hi",
        "hi",
    ]
    moved = as_cron((await alice.crons.search())[0])["next_run_date"]
    assert moved > cron["next_run_date"]


def test_search_and_count_take_ids_as_uuids_as_langgraph_does(stack: LocalStack) -> None:
    with httpx.Client(base_url=stack.url, headers=auth("alice")) as http:
        for path in ("/runs/crons/search", "/runs/crons/count"):
            by_name = http.post(path, json={"assistant_id": "agent"})
            assert (by_name.status_code, by_name.json()) == (
                422,
                {"detail": "Invalid assistant ID: must be a UUID"},
            )
            assert http.post(path, json={"thread_id": "t-1"}).status_code == 422
        assert http.delete("/runs/crons/not-a-uuid").json() == {
            "detail": "Invalid cron ID: must be a UUID"
        }
