"""The Agent Streaming Protocol's thread commands besides running one: state, checkpoints,
forks, the agent tree, injected input; and ``run.start``'s multitask strategy.

Each handler takes a :class:`~lambdagraph.engine.thread_streams.CommandContext` and the
command's ``params`` and returns its ``result``; :data:`HANDLERS` maps method names to them
for :class:`~lambdagraph.engine.thread_streams.ThreadStreams`. A client's mistake raises
:class:`~lambdagraph.protocol.agent.ProtocolError` with the schema's code; our own errors
(an unknown or another user's thread: ``ThreadNotFound``) become codes in
``ThreadStreams.command``.

Checked against the reference servers. LangGraph Server (langgraph-api 0.16.7, ``langgraph
dev``) answers ``state.get``, ``state.listCheckpoints``, ``state.fork`` and ``input.inject``
with ``unknown_command`` ("removed methods", ``event_streaming/service.py``) and
``agent.getTree`` on ``/commands`` with ``no_such_run`` (a fresh, unbound session per
request); the protocol (``langchain-protocol`` 0.0.18) defines all five, so we serve them
in its shapes. ``state.get`` follows the JS reference (``@langchain/langgraph-api``,
``protocol/service.mts``): the thread's current values, filtered to ``keys``, and
``checkpoint: {id, ns}``. ``agent.getTree`` answers what the Python reference answers over
its WebSocket once a run is bound (see :mod:`lambdagraph.engine.agent_tree`), for the
thread's latest run. A fork is a ``run.start`` with ``config.configurable.checkpoint_id``
(the reference's and the SDK's way), and injected input is a ``run.start`` with the message
as input, queued behind an active run (``enqueue``): LangGraph cannot hand a message to a
node that is running.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, cast, get_args

from langgraph.errors import InvalidUpdateError

from lambdagraph.engine.agent_tree import latest_run_tree
from lambdagraph.engine.assistants import thread_graph_id
from lambdagraph.protocol.agent import ProtocolError
from lambdagraph.protocol.agent_events import protocol_state
from lambdagraph.store.records import MultitaskStrategy, Thread

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.pregel import Pregel
    from langgraph.types import StateSnapshot

    from lambdagraph.engine.thread_streams import CommandContext, Handler

MULTITASK_STRATEGIES: Final[tuple[str, ...]] = get_args(MultitaskStrategy)
DEFAULT_MULTITASK_STRATEGY: Final = "enqueue"
"""What ``run.start`` does without ``multitaskStrategy`` (LangGraph Server's default)."""
DEFAULT_CHECKPOINTS: Final = 10
MAX_CHECKPOINTS: Final = 1000
"""``state.listCheckpoints`` limits: the default and the most, as ``/threads/{tid}/history``."""
_INJECT_ROLES: Final = ("user", "system")


def _fail(message: str) -> ProtocolError:
    return ProtocolError("invalid_argument", message)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _namespace(params: Mapping[str, Any], method: str) -> list[str]:
    # The schema marks it required for state.get and input.inject; like the reference for
    # input.respond, a missing one is the root.
    namespace = params.get("namespace")
    if namespace is None:
        return []
    if not isinstance(namespace, list) or not all(isinstance(s, str) for s in namespace):
        raise _fail(f"{method}: namespace must be an array of strings")
    return cast(list[str], namespace)


def _checkpoint_id(value: object, method: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"{method} requires a checkpoint_id (a non-empty string)")
    try:
        uuid.UUID(value)
    except ValueError:
        raise _fail(
            f"{method}: invalid checkpoint_id {value!r} (a checkpoint id is a UUID)"
        ) from None
    return value


def run_start_strategy(params: Mapping[str, Any]) -> MultitaskStrategy:
    """What ``run.start`` does when the thread has an active run (``multitaskStrategy``,
    or ``multitask_strategy``).

    ``reject`` refuses the run, ``interrupt`` and ``rollback`` cancel the active run first
    (``rollback`` also deletes it), ``enqueue`` (the default) queues the new run behind it,
    as on the REST API. LangGraph Server takes an unknown value as ``enqueue``; we refuse it,
    so a typo does not silently queue runs.

    Raises:
        ProtocolError: ``invalid_argument`` for a value that is not one of the four.
    """
    strategy = params.get("multitaskStrategy", params.get("multitask_strategy"))
    if strategy is None:
        return DEFAULT_MULTITASK_STRATEGY
    if strategy not in MULTITASK_STRATEGIES:
        raise _fail(
            f"run.start: multitaskStrategy must be one of {', '.join(MULTITASK_STRATEGIES)}, "
            f"not {strategy!r}"
        )
    return cast(MultitaskStrategy, strategy)


# --- reading state -------------------------------------------------------------------


async def _thread(ctx: CommandContext) -> Thread:
    # ThreadNotFound (unknown, or another user's) answers no_such_run, as a thread with no
    # run does on the reference.
    return await ctx.runs.store.get_thread(ctx.owner, ctx.thread_id)


async def _stateful_graph(ctx: CommandContext, thread: Thread) -> Pregel[Any, Any, Any, Any]:
    saver = ctx.streams.checkpointer
    if saver is None:
        raise ProtocolError("not_supported", "This endpoint reads no thread state")
    graph_id = await thread_graph_id(ctx.graphs, ctx.runs.store, ctx.owner, thread)
    graph = ctx.graphs.get(graph_id or ctx.graphs.names()[0])
    return graph.copy(update={"checkpointer": saver})


def _config(ctx: CommandContext, namespace: list[str], **more: str) -> RunnableConfig:
    # A subgraph's checkpoints live under its namespace joined with "|" (LangGraph's
    # checkpoint_ns, e.g. "inner:<task id>").
    configurable = {"thread_id": ctx.thread_id, "checkpoint_ns": "|".join(namespace), **more}
    return {"configurable": configurable}


async def _snapshot(
    graph: Pregel[Any, Any, Any, Any], config: RunnableConfig, namespace: list[str]
) -> StateSnapshot:
    try:
        snapshot = await graph.aget_state(config)
    except (ValueError, InvalidUpdateError) as exc:
        # LangGraph's "Subgraph <name> not found" for a namespace naming no subgraph.
        raise ProtocolError("no_such_namespace", str(exc).splitlines()[0]) from None
    if namespace and snapshot.created_at is None:
        raise ProtocolError(
            "no_such_namespace", f"No checkpoint of namespace {namespace!r} on this thread"
        )
    return snapshot


def _checkpoint_ref(snapshot: StateSnapshot) -> dict[str, str] | None:
    configurable = (snapshot.config or {}).get("configurable", {})
    checkpoint_id = configurable.get("checkpoint_id")
    if snapshot.created_at is None or not isinstance(checkpoint_id, str):
        return None
    return {"id": checkpoint_id, "ns": str(configurable.get("checkpoint_ns", ""))}


async def state_get(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    """``state.get``: ``{values, checkpoint?: {id, ns}}`` of the thread (or a subgraph).

    Values are what the ``values`` channel carries (messages in the protocol's shape); a
    thread no run has written yet has ``values: {}`` and no checkpoint.
    """
    namespace = _namespace(params, "state.get")
    keys = params.get("keys")
    if keys is not None and (
        not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)
    ):
        raise _fail("state.get: keys must be an array of strings")
    thread = await _thread(ctx)
    graph = await _stateful_graph(ctx, thread)
    snapshot = await _snapshot(graph, _config(ctx, namespace), namespace)
    values = protocol_state(snapshot.values) if snapshot.created_at is not None else {}
    if keys is not None and isinstance(values, dict):
        values = {key: value for key, value in values.items() if key in keys}
    result: dict[str, Any] = {"values": values}
    if (checkpoint := _checkpoint_ref(snapshot)) is not None:
        result["checkpoint"] = checkpoint
    return result


def _limit(params: Mapping[str, Any]) -> int:
    limit = params.get("limit")
    if limit is None:
        return DEFAULT_CHECKPOINTS
    if not _is_int(limit) or not 1 <= cast(int, limit) <= MAX_CHECKPOINTS:
        raise _fail(f"state.listCheckpoints: limit must be an integer from 1 to {MAX_CHECKPOINTS}")
    return cast(int, limit)


def _node_name(snapshot: StateSnapshot, parents: Mapping[str, StateSnapshot]) -> str | None:
    # The node that produced a loop checkpoint is the one task its parent ran (when one).
    if (snapshot.metadata or {}).get("source") != "loop":
        return None
    parent_id = ((snapshot.parent_config or {}).get("configurable") or {}).get("checkpoint_id")
    parent = parents.get(parent_id) if isinstance(parent_id, str) else None
    names = {task.name for task in parent.tasks} if parent is not None else set()
    return names.pop() if len(names) == 1 else None


def _summary(snapshot: StateSnapshot, parents: Mapping[str, StateSnapshot]) -> dict[str, Any]:
    metadata = dict(snapshot.metadata or {})
    summary: dict[str, Any] = {
        "id": snapshot.config["configurable"]["checkpoint_id"],
        "timestamp": snapshot.created_at,
        "step": metadata.get("step", -1),
        "metadata": protocol_state(metadata),
    }
    if (node := _node_name(snapshot, parents)) is not None:
        summary["node_name"] = node
    return summary


async def list_checkpoints(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    """``state.listCheckpoints``: ``{checkpoints: [{id, timestamp, step, node_name?,
    metadata}]}``, newest first; ``before`` (a checkpoint id) pages back."""
    namespace = _namespace(params, "state.listCheckpoints")
    limit = _limit(params)
    before = params.get("before")
    if before is not None:
        before = _checkpoint_id(before, "state.listCheckpoints (before)")
    thread = await _thread(ctx)
    graph = await _stateful_graph(ctx, thread)
    config = _config(ctx, namespace)
    await _snapshot(graph, config, namespace)  # a namespace naming no subgraph fails here
    before_config = _config(ctx, namespace, checkpoint_id=before) if before else None
    # One more than asked: the oldest one's parent names the node that produced it.
    history = [
        snapshot
        async for snapshot in graph.aget_state_history(
            config, before=before_config, limit=limit + 1
        )
    ]
    parents = {s.config["configurable"]["checkpoint_id"]: s for s in history}
    return {"checkpoints": [_summary(snapshot, parents) for snapshot in history[:limit]]}


# --- starting runs -------------------------------------------------------------------


async def _thread_assistant(ctx: CommandContext, thread: Thread) -> str:
    """The assistant of the thread's runs (each run stamps it on the thread)."""
    assistant = (thread.get("metadata") or {}).get("assistant_id")
    if isinstance(assistant, str) and assistant:
        return assistant
    graph_id = await thread_graph_id(ctx.graphs, ctx.runs.store, ctx.owner, thread)
    if graph_id is None:
        raise ProtocolError(
            "no_such_run", "No run on this thread yet: start one with run.start first"
        )
    return graph_id


async def _run_start(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    start = ctx.streams.handlers.get("run.start")
    if start is None:
        raise ProtocolError("not_supported", "This endpoint starts no runs")
    return await start(ctx, params)


async def state_fork(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    """``state.fork``: a run from checkpoint ``checkpoint_id`` (with ``input`` and
    ``config`` if given), on this thread as LangGraph branches; ``{run_id, thread_id}``."""
    checkpoint_id = _checkpoint_id(params.get("checkpoint_id"), "state.fork")
    config = params.get("config")
    if config is not None and not isinstance(config, dict):
        raise _fail("state.fork: config must be an object")
    configurable = (config or {}).get("configurable", {})
    if not isinstance(configurable, dict):
        raise _fail("state.fork: config.configurable must be an object")
    thread = await _thread(ctx)
    graph = await _stateful_graph(ctx, thread)
    snapshot = await graph.aget_state(_config(ctx, [], checkpoint_id=checkpoint_id))
    if snapshot.created_at is None:
        raise ProtocolError(
            "no_such_checkpoint", f"No checkpoint {checkpoint_id} on thread {ctx.thread_id}"
        )
    run = await _run_start(
        ctx,
        {
            "assistant_id": await _thread_assistant(ctx, thread),
            "input": params.get("input"),
            "config": {
                **(config or {}),
                "configurable": {**configurable, "checkpoint_id": checkpoint_id},
            },
            "multitaskStrategy": run_start_strategy(params),
        },
    )
    return {"run_id": run["run_id"], "thread_id": ctx.thread_id}


def _message(params: Mapping[str, Any]) -> dict[str, Any]:
    message = params.get("message")
    if not isinstance(message, Mapping):
        raise _fail("input.inject requires a message {role, content, name?}")
    role, content, name = message.get("role"), message.get("content"), message.get("name")
    if role not in _INJECT_ROLES:
        raise _fail(f"input.inject: message.role must be user or system, not {role!r}")
    if not isinstance(content, str):
        raise _fail("input.inject: message.content must be a string")
    if name is not None and not isinstance(name, str):
        raise _fail("input.inject: message.name must be a string")
    injected: dict[str, Any] = {"role": role, "content": content}
    if name is not None:
        injected["name"] = name
    return injected


async def input_inject(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    """``input.inject``: the message reaches the thread's agent as its next input.

    With no active run a run starts now; with one, the run waits behind it (LangGraph
    takes input between runs only). Only the root takes input (``namespace: []``), and not
    while the thread waits at an interrupt (that takes ``input.respond``).
    """
    namespace = _namespace(params, "input.inject")
    message = _message(params)
    if namespace:
        raise ProtocolError(
            "not_supported",
            "input.inject takes the root namespace only ([]): a subgraph "
            "gets its input from its parent graph",
        )
    thread = await _thread(ctx)
    if thread["status"] == "interrupted":
        raise _fail("input.inject: the thread waits at an interrupt; answer it with input.respond")
    await _run_start(
        ctx,
        {
            "assistant_id": await _thread_assistant(ctx, thread),
            "input": {"messages": [message]},
            "multitaskStrategy": "enqueue",
        },
    )
    return {}


# --- the agent tree ------------------------------------------------------------------


async def agent_get_tree(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
    """``agent.getTree``: ``{tree}`` of the thread's latest run (``run_id``: that run)."""
    run_id = params.get("run_id")
    if run_id is not None and not isinstance(run_id, str):
        raise _fail("agent.getTree: run_id must be a string")
    await _thread(ctx)
    if run_id is not None:
        await ctx.runs.store.get_run(ctx.owner, ctx.thread_id, run_id)  # RunNotFound
        started = [
            run["run_id"]
            for run in await ctx.runs.store.list_runs(ctx.owner, ctx.thread_id, limit=100)
            if run["status"] != "pending"
        ]
        if not started or started[0] != run_id:
            raise ProtocolError(
                "not_supported",
                f"agent.getTree answers for the thread's latest run only; {run_id} is not it",
            )
    read = await ctx.streams.log.read_after(ctx.thread_id, -1, skip_gaps=True)
    tree = latest_run_tree(event.data for event in read.events)
    if tree is None:
        raise ProtocolError("no_such_run", "No run has started on this thread yet")
    return {"tree": tree}


HANDLERS: Final[Mapping[str, Handler]] = {
    "state.get": state_get,
    "state.listCheckpoints": list_checkpoints,
    "state.fork": state_fork,
    "input.inject": input_inject,
    "agent.getTree": agent_get_tree,
}
"""The handlers of this module by method name, for ``ThreadStreams(handlers=...)``."""
