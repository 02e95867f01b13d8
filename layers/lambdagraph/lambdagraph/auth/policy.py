"""Authorization: may this identity do this action on this resource, and within what?

Every transport asks the deployment's one :class:`Authorizer` before it acts, with the
resource, the action and the value LangGraph Server would hand an ``@auth.on`` handler
(e.g. ``("threads", "read", {"thread_id": UUID(...)})``). The answer is a refusal
(:class:`~lambdagraph.errors.Forbidden`, or whatever error a custom handler chose), or
metadata filters the store applies within what the identity owns (``None``: no filter).

Ownership is the partition whatever the authorizer says: a filter can only narrow what a
user reaches, never widen it to another user's threads.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from lambdagraph.auth.identity import Identity
from lambdagraph.settings import Settings
from lambdagraph.store.filters import Filters

Resource = Literal["threads", "runs", "assistants", "crons", "store"]
"""What is acted on, in LangGraph's vocabulary (runs are authorized as ``threads``)."""

Action = Literal[
    "create", "read", "update", "delete", "search", "create_run", "put", "get", "list_namespaces"
]
"""What is done to it (``create_run``: a run on a thread; ``put``/``get``/...: the store)."""

@runtime_checkable
class Authorizer(Protocol):
    """Judges one action of an authenticated caller (no base class: any object with this)."""

    async def authorize(
        self, identity: Identity, resource: Resource, action: Action, value: dict[str, Any]
    ) -> Filters | None:
        """Allow (returning filters to apply, or ``None``) or refuse the action.

        ``value`` is the action's value dict; a handler may change it in place (e.g. stamp
        ``value["metadata"]["owner"]``) and the caller uses the changed value.

        Raises:
            Forbidden: the action is refused (403), or another of our errors a custom
                handler chose (``Auth.exceptions.HTTPException`` with its status).
        """
        ...


class AllowAll:
    """Every authenticated action is allowed: ownership alone decides what a user reaches."""

    async def authorize(
        self, identity: Identity, resource: Resource, action: Action, value: dict[str, Any]
    ) -> Filters | None:
        """Always allowed, unfiltered."""
        return None


def authorizer_from_settings(settings: Settings) -> Authorizer:
    """The authorizer ``settings.auth_mode`` implies: the ``@auth.on`` handlers of the
    ``LAMBDAGRAPH_AUTH_PATH`` object in ``custom`` mode, :class:`AllowAll` otherwise.

    Raises:
        ConfigurationError: custom mode, and the auth object cannot be loaded.
    """
    if settings.auth_mode != "custom":
        return AllowAll()
    from lambdagraph.auth import custom  # langgraph-sdk: only in custom mode

    return custom.CustomAuthorizer(custom.load_auth(settings.auth_path))


__all__ = ["Action", "AllowAll", "Authorizer", "Filters", "Resource", "authorizer_from_settings"]
