"""A ``langgraph_sdk.Auth`` file as LangGraph's auth tutorials write it, unchanged.

From "Set up custom authentication" (tokens to users, ``HTTPException(401)`` for an unknown
token), "Make conversations private" (stamp ``metadata["owner"]`` on create, filter reads on
it) and "Add scoped authorization" (permissions from the token, 403 without them). A few
tokens misbehave on purpose, for the error tests.
"""

from __future__ import annotations

from typing import Any

from langgraph_sdk import Auth

VALID_TOKENS: dict[str, dict[str, Any]] = {
    "alice-token": {"id": "alice", "name": "Alice", "permissions": ["threads:write"]},
    "bob-token": {"id": "bob", "name": "Bob", "permissions": ["threads:write"]},
    "alice-reader": {"id": "alice", "name": "Alice (read only)", "permissions": []},
    "carol-token": {"id": "carol", "name": "Carol", "permissions": ["threads:write"]},
}
SECRET = "hunter2-database-password"
"""What the failing authenticate handler says: it must never reach a client."""

auth = Auth()


@auth.authenticate
async def get_current_user(authorization: str | None) -> dict[str, Any]:
    """Check the token and return the user's identity (the tutorial's handler)."""
    assert authorization
    scheme, token = authorization.split()
    assert scheme.lower() == "bearer"
    if token == "boom-token":
        raise RuntimeError(f"could not reach the user database ({SECRET})")
    if token not in VALID_TOKENS:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
    user = VALID_TOKENS[token]
    return {
        "identity": user["id"],
        "display_name": user["name"],
        "permissions": user["permissions"],
        "team": "red" if user["id"] == "alice" else "blue",
    }


@auth.on
async def add_owner(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> dict[str, str]:
    """Every resource: stamp the owner on what is created, and see only what one owns."""
    filters = {"owner": ctx.user.identity}
    metadata = value.setdefault("metadata", {})
    if isinstance(metadata, dict):
        metadata.update(filters)
    return filters


@auth.on.threads.create
async def on_thread_create(
    ctx: Auth.types.AuthContext, value: Auth.types.ThreadsCreate
) -> None:
    """Creating a thread needs ``threads:write``; the new thread records its owner."""
    if "threads:write" not in ctx.permissions:
        raise Auth.exceptions.HTTPException(
            status_code=403, detail="User lacks the required permissions."
        )
    metadata = value.setdefault("metadata", {})
    metadata["owner"] = ctx.user.identity
    metadata["team"] = ctx.user["team"]


@auth.on.threads.create_run
async def on_run_create(
    ctx: Auth.types.AuthContext, value: Auth.types.RunsCreate
) -> bool | dict[str, str]:
    """Starting a run needs ``threads:write`` (else a plain refusal: 403)."""
    if "threads:write" not in ctx.permissions:
        return False
    metadata = value.setdefault("metadata", {})
    metadata["owner"] = ctx.user.identity
    return {"owner": ctx.user.identity}


@auth.on.threads.delete
async def on_thread_delete(
    ctx: Auth.types.AuthContext, value: Auth.types.ThreadsDelete
) -> dict[str, str]:
    """Carol's deletes hit a bug in the handler: a plain exception (a generic 403)."""
    if ctx.user.identity == "carol":
        raise KeyError(SECRET)
    return {"owner": ctx.user.identity}


@auth.on.assistants
async def on_assistants(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> None:
    """Assistants are the deployment's graphs: everyone may read them."""
    return None


@auth.on.crons.create
async def on_cron_create(
    ctx: Auth.types.AuthContext, value: Auth.types.CronsCreate
) -> dict[str, str]:
    """Scheduling runs needs ``threads:write``; the cron records its owner."""
    if "threads:write" not in ctx.permissions:
        raise Auth.exceptions.HTTPException(
            status_code=403, detail="User lacks the required permissions."
        )
    metadata = value.setdefault("metadata", {})  # type: ignore[typeddict-item]
    metadata["owner"] = ctx.user.identity
    return {"owner": ctx.user.identity}
