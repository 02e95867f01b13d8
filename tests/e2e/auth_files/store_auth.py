"""A ``langgraph_sdk.Auth`` file with store handlers as LangGraph's docs write them.

Every store action is scoped to a namespace that starts with the user's identity (the
handler prefixes it, as LangGraph Server deployments do to keep users apart in its global
store); a search also gets a filter showing only live items; a put under ``("locked", ...)``
is refused with the handler's own 403.
"""

from __future__ import annotations

from typing import Any

from langgraph_sdk import Auth

auth = Auth()


@auth.authenticate
async def get_current_user(authorization: str | None) -> str:
    """``Bearer <user>-token`` is ``<user>``."""
    if not authorization or not authorization.endswith("-token"):
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
    return authorization.split()[-1].removesuffix("-token")


def _scoped(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> None:
    value["namespace"] = (ctx.user.identity, *(value.get("namespace") or ()))


@auth.on.store
async def scope_to_user(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> None:
    """Put, get, delete and list within the user's own prefix."""
    if ctx.action == "put" and tuple(value["namespace"])[:1] == ("locked",):
        raise Auth.exceptions.HTTPException(status_code=403, detail="That namespace is locked")
    _scoped(ctx, value)


@auth.on.store.search
async def search_live(
    ctx: Auth.types.AuthContext, value: Auth.types.StoreSearch
) -> dict[str, str]:
    """Search within the user's prefix, showing only live items (``status: live``)."""
    _scoped(ctx, value)  # type: ignore[arg-type]  # a TypedDict is a dict at runtime
    return {"status": "live"}
