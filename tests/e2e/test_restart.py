"""Nothing lives in memory: a thread interrupted under one server resumes under the next."""

from __future__ import annotations

from langgraph_sdk import get_client

from lambdagraph_client.local.server import running_stack
from tests.conftest import Tables
from tests.e2e.conftest import HeaderAuth, auth, stack_settings, user_message


async def test_a_restarted_server_on_the_same_dynamodb_resumes_the_interrupt(
    tables: Tables,
) -> None:
    settings = stack_settings(tables)
    with running_stack(settings=settings, authenticator=HeaderAuth()) as first:
        client = get_client(url=first.url, headers=auth("alice"))
        thread = await client.threads.create()
        paused = await client.runs.wait(
            thread["thread_id"], "agent", input=user_message("send an email to c@d.e")
        )
    with running_stack(settings=settings, authenticator=HeaderAuth()) as second:
        client = get_client(url=second.url, headers=auth("alice"))
        before = await client.threads.get(thread["thread_id"])
        resumed = await client.runs.wait(
            thread["thread_id"], "agent", command={"resume": {"approved": True}}
        )
        runs = await client.runs.list(thread["thread_id"])

    assert paused["__interrupt__"][0]["value"]["args"]["to"] == "c@d.e"
    assert before["status"] == "interrupted"
    assert resumed["messages"][-1]["content"] == "Email sent to c@d.e."
    # As in LangGraph Server, a run that paused at an interrupt succeeded; its thread waits.
    assert [run["status"] for run in runs] == ["success", "success"]
    assert second.created_tables == []
