"""Measure what a logged run writes: DynamoDB writes per 1,000 streamed tokens.

Runs the demo agent's ``count to 1000`` (one token per chunk, ``messages-tuple``) through the
real executor and :class:`DurableRuns`, checkpointed by ``AsyncDynamoDBSaver``, on an
embedded moto server, for a few model speeds and flush windows, and prints the event log's
BatchWriteItem calls, items and write units per 1,000 tokens, and the write units of the
whole run as its cost meter recorded them (event log, checkpoints, run record:
``lambdagraph.pricing``). Run: ``python -m tests.bench.event_log_writes``.
"""

from __future__ import annotations

import asyncio
import uuid

import boto3

from lambdagraph.agents import GraphRegistry
from lambdagraph.engine.durable import DurableRuns
from lambdagraph.engine.executor import RunExecutor
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore
from lambdagraph.store.checkpoint import AsyncDynamoDBSaver
from lambdagraph.store.events import EventLog
from lambdagraph.store.leases import RunLeases
from lambdagraph_client.local.dynamo import embedded_aws, use_fake_credentials
from lambdagraph_client.local.tables import ensure_tables

TOKENS = 1000


class _NoInvoker:
    async def invoke(self, payload: object) -> None:
        raise AssertionError("no continuation expected")


async def measure(delay_ms: int, flush_ms: int) -> dict[str, float]:
    """Writes per 1,000 tokens for one model speed and flush window."""
    table, checkpoints = f"app-{uuid.uuid4().hex[:8]}", f"checkpoints-{uuid.uuid4().hex[:8]}"
    ensure_tables(boto3.client("dynamodb"), {"AppTable": table, "CheckpointsTable": checkpoints})
    settings = Settings().replace(app_table=table, scripted_delay_ms=delay_ms)
    store = AppStore(table)
    saver = AsyncDynamoDBSaver(checkpoints)
    executor = RunExecutor(store, GraphRegistry.from_settings(settings), saver)
    log = EventLog(table)
    durable = DurableRuns(
        store, executor, log, RunLeases(table), _NoInvoker(), flush_interval=flush_ms / 1000
    )
    thread = await store.create_thread("bench")
    run = await store.create_run(
        "bench",
        thread_id=thread["thread_id"],
        assistant_id="agent",
        kwargs={
            "input": {"messages": [{"role": "user", "content": f"count to {TOKENS}"}]},
            "stream_mode": ["messages-tuple"],
            "stream_resumable": True,
        },
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    await durable.execute_here(run, [])
    seconds = loop.time() - started
    record = await store.get_run("bench", thread["thread_id"], run["run_id"])
    scale = 1000 / TOKENS
    return {
        "tokens_per_s": TOKENS / seconds,
        "requests": log.stats.requests * scale,
        "items": log.stats.items * scale,
        "write_units": log.stats.write_units * scale,
        "events": log.stats.events * scale,
        "run_write_units": record["aws"]["dynamodb_write_units"] * scale,
    }


async def main() -> None:
    print(
        "model ms/token  flush ms  tokens/s  BatchWriteItem  items  WCU  run WCU"
        "  (per 1,000 tokens)"
    )
    for delay_ms in (20, 10, 2):
        for flush_ms in (50, 100):
            r = await measure(delay_ms, flush_ms)
            print(
                f"{delay_ms:>14}  {flush_ms:>8}  {r['tokens_per_s']:>8.0f}  {r['requests']:>14.0f}"
                f"  {r['items']:>5.0f}  {r['write_units']:>4.0f}  {r['run_write_units']:>7.0f}"
            )


if __name__ == "__main__":
    use_fake_credentials()
    with embedded_aws():
        asyncio.run(main())
