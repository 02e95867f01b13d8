"""A graph of many supersteps for the durable-run tests (loaded via ``LAMBDAGRAPH_GRAPHS``).

``steps``: each superstep takes ``STEP_SECONDS`` (a stand-in for a model call), writes one
custom event and appends its number to ``done``, until ``total`` steps (input) are done.
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

STEP_SECONDS = 0.12


class StepsState(TypedDict):
    total: int
    done: Annotated[list[int], operator.add]


async def step(state: StepsState) -> dict[str, Any]:
    number = len(state.get("done") or [])
    await asyncio.sleep(STEP_SECONDS)
    get_stream_writer()({"step": number})
    return {"done": [number]}


def _next(state: StepsState) -> str:
    return END if len(state["done"]) >= state["total"] else "step"


_builder = StateGraph(StepsState)
_builder.add_node("step", step)
_builder.add_edge(START, "step")
_builder.add_conditional_edges("step", _next)
steps_graph = _builder.compile()
