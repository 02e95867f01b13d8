"""Call budget: how many DynamoDB/S3 calls a 3-node HITL graph costs (regression guard)."""

from __future__ import annotations

import uuid

import boto3
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from lambdagraph.store.checkpoint import DynamoDBSaver
from tests.bench._hitl_graph import build_graph, count_hitl_calls
from tests.conftest import Tables

# langgraph-checkpoint-aws 1.2.6 needs 19 calls to the interrupt and 20 to resume on this
# graph (tests/bench/checkpoint_calls.py); the budget is a third of that. Exact counts, so
# any extra call fails here.
# Interrupt: get_tuple (Query), input checkpoint (PutItem: no parent, nothing to fence), two
# checkpoints (TransactWriteItems: item + fence), two tasks' writes and the interrupt write
# (UpdateItem: one item holds a task's writes).
TO_INTERRUPT = {
    "dynamodb.Query": 1,
    "dynamodb.PutItem": 1,
    "dynamodb.UpdateItem": 3,
    "dynamodb.TransactWriteItems": 2,
}
# Resume: get_tuple, the resume value, approve's and send's writes (UpdateItem), two
# checkpoints.
TO_RESUME = {"dynamodb.Query": 1, "dynamodb.UpdateItem": 3, "dynamodb.TransactWriteItems": 2}

def test_hitl_call_counts_per_phase(tables: Tables) -> None:
    def make_saver(session: boto3.Session) -> DynamoDBSaver:
        return DynamoDBSaver(
            tables.checkpoints,
            client=session.client("dynamodb"),
            bucket=tables.bucket,
            s3_client=session.client("s3"),
        )

    counts = count_hitl_calls(make_saver, f"budget-{uuid.uuid4()}")

    assert counts["interrupt"] == TO_INTERRUPT
    assert counts["resume"] == TO_RESUME
    assert sum(TO_INTERRUPT.values()) + sum(TO_RESUME.values()) <= (19 + 20) // 3
    memory = InMemorySaver()
    graph, config = build_graph(memory), {"configurable": {"thread_id": "t"}}
    expected = [graph.invoke({"steps": []}, config), graph.invoke(Command(resume="yes"), config)]
    assert counts["outputs"][0]["steps"] == expected[0]["steps"] == ["draft"]
    assert [i.value for i in counts["outputs"][0]["__interrupt__"]] == [
        i.value for i in expected[0]["__interrupt__"]
    ]
    assert counts["outputs"][1] == expected[1]
