"""Large state on the local stack as ``make dev`` configures it (no bucket given): the
scripted model's documented cap and a 500 KB message both work, as they do in the cloud."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError

from lambdagraph.settings import Settings
from lambdagraph.store.bucket import s3_prefix
from lambdagraph_client.local.server import LOCAL_CHECKPOINT_BUCKET, LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import TokenIsUser, auth, eventually, user_message


@pytest.fixture
def default_stack(tables: Tables) -> Iterator[LocalStack]:
    """The stack with only table names set: the checkpoint bucket is the stack's default."""
    settings = Settings(
        app_table=tables.app, checkpoint_table=tables.checkpoints, scripted_delay_ms=0
    )
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


def _offloaded(thread_id: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(
        Bucket=LOCAL_CHECKPOINT_BUCKET, Prefix=s3_prefix(thread_id)
    )
    return [o["Key"] for o in listed.get("Contents", [])]


async def test_counting_to_the_documented_cap_succeeds(default_stack: LocalStack) -> None:
    client = get_client(url=default_stack.url, headers=auth("alice"))
    thread = await client.threads.create()

    values = await client.runs.wait(
        thread["thread_id"], "agent", input=user_message("count to 100000")
    )

    assert default_stack.settings.checkpoint_bucket == LOCAL_CHECKPOINT_BUCKET
    assert isinstance(values, dict)
    numbers = values["messages"][-1]["content"].split()
    assert numbers[0] == "1" and numbers[-1] == "100000" and len(numbers) == 100_000
    assert _offloaded(thread["thread_id"])  # the checkpoint outgrew a DynamoDB item


async def test_a_500_kb_message_works_streamed_waited_and_in_the_background(
    default_stack: LocalStack,
) -> None:
    client = get_client(url=default_stack.url, headers=auth("alice"))
    thread_id = (await client.threads.create())["thread_id"]
    # "count to N" keeps each answer short (an echo of 500 KB is ~87,000 chunks of CPU).
    text = "count to 3. " + "a long pasted document " * (500_000 // 23)
    other = "count to 2. " + text[::-1]

    streamed = [
        part.event
        async for part in client.runs.stream(thread_id, "agent", input=user_message(text))
    ]
    background = await client.runs.create(thread_id, "agent", input=user_message(other))
    await client.runs.join(thread_id, background["run_id"])
    state = await client.threads.get_state(thread_id)
    values: dict[str, Any] = state["values"]  # type: ignore[assignment]
    runs: list[dict[str, Any]] = await client.runs.list(thread_id)  # type: ignore[assignment]

    assert "error" not in streamed and streamed[-1] == "values"
    contents = [m["content"] for m in values["messages"] if m["type"] == "human"]
    assert contents == [text, other]
    assert values["messages"][-1]["type"] == "ai"
    assert [r["status"] for r in runs] == ["success", "success"]
    assert runs[0]["kwargs"]["input"] == user_message(other)


async def test_deleting_a_thread_erases_its_offloaded_run_input_with_its_checkpoints(
    default_stack: LocalStack,
) -> None:
    client = get_client(url=default_stack.url, headers=auth("alice"))
    thread_id = (await client.threads.create())["thread_id"]
    await client.runs.wait(thread_id, "agent", input=user_message("x" * 400_000))
    stored = _offloaded(thread_id)

    await client.threads.delete(thread_id)

    async def erased() -> bool:
        try:
            await client.threads.create(thread_id=thread_id)
        except ConflictError:  # the erase job has not finished
            return False
        return True

    await eventually(erased, "the deleted thread to be erased")
    assert any(key.endswith("/kwargs.json") for key in stored)  # the run's input was there
    assert _offloaded(thread_id) == []
