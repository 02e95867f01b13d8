"""``@auth.on.assistants`` handlers in front of the local stack, through the real SDK: the
value a handler stamps is what the assistant records, its filters hide what does not match
(as a missing assistant), and its refusals answer 403 (auth file: ``assistant_auth.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import NotFoundError, PermissionDeniedError

from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import stack_settings

AUTH_PATH = "tests.e2e.auth_files.assistant_auth:auth"


@pytest.fixture
def stack(tables: Tables) -> Iterator[LocalStack]:
    """The local stack authenticating with the auth file alone (no test authenticator)."""
    settings = stack_settings(tables, auth_mode="custom", auth_path=AUTH_PATH)
    with running_stack(settings=settings) as running:
        yield running



async def test_assistant_handlers_stamp_filter_and_refuse(stack: LocalStack) -> None:
    alice = get_client(url=stack.url, headers={"Authorization": "Bearer alice-token"})
    dave = get_client(url=stack.url, headers={"Authorization": "Bearer dave-token"})
    mine = await alice.assistants.create("agent", name="red one", metadata={"note": "x"})
    assert mine["metadata"] == {"note": "x", "team": "red"}
    # The search filter hides the default assistants (no team), as LangGraph Server does.
    assert [a["assistant_id"] for a in await alice.assistants.search()] == [mine["assistant_id"]]
    assert await alice.assistants.count() == 1
    assert (await alice.assistants.get(mine["assistant_id"]))["name"] == "red one"
    with pytest.raises(NotFoundError):
        await alice.assistants.get("agent")
    # Moved to another team by a patch: hidden from alice herself from then on.
    await alice.assistants.update(mine["assistant_id"], metadata={"team": "blue"})
    with pytest.raises(NotFoundError):
        await alice.assistants.get(mine["assistant_id"])
    with pytest.raises(NotFoundError):
        await alice.assistants.update(mine["assistant_id"], name="back")
    theirs = await dave.assistants.create("agent")
    with pytest.raises(PermissionDeniedError):
        await dave.assistants.delete(theirs["assistant_id"])
    assert (await dave.assistants.get(theirs["assistant_id"]))["metadata"] == {"team": "blue"}
