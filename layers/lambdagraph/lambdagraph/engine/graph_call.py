"""What a run asks of the graph: its input, its config, and the chunks its stream yields.

The executor (:mod:`lambdagraph.engine.executor`) owns the run's lifecycle; this module only
translates a recorded run into LangGraph's calling conventions and back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from langgraph.types import Command, Send

from lambdagraph.engine.chunks import ChunkMapper
from lambdagraph.store.records import Run, RunKwargs, run_graph_id

if TYPE_CHECKING:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.runnables import RunnableConfig
    from langgraph.pregel import Pregel
    from langgraph.runtime import RunControl

# Keys of a checkpoint reference that reach the saver as DynamoDB key strings: anything but a
# string there fails deep inside it (a 500, or a failed run) instead of as bad input. The
# thread_id of a reference is always replaced by the run's or the route's.
_CHECKPOINT_KEYS = ("checkpoint_ns", "checkpoint_id")

# LangGraph tags its internal runnables (channel writes, branch routing) with this so tracers
# hide them; the ``events`` stream skips them too.
_HIDDEN_TAG = "langsmith:hidden"


async def graph_chunks(
    graph: Pregel[Any, Any, Any, Any],
    graph_input: Any,
    config: RunnableConfig,
    mapper: ChunkMapper,
    kwargs: RunKwargs,
    control: RunControl | None = None,
) -> AsyncIterator[tuple[tuple[str, ...], str, Any]]:
    """``(namespace, mode, chunk)`` from ``astream`` (or ``astream_events`` for ``events``).

    Args:
        graph: the compiled graph, bound to its checkpointer for a stateful run.
        graph_input: what :func:`graph_input` made of the run's kwargs.
        config: what :func:`run_config` made of the run.
        mapper: the run's chunk mapper (which modes to ask the graph for).
        kwargs: the run's kwargs (subgraphs, interrupts, context, durability).
        control: lets the caller drain the graph at a superstep boundary.
    """
    subgraphs = bool(kwargs.get("stream_subgraphs"))
    options: dict[str, Any] = {
        "stream_mode": mapper.graph_modes,
        "subgraphs": subgraphs,
        "interrupt_before": kwargs.get("interrupt_before"),
        "interrupt_after": kwargs.get("interrupt_after"),
    }
    if kwargs.get("context") is not None:
        options["context"] = kwargs["context"]
    if kwargs.get("durability"):
        options["durability"] = kwargs["durability"]
    if control is not None:
        options["control"] = control
    if "events" not in mapper.requested:
        async for item in graph.astream(graph_input, config, **options):
            yield _split(item, subgraphs)
        return
    root = str(config["run_id"])
    async for event in graph.astream_events(graph_input, config, version="v2", **options):
        if _HIDDEN_TAG in (event.get("tags") or ()):
            continue
        if event["event"] == "on_chain_stream" and event["run_id"] == root:
            yield _split(event["data"]["chunk"], subgraphs)
        else:
            yield (), "events", event


def _split(item: Any, subgraphs: bool) -> tuple[tuple[str, ...], str, Any]:
    if subgraphs:
        ns, mode, chunk = item
        return tuple(ns), mode, chunk
    mode, chunk = item
    return (), mode, chunk


def run_config(run: Run, callbacks: BaseCallbackHandler) -> RunnableConfig:
    """The graph config: the client's, with our thread/run ids and the run's ``callbacks``
    (its :class:`~lambdagraph.engine.run_callbacks.RunCallbacks`) taking priority."""
    kwargs = run["kwargs"]
    config: dict[str, Any] = dict(kwargs.get("config") or {})
    ids = {
        "thread_id": run["thread_id"],
        "run_id": run["run_id"],
        "assistant_id": run["assistant_id"],
        "graph_id": run_graph_id(run),
    }
    configurable = {**(config.get("configurable") or {}), **ids}
    if kwargs.get("checkpoint_id"):
        configurable["checkpoint_id"] = kwargs["checkpoint_id"]
    config["configurable"] = configurable
    metadata = {**(config.get("metadata") or {}), **run["metadata"], **ids, "run_attempt": 1}
    config["metadata"] = metadata
    config["callbacks"] = [callbacks]
    config["run_id"] = uuid.UUID(run["run_id"])
    return cast("RunnableConfig", config)


def graph_input(kwargs: RunKwargs) -> Any:
    """The graph input: a ``Command`` when the request resumes or redirects, else ``input``."""
    command = kwargs.get("command")
    if not command:
        return kwargs.get("input")
    goto = command.get("goto")
    if goto is not None and not isinstance(goto, list):
        goto = [goto]
    update = command.get("update")
    if isinstance(update, list) and all(
        isinstance(t, (list, tuple)) and len(t) == 2 and isinstance(t[0], str) for t in update
    ):
        update = [tuple(t) for t in update]
    return Command(
        update=update,
        goto=[g if isinstance(g, str) else Send(g["node"], g["input"]) for g in goto or ()],
        resume=command.get("resume"),
    )


def check_checkpoint_ref(ref: Mapping[str, Any] | None) -> None:
    """Check a checkpoint reference (``{"checkpoint_id", "checkpoint_ns", ...}``) from a client.

    Raises:
        ValueError: one of its key fields is present but not a string.
    """
    for key in _CHECKPOINT_KEYS:
        if ref is not None and ref.get(key) is not None and not isinstance(ref[key], str):
            raise ValueError(f"{key} must be a string")


def check_config(config: Mapping[str, Any] | None) -> None:
    """Check the parts of a client's run ``config`` that reach the saver.

    Raises:
        ValueError: ``configurable`` is not an object or holds a bad checkpoint reference.
    """
    configurable = (config or {}).get("configurable")
    if configurable is not None and not isinstance(configurable, Mapping):
        raise ValueError("configurable must be an object")
    try:
        check_checkpoint_ref(configurable)
    except ValueError as exc:
        raise ValueError(f"configurable.{exc}") from None


def check_goto(goto: Any) -> None:
    """Check a ``Command``'s ``goto`` as :func:`graph_input` reads it.

    Raises:
        ValueError: not a node name, a ``{"node", "input"}`` send, or a list of them.
    """
    if goto == []:
        raise ValueError("must name at least one node")
    for target in goto if isinstance(goto, list) else [] if goto is None else [goto]:
        if isinstance(target, str):
            continue
        if isinstance(target, dict) and isinstance(target.get("node"), str) and "input" in target:
            continue
        raise ValueError('must be a node name, a {"node", "input"} send, or a list of them')
