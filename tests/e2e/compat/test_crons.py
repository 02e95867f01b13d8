"""Crons through ``langgraph-sdk``: for a thread or stateless, search, count, update, delete."""

from __future__ import annotations

import uuid
from typing import Any, cast

from langgraph_sdk.client import SyncLangGraphClient

from tests.e2e.compat.checks import refused

# Once a year: no cron of this suite fires while it runs.
YEARLY = "0 0 1 1 *"


def cron(made: object) -> dict[str, Any]:
    """What cron creation answers: a ``Cron`` (the SDK 0.4.14 declares a ``Run``)."""
    return cast(dict[str, Any], made)


def test_thread_cron_is_found_then_deleted(sdk: SyncLangGraphClient) -> None:
    tid = sdk.threads.create()["thread_id"]
    made = cron(sdk.crons.create_for_thread(tid, "nested", schedule=YEARLY, input={"trail": []}))
    cron_id = made["cron_id"]
    found = sdk.crons.search(thread_id=tid)
    assert [c["cron_id"] for c in found] == [cron_id]
    assert found[0]["schedule"] == YEARLY
    assert sdk.crons.count(thread_id=tid) == 1
    sdk.crons.delete(cron_id)
    assert sdk.crons.search(thread_id=tid) == []
    assert refused(lambda: sdk.crons.delete(cron_id)) == 404


def test_stateless_cron_search_by_assistant(sdk: SyncLangGraphClient) -> None:
    aid = sdk.assistants.create("nested")["assistant_id"]
    made = cron(sdk.crons.create(aid, schedule=YEARLY, input={"trail": []}))
    try:
        found = sdk.crons.search(assistant_id=aid)
        assert [c["cron_id"] for c in found] == [made["cron_id"]]
        assert found[0]["assistant_id"] == aid
        assert sdk.crons.count(assistant_id=aid) == 1
    finally:
        sdk.crons.delete(made["cron_id"])


def test_update_changes_the_schedule(sdk: SyncLangGraphClient) -> None:
    aid = sdk.assistants.create("nested")["assistant_id"]
    made = cron(sdk.crons.create(aid, schedule=YEARLY, input={"trail": []}))
    try:
        updated = sdk.crons.update(made["cron_id"], schedule="30 6 * * 1", enabled=False)
        assert updated["schedule"] == "30 6 * * 1"
        [found] = sdk.crons.search(assistant_id=aid)
        assert found["schedule"] == "30 6 * * 1"
        assert found["enabled"] is False
    finally:
        sdk.crons.delete(made["cron_id"])


def test_malformed_schedule_is_422(sdk: SyncLangGraphClient) -> None:
    aid = sdk.assistants.create("nested")["assistant_id"]
    assert refused(lambda: sdk.crons.create(aid, schedule="every tuesday")) == 422
    assert sdk.crons.search(assistant_id=aid) == []


def test_cron_for_an_unknown_thread_is_404(sdk: SyncLangGraphClient) -> None:
    status = refused(
        lambda: sdk.crons.create_for_thread(str(uuid.uuid4()), "nested", schedule=YEARLY)
    )
    assert status == 404
