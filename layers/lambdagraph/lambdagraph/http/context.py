"""What every route needs: the app's collaborators, the caller's identity, background tasks.

``create_app`` stores one :class:`ApiContext` on ``app.state``; routes receive it and the
authenticated caller through FastAPI dependencies (:data:`Ctx`, :data:`Caller`, :data:`User`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from fastapi import Depends, Request

from lambdagraph.auth import Authenticator, AuthRequest, Identity
from lambdagraph.auth.guard import Guard
from lambdagraph.auth.policy import AllowAll, Authorizer
from lambdagraph.engine import GraphRegistry, RunService, ThreadEraser, assistant_id, resolve_graph
from lambdagraph.errors import InvalidInput
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.pregel import Pregel

logger = logging.getLogger(__name__)

@dataclass
class ApiContext:
    """The collaborators of one app instance: run work goes through ``runs``."""

    store: AppStore
    runs: RunService
    graphs: GraphRegistry
    authenticator: Authenticator
    checkpointer: BaseCheckpointSaver[Any]
    settings: Settings
    eraser: ThreadEraser
    """Deletes threads and erases what they owned (``DELETE /threads/{tid}``)."""
    authorizer: Authorizer = field(default_factory=AllowAll)
    """Judges each action (custom mode: the ``@auth.on`` handlers)."""
    _stateful: dict[str, Pregel[Any, Any, Any, Any]] = field(
        default_factory=dict, init=False, repr=False
    )

    def assistant_ids(self) -> dict[str, str]:
        """Graph name → the assistant id LangGraph Server would give it."""
        return {name: assistant_id(name) for name in self.graphs.names()}

    def resolve_graph(self, assistant_id: str) -> str:
        """The graph name for a graph name or its assistant id; ``AssistantNotFound`` else."""
        return resolve_graph(self.graphs, assistant_id)

    def stateful_graph(self, graph_id: str) -> Pregel[Any, Any, Any, Any]:
        """The named graph bound to the checkpointer, for reading state and history."""
        if graph_id not in self._stateful:
            graph = self.graphs.get(graph_id)
            self._stateful[graph_id] = graph.copy(update={"checkpointer": self.checkpointer})
        return self._stateful[graph_id]


def get_context(request: Request) -> ApiContext:
    """The app's :class:`ApiContext`."""
    context: ApiContext = request.app.state.context
    return context


def auth_request(request: Request) -> AuthRequest:
    """What the authenticator may judge of an HTTP request.

    The Lambda request context arrives as the ``x-amzn-request-context`` header behind the
    Lambda Web Adapter (the streaming function URL), and as the event's ``requestContext``
    through Mangum (the HTTP API). Locally there is none.
    """
    request_context: Any = {}
    event = request.scope.get("aws.event")
    if isinstance(event, dict):
        request_context = event.get("requestContext") or {}
    elif "x-amzn-request-context" in request.headers:
        try:
            request_context = json.loads(request.headers["x-amzn-request-context"])
        except ValueError:
            request_context = {}
    return AuthRequest(
        headers=request.headers,
        method=request.method,
        path=request.url.path,
        query=request.query_params,
        request_context=request_context if isinstance(request_context, dict) else {},
    )


async def get_identity(request: Request) -> Identity:
    """The caller's identity; the authenticator raises ``Unauthorized`` (401) without one."""
    context = get_context(request)
    return await context.authenticator.authenticate(auth_request(request))


async def get_user(identity: Annotated[Identity, Depends(get_identity)]) -> str:
    """The caller's user id: the owner of what the request reads or creates."""
    return identity.user_id


async def get_guard(
    request: Request, identity: Annotated[Identity, Depends(get_identity)]
) -> Guard:
    """The caller's authorization checks (the identity is authenticated once per request)."""
    context = get_context(request)
    return Guard(context.authorizer, context.store, identity)


Ctx = Annotated[ApiContext, Depends(get_context)]
Caller = Annotated[Identity, Depends(get_identity)]
User = Annotated[str, Depends(get_user)]
Access = Annotated[Guard, Depends(get_guard)]


def valid_id(value: str, what: str) -> str:
    """A path id in canonical UUID form; ``InvalidInput`` (422) when it is not a UUID."""
    try:
        return str(UUID(value))
    except ValueError:
        raise InvalidInput(f"Invalid {what}: must be a UUID") from None
