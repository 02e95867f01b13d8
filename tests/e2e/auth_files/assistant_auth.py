"""A ``langgraph_sdk.Auth`` file with ``@auth.on.assistants`` handlers, as LangGraph's
"Make conversations private" tutorial writes them for assistants: creating stamps the
owner's team, every other action filters on it, and deleting needs a permission."""

from __future__ import annotations

from typing import Any

from langgraph_sdk import Auth

USERS: dict[str, dict[str, Any]] = {
    "alice-token": {"identity": "alice", "team": "red", "permissions": ["assistants:delete"]},
    "dave-token": {"identity": "dave", "team": "blue", "permissions": []},
}

auth = Auth()


@auth.authenticate
async def authenticate(authorization: str | None) -> dict[str, Any]:
    """The token names the user."""
    token = (authorization or " ").split()[-1]
    if token not in USERS:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
    return dict(USERS[token])


def _team_filter(ctx: Auth.types.AuthContext) -> dict[str, str]:
    # Default assistants carry no team: the filter hides them, as LangGraph Server does.
    return {"team": ctx.user["team"]}


@auth.on.assistants.create
async def stamp_team(ctx: Auth.types.AuthContext, value: Auth.types.AssistantsCreate) -> None:
    """A new assistant records its creator's team."""
    value.setdefault("metadata", {})["team"] = ctx.user["team"]


@auth.on.assistants.read
async def read_own_team(
    ctx: Auth.types.AuthContext, value: Auth.types.AssistantsRead
) -> dict[str, str]:
    """Only the caller's team's assistants."""
    return _team_filter(ctx)


@auth.on.assistants.search
async def search_own_team(
    ctx: Auth.types.AuthContext, value: Auth.types.AssistantsSearch
) -> dict[str, str]:
    """Only the caller's team's assistants."""
    return _team_filter(ctx)


@auth.on.assistants.update
async def update_own_team(
    ctx: Auth.types.AuthContext, value: Auth.types.AssistantsUpdate
) -> dict[str, str]:
    """Only the caller's team's assistants."""
    return _team_filter(ctx)


@auth.on.assistants.delete
async def may_delete(
    ctx: Auth.types.AuthContext, value: Auth.types.AssistantsDelete
) -> dict[str, str]:
    """Deleting needs ``assistants:delete``."""
    if "assistants:delete" not in ctx.permissions:
        raise Auth.exceptions.HTTPException(status_code=403, detail="No deleting assistants")
    return _team_filter(ctx)
