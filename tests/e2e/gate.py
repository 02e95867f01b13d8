"""A graph whose run stays ``running`` until a test opens the gate (``LAMBDAGRAPH_GRAPHS``).

The local stack runs in the test's process, so its graph and the test share :data:`GATE`:
a run of ``gate`` is live for exactly as long as the test needs, however loaded the machine.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Final

from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph

GATE: Final = threading.Event()
RELEASED: Final = "the gate opened"
GATE_GRAPH: Final = "gate=tests.e2e.gate:gated_graph"
"""The ``graphs`` setting that serves it as the assistant ``gate``."""

_LONGEST_WAIT = 60.0  # a test that fails before opening the gate must not hang the stack


async def _wait_at_gate(state: MessagesState) -> dict[str, Any]:
    opened = await asyncio.to_thread(GATE.wait, _LONGEST_WAIT)
    return {"messages": [AIMessage(RELEASED if opened else "the gate stayed shut")]}


_builder = StateGraph(MessagesState)
_builder.add_node("gate", _wait_at_gate)
_builder.add_edge(START, "gate")
gated_graph = _builder.compile()
