"""Graphs the e2e tests load through ``LAMBDAGRAPH_GRAPHS``."""

from __future__ import annotations

from typing import Any

from langgraph.graph import START, MessagesState, StateGraph


def _leak(state: MessagesState) -> dict[str, Any]:
    raise RuntimeError("connection to db://admin:hunter2@10.0.0.5 failed")


def failing_graph() -> Any:
    """A graph whose only node fails with internal details in the exception text."""
    builder = StateGraph(MessagesState)
    builder.add_node("leak", _leak)
    builder.add_edge(START, "leak")
    return builder.compile()
