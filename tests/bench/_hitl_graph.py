"""The 3-node human-in-the-loop graph and the AWS call counter shared by tests and benchmarks.

Depends only on LangGraph and boto3 (not on lambdagraph), so ``checkpoint_calls.py`` can run
it unchanged in a separate virtualenv against the peer saver ``langgraph-checkpoint-aws``.

The state has two channels, ``steps`` and ``status``; ``draft`` and ``approve`` write both,
``send`` only ``steps``. On this graph the peer needs 19 calls to the interrupt and 20 to
resume, the reference figures of issue 2. (The peer writes an item per changed channel and
per write, so its count follows the state's shape; ours does not: with ``steps`` alone the
peer needs 17 and 18, we still need 7 and 6.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypedDict

import boto3
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, interrupt


class HitlState(TypedDict, total=False):
    """The graph's state: step records and a status."""

    steps: list[str]
    status: str


def _draft(state: HitlState) -> HitlState:
    return {"steps": [*state["steps"], "draft"], "status": "drafted"}


def _approve(state: HitlState) -> HitlState:
    answer = interrupt({"question": "send it?"})
    return {"steps": [*state["steps"], f"approved:{answer}"], "status": "approved"}


def _send(state: HitlState) -> HitlState:
    return {"steps": [*state["steps"], "sent"]}


def build_graph(checkpointer: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any]:
    """draft → approve (``interrupt()``) → send."""
    builder = StateGraph(HitlState)
    builder.add_node("draft", _draft)
    builder.add_node("approve", _approve)
    builder.add_node("send", _send)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "approve")
    builder.add_edge("approve", "send")
    builder.add_edge("send", END)
    return builder.compile(checkpointer=checkpointer)


class CallCounter:
    """Counts AWS API calls made by every client created from ``self.session``.

    A ``before-call`` hook on the session is copied into each client it creates, so nothing
    in the saver under test needs to cooperate.
    """

    def __init__(self) -> None:
        self.session = boto3.Session()
        self.calls: Counter[str] = Counter()
        self.session.events.register("before-call", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def take(self) -> dict[str, int]:
        """The calls counted since the last ``take``, by ``service.Operation``."""
        taken = dict(self.calls)
        self.calls.clear()
        return taken


def count_hitl_calls(
    make_saver: Callable[[boto3.Session], BaseCheckpointSaver[Any]], thread_id: str
) -> dict[str, Any]:
    """Run to the interrupt with one saver, resume on a fresh one; count calls per phase.

    Args:
        make_saver: builds a saver whose AWS clients come from the given session.
        thread_id: a thread id not used before on the table.

    Returns:
        ``{"interrupt": {...}, "resume": {...}, "outputs": [first, second]}`` where each
        phase maps ``service.Operation`` to its call count.
    """
    counter = CallCounter()
    config = {"configurable": {"thread_id": thread_id}}
    first = build_graph(make_saver(counter.session)).invoke(
        {"steps": []}, config, durability="sync"
    )
    to_interrupt = counter.take()
    second = build_graph(make_saver(counter.session)).invoke(
        Command(resume="yes"), config, durability="sync"
    )
    return {"interrupt": to_interrupt, "resume": counter.take(), "outputs": [first, second]}
