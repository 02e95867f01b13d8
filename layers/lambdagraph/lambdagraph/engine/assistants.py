"""Assistant ids: every transport accepts a graph name or the id LangGraph Server gives it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from uuid import UUID, uuid5

from lambdagraph.errors import AssistantNotFound

if TYPE_CHECKING:
    from lambdagraph.engine.executor import GraphRegistry

# LangGraph Server's namespace for assistant ids derived from graph names
# (``uuid5(NAMESPACE_GRAPH, graph_id)``), so ids match what its clients already saw.
NAMESPACE_GRAPH: Final = UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def assistant_id(graph_id: str) -> str:
    """The assistant id LangGraph Server would give the graph ``graph_id``."""
    return str(uuid5(NAMESPACE_GRAPH, graph_id))


def resolve_graph(graphs: GraphRegistry, assistant: str) -> str:
    """The graph name for a graph name or its assistant id.

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
