"""Graphs the assistant tests serve: one that reports its config and context, one nested."""

from __future__ import annotations

from typing import Any

from langgraph.config import get_config
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict


class Seen(TypedDict, total=False):
    """What the ``reporter`` graph saw of its run."""

    topic: str
    context: dict[str, Any]
    settings: dict[str, Any]


class Context(TypedDict, total=False):
    tone: str
    language: str


_RUNTIME_KEYS = ("tone", "language", "model", "assistant_id", "graph_id")


def _report(state: Seen, runtime: Runtime[Context]) -> Seen:
    configurable = get_config().get("configurable") or {}
    return {
        "context": dict(runtime.context or {}),
        "settings": {k: configurable[k] for k in _RUNTIME_KEYS if k in configurable},
    }


def reporter_graph() -> Any:
    """One node that writes the run's context and chosen configurable keys to the state."""
    builder = StateGraph(Seen, context_schema=Context)
    builder.add_node("report", _report)
    builder.add_edge(START, "report")
    return builder.compile()


class Counter(TypedDict):
    count: int


def _bump(state: Counter) -> Counter:
    return {"count": state["count"] + 1}


def _chain(node: str, inner: Any = None) -> Any:
    builder = StateGraph(Counter)
    builder.add_node(node, inner if inner is not None else _bump)
    builder.add_edge(START, node)
    return builder.compile()


def nested_graph() -> Any:
    """``outer`` → subgraph ``middle`` → subgraph ``inner`` (three levels)."""
    return _chain("middle", _chain("inner", _chain("leaf")))
