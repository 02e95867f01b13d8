"""Run under ``LANGGRAPH_STRICT_MSGPACK=true`` (read at import): a dataclass and a pydantic
model in graph state must survive interrupt + resume on a fresh saver. Prints ``OK`` or fails.

Usage: ``python -m tests.integration.store._strict_msgpack_run <table> <sync|async>``
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any

import boto3
from langgraph.checkpoint.serde import _msgpack
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt
from pydantic import BaseModel

from lambdagraph.store.checkpoint import AsyncDynamoDBSaver


@dataclass
class Order:
    item: str
    qty: int


class Approval(BaseModel):
    by: str
    ok: bool


@dataclass
class State:
    order: Order
    approval: Approval | None = None


def _approve(state: State) -> dict[str, Any]:
    answer = interrupt({"qty": state.order.qty})
    return {"approval": Approval(by=answer, ok=True)}


def _ship(state: State) -> dict[str, Any]:
    assert isinstance(state.order, Order) and isinstance(state.approval, Approval)
    return {"order": Order(state.order.item, state.order.qty + 1)}


def build(table: str) -> Any:
    builder = StateGraph(State)
    builder.add_node("approve", _approve)
    builder.add_node("ship", _ship)
    builder.add_edge(START, "approve")
    builder.add_edge("approve", "ship")
    builder.add_edge("ship", END)
    return builder.compile(checkpointer=AsyncDynamoDBSaver(table, client=boto3.client("dynamodb")))


async def main(table: str, face: str) -> None:
    assert _msgpack.STRICT_MSGPACK_ENABLED, "run with LANGGRAPH_STRICT_MSGPACK=true"
    config = {"configurable": {"thread_id": f"strict-{face}"}}
    start = State(order=Order("book", 1))
    if face == "sync":
        build(table).invoke(start, config)
        result = build(table).invoke(Command(resume="ana"), config)
        state = build(table).get_state(config).values
    else:
        await build(table).ainvoke(start, config)
        result = await build(table).ainvoke(Command(resume="ana"), config)
        state = (await build(table).aget_state(config)).values
    assert result["order"] == Order("book", 2), result
    assert isinstance(state["approval"], Approval) and state["approval"].by == "ana", state
    assert isinstance(state["order"], Order), state
    print("OK")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
