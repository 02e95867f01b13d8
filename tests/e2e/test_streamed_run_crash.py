"""A plain streamed run (not ``stream_resumable``) whose server process dies mid-run: its
lease lapses, the run reads as failed, and the thread takes new runs again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pytest
from langgraph_sdk import get_client

from lambdagraph.store.leases import RunLeases
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import TokenIsUser, auth, stack_settings, user_message
from tests.e2e.dying import kill, lease_lapsed, stack_process

# The local stack in a process of its own (so the test can kill it), on the test's tables,
# with one-second leases; it prints its URL once it serves.
_SERVER_PROCESS = """
import json, sys, threading
from lambdagraph_client.local.server import running_stack
from tests.conftest import Tables
from tests.e2e.conftest import TokenIsUser, stack_settings
settings = stack_settings(Tables(**json.loads(sys.argv[1])), run_lease_seconds=1.0)
with running_stack(settings=settings, authenticator=TokenIsUser()) as stack:
    print(stack.url, flush=True)
    threading.Event().wait()
"""


@pytest.fixture
def quick_lease_stack(tables: Tables) -> Iterator[LocalStack]:
    """The stack that survives, with the dying one's lease length."""
    settings = stack_settings(tables, run_lease_seconds=1.0)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


@pytest.mark.parametrize("strategy", ["reject", "enqueue"])
async def test_a_streamed_run_whose_server_died_fails_and_frees_its_thread(
    quick_lease_stack: LocalStack, tables: Tables, strategy: Literal["reject", "enqueue"]
) -> None:
    async with stack_process(_SERVER_PROCESS, tables) as (server, url):
        dying = get_client(url=url, headers=auth("alice"))
        thread = await dying.threads.create()
        run_id, tokens = None, 0
        async for part in dying.runs.stream(
            thread["thread_id"],
            "agent",
            input=user_message("count to 100000"),
            stream_mode="messages-tuple",
        ):
            if part.event == "metadata":
                run_id = part.data["run_id"]
            elif part.event == "messages":
                tokens += 1
            if tokens >= 20:  # still streaming: the process dies mid-run
                await kill(server)
                break
    assert run_id is not None

    client = get_client(url=quick_lease_stack.url, headers=auth("alice"))
    assert (await client.threads.get(thread["thread_id"]))["status"] == "busy"
    if strategy == "reject":
        await lease_lapsed(RunLeases(tables.app), run_id)
    # No one has read the dead run: the new run itself finds the lapsed lease (at once when
    # rejecting, while it waits its turn when queued).
    result = await client.runs.wait(
        thread["thread_id"],
        "agent",
        input=user_message("count to 3"),
        multitask_strategy=strategy,
    )
    assert result["messages"][-1]["content"].split()[-1] == "3"
    assert (await client.runs.get(thread["thread_id"], run_id))["status"] == "error"
    assert (await client.threads.get(thread["thread_id"]))["status"] == "idle"
