"""Human-in-the-loop scripts shared by ``test_hitl.py`` and ``test_hitl_async.py``.

A scenario builds a graph on a given checkpointer, counting node executions, and a script of
inputs: each step sees the previous output (to answer interrupts by id).
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, Interrupt, interrupt

from tests.bench._hitl_graph import build_graph

Step = Callable[[Any], Any]


class Log(TypedDict):
    """State: an append-only log (a reducer channel)."""

    log: Annotated[list[str], operator.add]


@dataclass
class Scenario:
    """A graph factory plus the inputs to feed it, one invocation each."""

    name: str
    build: Callable[[BaseCheckpointSaver[Any], Counter[str]], Any]
    script: list[Step]
    runs: Counter[str] = field(default_factory=Counter)


def answer_all(prefix: str) -> Step:
    """Resume every pending interrupt, by id, with ``prefix:<its value>``."""
    return lambda out: Command(resume={i.id: f"{prefix}:{i.value}" for i in out["__interrupt__"]})


def _simple(saver: BaseCheckpointSaver[Any], runs: Counter[str]) -> Any:
    return build_graph(saver)


def _subgraph(saver: BaseCheckpointSaver[Any], runs: Counter[str]) -> Any:
    def ask(state: Log) -> Log:
        runs["ask"] += 1
        return {"log": [f"asked:{interrupt('inner?')}"]}

    inner = StateGraph(Log)
    inner.add_node("ask", ask)
    inner.add_node("finish", lambda s: runs.update(["finish"]) or {"log": ["inner-done"]})
    inner.add_edge(START, "ask")
    inner.add_edge("ask", "finish")
    inner.add_edge("finish", END)
    outer = StateGraph(Log)
    outer.add_node("prep", lambda s: runs.update(["prep"]) or {"log": ["prep"]})
    outer.add_node("sub", inner.compile())
    outer.add_node("done", lambda s: runs.update(["done"]) or {"log": ["done"]})
    outer.add_edge(START, "prep")
    outer.add_edge("prep", "sub")
    outer.add_edge("sub", "done")
    outer.add_edge("done", END)
    return outer.compile(checkpointer=saver)


def _parallel(saver: BaseCheckpointSaver[Any], runs: Counter[str]) -> Any:
    def branch(name: str) -> Callable[[Log], Log]:
        def node(state: Log) -> Log:
            runs[name] += 1
            return {"log": [f"{name}:{interrupt(name)}"]}

        return node

    builder = StateGraph(Log)
    builder.add_node("left", branch("left"))
    builder.add_node("right", branch("right"))
    builder.add_node("quick", lambda s: runs.update(["quick"]) or {"log": ["quick"]})
    builder.add_node("join", lambda s: runs.update(["join"]) or {"log": ["join"]})
    for name in ("left", "right", "quick"):
        builder.add_edge(START, name)
    builder.add_edge(["left", "right", "quick"], "join")
    builder.add_edge("join", END)
    return builder.compile(checkpointer=saver)


def _in_a_row(saver: BaseCheckpointSaver[Any], runs: Counter[str]) -> Any:
    def twice(state: Log) -> Log:
        runs["twice"] += 1
        first = interrupt("first?")
        second = interrupt("second?")
        return {"log": [f"twice:{first},{second}"]}

    def once(state: Log) -> Log:
        runs["once"] += 1
        return {"log": [f"once:{interrupt('third?')}"]}

    builder = StateGraph(Log)
    builder.add_node("twice", twice)
    builder.add_node("once", once)
    builder.add_edge(START, "twice")
    builder.add_edge("twice", "once")
    builder.add_edge("once", END)
    return builder.compile(checkpointer=saver)


def scenarios() -> list[Scenario]:
    """Fresh scenarios (fresh execution counters)."""
    return [
        Scenario("simple", _simple, [lambda _: {"steps": []}, lambda _: Command(resume="yes")]),
        Scenario("subgraph", _subgraph, [lambda _: {"log": []}, answer_all("r")]),
        Scenario("parallel", _parallel, [lambda _: {"log": []}, answer_all("r")]),
        Scenario(
            "in_a_row",
            _in_a_row,
            [lambda _: {"log": []}, answer_all("a"), answer_all("b"), answer_all("c")],
        ),
    ]


SCENARIO_NAMES = [s.name for s in scenarios()]


def scenario(name: str) -> Scenario:
    """A fresh scenario by name."""
    return next(s for s in scenarios() if s.name == name)


def comparable(output: Any) -> Any:
    """An output with interrupts reduced to their values (ids hash run-specific task ids)."""
    if isinstance(output, dict):
        return {k: comparable(v) for k, v in output.items()}
    if isinstance(output, list):
        return (
            sorted(map(comparable, output), key=repr)
            if output and isinstance(output[0], Interrupt)
            else [comparable(v) for v in output]
        )
    if isinstance(output, Interrupt):
        return ("interrupt", output.value)
    return output
