"""Thread state and history, read and updated through the graph and the checkpointer.

Shapes follow LangGraph Server's ``ThreadState`` (``values``, ``next``, ``tasks``,
``checkpoint``, ``parent_checkpoint``, ``metadata``, ``created_at``, ``interrupts``), so
``client.threads.get_state`` / ``get_history`` return what they return against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from langgraph.errors import InvalidUpdateError
from langgraph.types import StateSnapshot

from lambdagraph.engine import config_checkpoint, interrupt_dict, thread_graph_id
from lambdagraph.errors import BadRequest, Conflict
from lambdagraph.http.context import ApiContext
from lambdagraph.store.records import Thread, ThreadStatus

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig


async def graph_id_for(context: ApiContext, owner: str, thread: Thread) -> str:
    """Which graph a thread's checkpoints belong to: its latest run's, else the first graph."""
    return await assigned_graph_id(context, owner, thread) or context.graphs.names()[0]


async def assigned_graph_id(context: ApiContext, owner: str, thread: Thread) -> str | None:
    """The graph named by the thread's metadata (``graph_id``) or its latest run; ``None``
    for a thread no graph ran on."""
    return await thread_graph_id(context.graphs, context.store, owner, thread)


async def read_state(
    context: ApiContext,
    owner: str,
    thread: Thread,
    *,
    subgraphs: bool = False,
    checkpoint: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The thread's state as ``ThreadState``: the current one, or at ``checkpoint``
    (``{"checkpoint_id", "checkpoint_ns"?}``).

    An unknown checkpoint id reads as an empty state, as LangGraph Server 0.16.7 answers it
    (200, ``values: {}``), not as a 404.
    """
    graph = context.stateful_graph(await graph_id_for(context, owner, thread))
    configurable: dict[str, Any] = {"thread_id": thread["thread_id"]}
    if checkpoint is not None:
        configurable = {"checkpoint_ns": "", **checkpoint, **configurable}
    config: RunnableConfig = {"configurable": configurable}
    return thread_state(await graph.aget_state(config, subgraphs=subgraphs))


async def update_state(
    context: ApiContext,
    owner: str,
    thread: Thread,
    values: Any,
    *,
    as_node: str | None = None,
    checkpoint: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply ``values`` to the thread's state as ``as_node`` (``graph.aupdate_state``), from
    the latest checkpoint or from ``checkpoint`` (a fork, by the saver's rules).

    Checked against LangGraph Server 0.16.7 (``Threads.State.post``): a thread with an
    active run answers 409; one no graph ran on (no ``graph_id`` in its metadata, no run)
    400; a node or ``checkpoint_ns`` the graph lacks 400 (LangGraph's own text); an unknown
    checkpoint id is not an error (the update starts from an empty state). Messages an
    ``add_messages`` channel cannot coerce are refused first (422, where LangGraph Server
    crashes the request). The answer is
    ``{"checkpoint", "configurable", "checkpoint_id"}`` (the last two deprecated, kept).

    Raises:
        Conflict: a run is active on the thread.
        BadRequest: no graph for the thread, or the graph refused the update.
        InvalidRequest: a message in ``values`` is not one.
    """
    thread_id = thread["thread_id"]
    if thread.get("active_run_id"):
        raise Conflict(f"Thread {thread_id} has in-flight runs")
    graph_id = await assigned_graph_id(context, owner, thread)
    if graph_id is None:
        raise BadRequest(
            f"Thread '{thread_id}' has no assigned graph ID: make a run on it, or set "
            "'graph_id' in its metadata, before updating its state"
        )
    context.runs.inputs_of(graph_id).check_update(values)
    graph = context.stateful_graph(graph_id)
    configurable = {"checkpoint_ns": "", **(checkpoint or {}), "thread_id": thread_id}
    try:
        config = await graph.aupdate_state({"configurable": configurable}, values, as_node)
    except (InvalidUpdateError, ValueError, TypeError) as exc:
        # What LangGraph raises for the update it was given: an unknown node or subgraph
        # namespace, a list where a node returns a dict, a value a reducer cannot take.
        raise BadRequest(str(exc).splitlines()[0]) from None
    state = await graph.aget_state({"configurable": {"thread_id": thread_id}})
    status: ThreadStatus = "interrupted" if state.interrupts else "idle"
    await context.store.set_rest_status(owner, thread_id, status)
    done = dict(config["configurable"])
    return {"checkpoint": done, "configurable": done, "checkpoint_id": done.get("checkpoint_id")}


async def copy_thread(context: ApiContext, owner: str, thread: Thread, copy_id: str) -> Thread:
    """A new thread ``copy_id`` of ``owner`` with the thread's metadata and checkpoints.

    The record is created first, then the checkpoints copied: a copy that fails halfway
    leaves a thread its owner sees and can delete (erasing what was copied), never
    checkpoints no thread owns.
    """
    copy = await context.store.create_thread(
        owner, thread_id=copy_id, metadata=thread["metadata"]
    )
    await context.checkpointer.acopy_thread(thread["thread_id"], copy["thread_id"])
    return copy


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
