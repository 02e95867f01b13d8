"""Thread state and history, read through the graph and the checkpointer.

Shapes follow LangGraph Server's ``ThreadState`` (``values``, ``next``, ``tasks``,
``checkpoint``, ``parent_checkpoint``, ``metadata``, ``created_at``, ``interrupts``), so
``client.threads.get_state`` / ``get_history`` return what they return against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langgraph.types import StateSnapshot

from lambdagraph.engine import config_checkpoint, interrupt_dict
from lambdagraph.http.context import ApiContext
from lambdagraph.store.records import Thread, run_graph_id

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig


async def graph_id_for(context: ApiContext, owner: str, thread: Thread) -> str:
    """Which graph a thread's checkpoints belong to: its latest run's, else the first graph."""
    names = context.graphs.names()
    graph_id = (thread.get("metadata") or {}).get("graph_id")
    if isinstance(graph_id, str) and graph_id in names:
        return graph_id
    runs = await context.store.list_runs(owner, thread["thread_id"], limit=1)
    if runs and run_graph_id(runs[0]) in names:
        return run_graph_id(runs[0])
    return names[0]


async def read_state(
    context: ApiContext, owner: str, thread: Thread, *, subgraphs: bool = False
) -> dict[str, Any]:
    """The thread's current state as ``ThreadState``."""
    graph = context.stateful_graph(await graph_id_for(context, owner, thread))
    config: RunnableConfig = {"configurable": {"thread_id": thread["thread_id"]}}
    return thread_state(await graph.aget_state(config, subgraphs=subgraphs))


async def read_values(context: ApiContext, owner: str, thread: Thread) -> Any:
    """The thread's current values (what ``/wait`` returns when a run sent none)."""
    return (await read_state(context, owner, thread))["values"]


async def read_history(
    context: ApiContext,
    owner: str,
    thread: Thread,
    *,
    limit: int,
    before: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Past states, newest first, as ``ThreadState``s."""
    graph = context.stateful_graph(await graph_id_for(context, owner, thread))
    configurable = {"checkpoint_ns": "", **(checkpoint or {}), "thread_id": thread["thread_id"]}
    before_config: RunnableConfig | None = None
    if before:
        before_config = {"configurable": {**before, "thread_id": thread["thread_id"]}}
    return [
        thread_state(snapshot)
        async for snapshot in graph.aget_state_history(
            {"configurable": configurable}, filter=metadata, before=before_config, limit=limit
        )
    ]


def thread_state(snapshot: StateSnapshot) -> dict[str, Any]:
    """A ``StateSnapshot`` as LangGraph Server's ``ThreadState`` JSON."""
    return {
        "values": snapshot.values,
        "next": list(snapshot.next),
        "tasks": [
            {
                "id": task.id,
                "name": task.name,
                "path": list(task.path),
                "error": None if task.error is None else type(task.error).__name__,
                "interrupts": [interrupt_dict(i) for i in task.interrupts],
                "checkpoint": None
                if task.state is None or isinstance(task.state, StateSnapshot)
                else task.state["configurable"],
                "state": thread_state(task.state)
                if isinstance(task.state, StateSnapshot)
                else None,
                "result": getattr(task, "result", None),
            }
            for task in snapshot.tasks
        ],
        "metadata": snapshot.metadata,
        "created_at": snapshot.created_at,
        "checkpoint": _checkpoint(snapshot.config),
        "parent_checkpoint": _checkpoint(snapshot.parent_config),
        "interrupts": [interrupt_dict(i) for i in snapshot.interrupts],
        "checkpoint_id": (snapshot.config or {}).get("configurable", {}).get("checkpoint_id"),
        "parent_checkpoint_id": (snapshot.parent_config or {})
        .get("configurable", {})
        .get("checkpoint_id"),
    }


def _checkpoint(config: RunnableConfig | None) -> dict[str, Any] | None:
    # ThreadState always names the namespace, even when the config leaves it out.
    checkpoint = config_checkpoint(config)
    return None if checkpoint is None else {"checkpoint_ns": "", **checkpoint}
