"""Pending writes: LangGraph's order and upsert rules, batched atomic storage, format 1."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import boto3
from langgraph.checkpoint.base import ERROR, INTERRUPT, RESUME, empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from lambdagraph.store.checkpoint import AsyncDynamoDBSaver, DynamoDBSaver
from tests.bench._hitl_graph import CallCounter
from tests.conftest import Tables


def _checkpoint(saver: DynamoDBSaver, thread_id: str) -> dict[str, Any]:
    config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
    return saver.put(config, empty_checkpoint(), {"source": "input", "step": -1}, {})  # type: ignore[arg-type]


def test_writes_come_back_in_task_path_task_id_idx_order(saver: AsyncDynamoDBSaver) -> None:
    config = _checkpoint(saver, "order")
    saver.put_writes(config, [("log", i) for i in range(12)], "task-b", "~b")
    saver.put_writes(config, [("log", "z0"), ("log", "z1")], "task-a", "~z")
    saver.put_writes(config, [("log", "a0")], "task-c", "~a")

    pending = saver.get_tuple(config).pending_writes  # type: ignore[union-attr]

    assert [w[2] for w in pending] == ["a0", *range(12), "z0", "z1"]  # 10 after 2, not before


def test_special_writes_replace_regular_writes_stay(saver: AsyncDynamoDBSaver) -> None:
    config = _checkpoint(saver, "upsert")
    saver.put_writes(config, [("x", "first"), (INTERRUPT, "i1")], "t")
    saver.put_writes(config, [("x", "second"), (INTERRUPT, "i2"), (RESUME, "r")], "t")
    saver.put_writes(config, [(ERROR, "boom")], "t")

    pending = saver.get_tuple(config).pending_writes  # type: ignore[union-attr]

    memory = InMemorySaver()
    mconfig = memory.put(config, {**saver.get_tuple(config).checkpoint}, {}, {})  # type: ignore[union-attr]
    memory.put_writes(mconfig, [("x", "first"), (INTERRUPT, "i1")], "t")
    memory.put_writes(mconfig, [("x", "second"), (INTERRUPT, "i2"), (RESUME, "r")], "t")
    memory.put_writes(mconfig, [(ERROR, "boom")], "t")
    assert pending == memory.get_tuple(mconfig).pending_writes  # type: ignore[union-attr]
    assert sorted((c, v) for _, c, v in pending) == sorted(
        [("x", "first"), (INTERRUPT, "i2"), (RESUME, "r"), (ERROR, "boom")]
    )


def test_put_writes_is_one_item_per_64_writes_and_one_call(tables: Tables) -> None:
    counter = CallCounter()
    saver = DynamoDBSaver(tables.checkpoints, client=counter.session.client("dynamodb"))
    config = _checkpoint(saver, "batch")
    counter.take()

    saver.put_writes(config, [("log", i) for i in range(30)], "t1")
    assert counter.take() == {"dynamodb.UpdateItem": 1}
    saver.put_writes(config, [("log", i) for i in range(150)], "t2")
    assert counter.take() == {"dynamodb.TransactWriteItems": 1}  # 3 items, all or nothing
    saver.put_writes(config, [("log", -i) for i in range(30)], "t1")  # a retry: all kept
    assert counter.take() == {"dynamodb.UpdateItem": 1}

    pending = saver.get_tuple(config).pending_writes  # type: ignore[union-attr]
    assert [(t, v) for t, _, v in pending] == [("t1", i) for i in range(30)] + [
        ("t2", i) for i in range(150)
    ]


class Log(TypedDict):
    log: Annotated[list[Any], operator.add]


def _fan_graph(saver: Any) -> Any:
    builder = StateGraph(Log)
    builder.add_node("fan", lambda s: [Command(update={"log": [i]}) for i in range(12)])
    builder.add_node("ask", lambda s: {"log": [f"ask:{interrupt('q')}"]})
    builder.add_edge(START, "fan")
    builder.add_edge(START, "ask")
    builder.add_edge("fan", END)
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)


async def test_many_writes_to_a_reducer_channel_restore_in_order_on_resume(tables: Tables) -> None:
    config = {"configurable": {"thread_id": "fan"}}
    memory = _fan_graph(InMemorySaver())
    await memory.ainvoke({"log": []}, config)
    expected = await memory.ainvoke(Command(resume="y"), config)

    def fresh() -> Any:
        return _fan_graph(AsyncDynamoDBSaver(tables.checkpoints, client=boto3.client("dynamodb")))

    await fresh().ainvoke({"log": []}, config)
    resumed = await fresh().ainvoke(Command(resume="y"), config)

    assert resumed == expected
    assert resumed["log"] == ["ask:y", *range(12)]
