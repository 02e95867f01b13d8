"""A graph with long-term memory: a sync node writes the store, an async node reads it.

Served as ``memory`` (:data:`MEMORY_GRAPH`); the input ``{"text": ...}`` is remembered under
``("memories",)``, and the output's ``recalled`` lists every remembered text, so a test sees
what the graph's store holds, through both of the store's faces.
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore

MEMORY_GRAPH = "memory=tests.e2e.store_graphs:memory_graph"
NAMESPACE = ("memories",)


class State(TypedDict, total=False):
    text: str
    recalled: list[str]
    store_type: str


def remember(state: State, *, store: BaseStore) -> dict[str, Any]:
    """Sync node: the blocking face of the store."""
    store.put(NAMESPACE, str(uuid.uuid4()), {"text": state["text"]})
    return {"store_type": type(store).__name__}


async def recall(state: State, *, store: BaseStore) -> dict[str, Any]:
    """Async node: the awaiting face of the store."""
    items = await store.asearch(NAMESPACE, limit=100)
    return {"recalled": sorted(item.value["text"] for item in items)}


def _build() -> Any:
    builder = StateGraph(State)
    builder.add_node("remember", remember)
    builder.add_node("recall", recall)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", "recall")
    builder.add_edge("recall", END)
    return builder.compile()


memory_graph = _build()
