"""Pending writes: LangGraph's order and upsert rules, batched atomic storage, format 1."""

from __future__ import annotations

import asyncio
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


class Steps(TypedDict):
    total: int
    done: Annotated[list[int], operator.add]


def _steps_graph(saver: Any, *, pause: bool) -> Any:
    """``step`` appends its number to ``done`` and loops back through a conditional edge
    (pausing before each step when ``pause``)."""
    builder = StateGraph(Steps)
    builder.add_node("step", lambda s: {"done": [len(s["done"])]})
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", lambda s: END if len(s["done"]) >= s["total"] else "step")
    return builder.compile(checkpointer=saver, interrupt_before=["step"] if pause else None)


async def test_a_task_cancelled_between_its_writes_runs_again_on_resume(
    saver: AsyncDynamoDBSaver,
) -> None:
    # A run's time limit can cut a task after the node wrote `done` and before its
    # conditional edge wrote where to go next: LangGraph then saves both that write and the
    # CancelledError. The next run must execute the step again, not end the thread there.
    graph = _steps_graph(saver, pause=True)
    config = {"configurable": {"thread_id": "cut"}}
    await graph.ainvoke({"total": 3, "done": []}, config)  # paused before step 0
    await graph.ainvoke(None, config)  # step 0 done, paused before step 1
    state = await graph.aget_state(config)
    (task,) = state.tasks
    await saver.aput_writes(
        state.config, [("done", [1]), (ERROR, asyncio.CancelledError())], task.id, "~step"
    )

    cut = await graph.aget_state(config)
    assert cut.values["done"] == [0] and cut.next == ("step",)
    result = await _steps_graph(saver, pause=False).ainvoke(None, config)
    assert result["done"] == [0, 1, 2]


def test_a_task_that_failed_keeps_its_partial_writes_as_langgraph_does(
    saver: AsyncDynamoDBSaver,
) -> None:
    # Only a cancellation (which the run, not the graph, caused) drops a task's output.
    config = _checkpoint(saver, "failed")
    saver.put_writes(config, [("x", 1), (ERROR, ValueError("boom"))], "t")
    pending = saver.get_tuple(config).pending_writes  # type: ignore[union-attr]
    assert sorted(c for _, c, _ in pending) == sorted(["x", ERROR])
