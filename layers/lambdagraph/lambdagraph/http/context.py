"""What every route needs: the app's collaborators, the caller's identity, background tasks.

``create_app`` stores one :class:`ApiContext` on ``app.state``; routes receive it and the
authenticated user id through FastAPI dependencies (:data:`Ctx`, :data:`User`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from fastapi import Depends, Request

from lambdagraph.auth import Authenticator
from lambdagraph.engine.assistants import assistant_id, resolve_graph
from lambdagraph.engine.durable import DurableRuns
from lambdagraph.engine.erase import ThreadEraser
from lambdagraph.engine.executor import GraphRegistry, RunExecutor
from lambdagraph.errors import InvalidInput
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.pregel import Pregel

logger = logging.getLogger(__name__)

@dataclass
class ApiContext:
    """The collaborators of one app instance, plus the run tasks it started."""

    store: AppStore
    executor: RunExecutor
    graphs: GraphRegistry
    authenticator: Authenticator
    checkpointer: BaseCheckpointSaver[Any]
    settings: Settings
    durable: DurableRuns | None = None
    """Background runs, resumable streams and joins (``create_app_from_settings`` sets it)."""
    eraser: ThreadEraser | None = None
    """Deletes threads and erases what they owned (``create_app`` sets it)."""
    tasks: set[asyncio.Task[Any]] = field(default_factory=set, init=False, repr=False)
    _stateful: dict[str, Pregel[Any, Any, Any, Any]] = field(
        default_factory=dict, init=False, repr=False
    )

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run ``coro`` in the background, independent of the request that started it."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=exc)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Cancel the run tasks still going (server shutdown) and wait for them briefly."""
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

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


async def get_user(request: Request) -> str:
    """The caller's user id; the authenticator raises ``Unauthorized`` (401) without one."""
    context = get_context(request)
    return await context.authenticator.authenticate(request.headers)


Ctx = Annotated[ApiContext, Depends(get_context)]
User = Annotated[str, Depends(get_user)]


def valid_id(value: str, what: str) -> str:
    """A path id in canonical UUID form; ``InvalidInput`` (422) when it is not a UUID."""
    try:
        return str(UUID(value))
    except ValueError:
        raise InvalidInput(f"Invalid {what}: must be a UUID") from None
