"""Assistants: each graph's default assistant (visible to every user) and users' own.

As in LangGraph Server, the graph ``agent`` has the default assistant
``uuid5(NAMESPACE_GRAPH, "agent")``, and the graph name works wherever an assistant id is
expected. Default assistants are derived from the graphs, never stored, and read-only (a
change would reach every user); a user's assistants live in :class:`AssistantStore`.

Semantics checked against LangGraph Server (langgraph-api 0.16.7, langgraph-runtime-inmem
0.36.7, with langgraph-sdk 0.4.14): a patch writes a new version (metadata merged into the
current one, other fields replaced when given); ``config.configurable`` and ``context`` mirror
each other and may not both be given; search sorts by ``created_at`` descending unless
``sort_by`` says otherwise, names case-insensitively; versions list newest first; a run
records the assistant id it was given (a graph name becomes its default assistant's id) and
runs with the assistant's config and context under its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal
from uuid import UUID, uuid5

from lambdagraph.errors import AssistantNotFound, BadRequest, Conflict, NotFound
from lambdagraph.store import items
from lambdagraph.store.filters import Filters, matches
from lambdagraph.store.records import (
    ACTIVE_RUN_STATUSES,
    Assistant,
    RunKwargs,
    Thread,
    run_graph_id,
)

if TYPE_CHECKING:
    from lambdagraph.engine.executor import GraphRegistry
    from lambdagraph.store.app import AppStore
    from lambdagraph.store.assistants import AssistantStore

# LangGraph Server's namespace for assistant ids derived from graph names
# (``uuid5(NAMESPACE_GRAPH, graph_id)``), so ids match what its clients already saw.
NAMESPACE_GRAPH: Final = UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")

SortBy = Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"]
_CASE_FREE: Final = frozenset({"name", "graph_id"})
BOTH_CONFIGURABLE_AND_CONTEXT: Final = (
    "Cannot specify both configurable and context. Prefer setting context alone."
)
SYSTEM_READ_ONLY: Final = (
    "Assistant {assistant_id} is the default assistant of graph {graph_id}, shared by every"
    " user: create your own assistant for the graph to change it"
)

# How far deleting an assistant looks for its active runs: the user's busy threads, and the
# newest runs of each (active runs are the newest; a queue longer than this is not served).
_BUSY_THREADS: Final = 1000
_RUNS_PER_THREAD: Final = 100

# Default assistants exist since the process loaded the graphs.
_LOADED_AT: Final = datetime.now(UTC).isoformat()


def assistant_id(graph_id: str) -> str:
    """The assistant id LangGraph Server would give the graph ``graph_id``."""
    return str(uuid5(NAMESPACE_GRAPH, graph_id))


def resolve_graph(graphs: GraphRegistry, assistant: str) -> str:
    """The graph name for a graph name or its default assistant's id.

    Raises:
        AssistantNotFound: no graph has that name or id.
    """
    names = graphs.names()
    if assistant in names:
        return assistant
    for name in names:
        if assistant_id(name) == assistant.lower():
            return name
    raise AssistantNotFound(assistant)


async def thread_graph_id(
    graphs: GraphRegistry, store: AppStore, owner: str, thread: Thread
) -> str | None:
    """The graph a thread's checkpoints belong to: the one its metadata names (``graph_id``,
    stamped by each run) or its latest run's; ``None`` for a thread no graph ran on."""
    names = graphs.names()
    graph_id = (thread.get("metadata") or {}).get("graph_id")
    if isinstance(graph_id, str) and graph_id in names:
        return graph_id
    runs = await store.list_runs(owner, thread["thread_id"], limit=1)
    if runs and run_graph_id(runs[0]) in names:
        return run_graph_id(runs[0])
    return None


def system_assistant(graph_id: str) -> Assistant:
    """The default assistant of a graph, as LangGraph Server registers it."""
    return {
        "assistant_id": assistant_id(graph_id),
        "graph_id": graph_id,
        "name": graph_id,
        "description": None,
        "config": {},
        "context": {},
        "metadata": {"created_by": "system"},
        "version": 1,
        "created_at": _LOADED_AT,
        "updated_at": _LOADED_AT,
        "owner": None,
    }


def contains(metadata: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Postgres' ``@>`` on JSON objects, as LangGraph filters metadata."""
    for key, value in wanted.items():
        if key not in metadata:
            return False
        if isinstance(value, Mapping) and isinstance(metadata[key], Mapping):
            if not contains(metadata[key], value):
                return False
        elif metadata[key] != value:
            return False
    return True


def synced(
    config: dict[str, Any] | None, context: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``config`` and ``context`` kept in step as LangGraph does (``configurable`` is context).

    Raises:
        BadRequest: both ``config.configurable`` and ``context`` are given (400, as
            LangGraph Server answers it).
    """
    configurable = (config or {}).get("configurable")
    if configurable and context:
        raise BadRequest(BOTH_CONFIGURABLE_AND_CONTEXT)
    if configurable:
        return config, dict(configurable)
    if context:
        return {**(config or {}), "configurable": dict(context)}, context
    return config, context


@dataclass(frozen=True)
class Search:
    """What ``POST /assistants/search`` and ``/count`` filter on."""

    graph_id: str | None = None
    name: str | None = None
    metadata: Mapping[str, Any] | None = None
    filters: Filters | None = None

    def admits(self, assistant: Assistant) -> bool:
        """Whether the assistant matches every given criterion."""
        if self.graph_id is not None and assistant["graph_id"] != self.graph_id:
            return False
        if self.name and self.name.lower() not in assistant["name"].lower():
            return False
        if self.metadata and not contains(assistant["metadata"], self.metadata):
            return False
        return matches(assistant["metadata"], self.filters)


class AssistantService:
    """Reads and changes assistants for one deployment's graphs.

    Args:
        graphs: the graphs (each has a default assistant).
        store: users' assistants.
        runs: threads and runs (deleting an assistant cancels its active runs).
    """

    def __init__(self, graphs: GraphRegistry, store: AssistantStore, runs: AppStore) -> None:
        self.graphs = graphs
        self.store = store
        self.runs = runs

    def graph(self, graph_id: str) -> str:
        """``graph_id`` if a graph has that name; ``AssistantNotFound`` (404) else, as
        LangGraph answers an unknown graph."""
        if graph_id not in self.graphs.names():
            raise AssistantNotFound(f"graph {graph_id}")
        return graph_id

    async def get(self, owner: str, assistant: str) -> Assistant:
        """A default assistant (by graph name or id) or the caller's own assistant.

        Raises:
            AssistantNotFound: unknown, another user's, or its graph is no longer served.
        """
        try:
            return system_assistant(resolve_graph(self.graphs, assistant))
        except AssistantNotFound:
            pass
        try:
            canonical = str(UUID(assistant))
        except ValueError:
            raise AssistantNotFound(assistant) from None
        found = await self.store.get(owner, canonical)
        if found["graph_id"] not in self.graphs.names():
            raise AssistantNotFound(assistant)
        return found

    async def own(self, owner: str, assistant: str) -> Assistant:
        """The caller's own assistant, to change (a default one is read-only: ``Conflict``)."""
        found = await self.get(owner, assistant)
        if found["owner"] is None:
            detail = SYSTEM_READ_ONLY.format(
                assistant_id=found["assistant_id"], graph_id=found["graph_id"]
            )
            raise Conflict(detail)
        return found

    async def create(
        self,
        owner: str,
        *,
        graph_id: str,
        assistant_id: str | None = None,
        name: str | None = None,
        description: str | None = None,
        config: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        if_exists: str = "raise",
    ) -> Assistant:
        """Create an assistant owned by ``owner`` (version 1).

        Raises:
            AssistantNotFound: no graph ``graph_id``.
            Conflict: the id is taken (a default assistant's too) and ``if_exists="raise"``.
            BadRequest: both ``config.configurable`` and ``context``.
        """
        config, context = synced(config, context)
        self.graph(graph_id)
        new_id = assistant_id or str(uuid.uuid4())
        if new_id in map(_default_id, self.graphs.names()):
            if if_exists == "do_nothing":
                return await self.get(owner, new_id)
            raise Conflict(f"Assistant {new_id} already exists")
        now = items.now_iso()
        record: Assistant = {
            "assistant_id": new_id,
            "graph_id": graph_id,
            "name": name or "Untitled",
            "description": description,
            "config": config or {},
            "context": context or {},
            "metadata": metadata or {},
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "owner": owner,
        }
        return await self.store.create(record, if_exists=if_exists)

    async def update(
        self,
        owner: str,
        assistant: str,
        *,
        graph_id: str | None = None,
        name: str | None = None,
        description: str | None = None,
        config: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Assistant:
        """A new version of the caller's assistant (metadata merged into the current one).

        Raises:
            AssistantNotFound: unknown or another user's assistant, or unknown ``graph_id``.
            Conflict: a default assistant.
            BadRequest: both ``config.configurable`` and ``context``.
        """
        config, context = synced(config, context)
        if graph_id is not None:
            self.graph(graph_id)
        current = await self.own(owner, assistant)
        changes: dict[str, Any] = {"metadata": {**current["metadata"], **(metadata or {})}}
        given = {"graph_id": graph_id, "name": name, "description": description}
        changes.update({k: v for k, v in given.items() if v is not None})
        if config:
            changes["config"] = config
        if context is not None:
            changes["context"] = context
        return await self.store.update(owner, current["assistant_id"], changes)

    async def search(self, owner: str, search: Search) -> list[Assistant]:
        """Default and the caller's assistants that ``search`` admits, newest first."""
        found = [system_assistant(name) for name in self.graphs.names()]
        names = set(self.graphs.names())
        found += [a for a in await self.store.list_owned(owner) if a["graph_id"] in names]
        return [a for a in found if search.admits(a)]

    async def versions(self, owner: str, assistant: str) -> list[Assistant]:
        """Every version of an assistant, newest first (a default one has one)."""
        found = await self.get(owner, assistant)
        if found["owner"] is None:
            return [found]
        return await self.store.versions(owner, found["assistant_id"])

    async def set_latest(self, owner: str, assistant: str, version: int) -> Assistant:
        """Make an earlier (or later) version current."""
        found = await self.own(owner, assistant)
        return await self.store.set_latest(owner, found["assistant_id"], version)

    async def delete(self, owner: str, assistant: str) -> Assistant:
        """Delete the caller's assistant and its versions, then cancel its active runs (as
        LangGraph Server does); the assistant as it was."""
        found = await self.own(owner, assistant)
        await self.store.delete(owner, found["assistant_id"])
        await self._cancel_runs(owner, found["assistant_id"])
        return found

    async def _cancel_runs(self, owner: str, assistant_id: str) -> None:
        # A thread is busy while any run on it is active (running or queued behind one).
        for thread in await self.runs.search_threads(owner, status="busy", limit=_BUSY_THREADS):
            tid = thread["thread_id"]
            for run in await self.runs.list_runs(owner, tid, limit=_RUNS_PER_THREAD):
                if run["assistant_id"] == assistant_id and run["status"] in ACTIVE_RUN_STATUSES:
                    try:
                        await self.runs.cancel_run(owner, run["thread_id"], run["run_id"])
                    except NotFound:  # ended and erased meanwhile: nothing to cancel
                        continue


def sort_assistants(
    assistants: list[Assistant], sort_by: SortBy | None, sort_order: str | None
) -> list[Assistant]:
    """Ordered as LangGraph orders search results (default: newest first)."""
    key: SortBy = sort_by or "created_at"
    descending = sort_by is None or (sort_order or "desc").lower() != "asc"
    if key in _CASE_FREE:
        return sorted(assistants, key=lambda a: str(a[key]).lower(), reverse=descending)
    return sorted(assistants, key=lambda a: str(a[key]), reverse=descending)


def run_settings(assistant: Assistant, kwargs: RunKwargs) -> RunKwargs:
    """The run's kwargs with the assistant's config and context under the run's own.

    As LangGraph Server merges them: top-level config keys, then ``configurable`` key by key,
    then context key by key; the run's value wins each time.
    """
    config = dict(kwargs.get("config") or {})
    base = assistant["config"]
    merged: dict[str, Any] = {**base, **config}
    configurable = {**(base.get("configurable") or {}), **(config.get("configurable") or {})}
    if configurable:
        merged["configurable"] = configurable
    out: RunKwargs = {**kwargs}
    if merged:
        out["config"] = merged
    context = {**assistant["context"], **(kwargs.get("context") or {})}
    if context:
        out["context"] = context
    return out


def _default_id(graph_id: str) -> str:
    return assistant_id(graph_id)
