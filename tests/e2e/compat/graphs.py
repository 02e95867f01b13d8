"""The graphs the compatibility suite serves on both servers, next to the demo ``agent``.

Plain LangGraph (no lambdagraph import), so ``langgraph dev`` loads them unchanged.

* ``nested``: ``start`` → ``inner`` (a compiled subgraph with one node ``step``); each node
  writes ``trail`` plus its own mark, ``start`` with the run's ``configurable["tag"]`` so a
  test sees an assistant's config reach its runs. ``trail`` has no reducer: the subgraph
  hands back its whole state, which would otherwise be appended twice.
* ``slow``: one node that sleeps ``seconds`` (default 20) in short, cancellable naps, so a
  run is reliably still going when a test cancels it.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph


class Trail(TypedDict, total=False):
    """What ``nested`` and its subgraph write: the nodes that ran, in order."""

    trail: list[str]


def _start(state: Trail, config: RunnableConfig) -> dict[str, Any]:
    tag = (config.get("configurable") or {}).get("tag", "-")
    return {"trail": [*state.get("trail", []), f"start:{tag}"]}


def _step(state: Trail) -> dict[str, Any]:
    return {"trail": [*state.get("trail", []), "step"]}


_inner = StateGraph(Trail)
_inner.add_node("step", _step)
_inner.add_edge(START, "step")

_outer = StateGraph(Trail)
_outer.add_node("start", _start)
_outer.add_node("inner", _inner.compile(name="inner"))
_outer.add_edge(START, "start")
_outer.add_edge("start", "inner")
nested = _outer.compile(name="nested")


class Nap(TypedDict, total=False):
    """``slow``'s state: how long to sleep, and whether it woke up."""

    seconds: float
    woke: bool


async def _nap(state: Nap) -> dict[str, Any]:
    end = asyncio.get_running_loop().time() + state.get("seconds", 20.0)
    while asyncio.get_running_loop().time() < end:
        await asyncio.sleep(0.05)
    return {"woke": True}


_slow = StateGraph(Nap)
_slow.add_node("nap", _nap)
_slow.add_edge(START, "nap")
slow = _slow.compile(name="slow")
