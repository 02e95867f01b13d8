"""Item 4: DynamoDB calls, write and read units per human-in-the-loop cycle, ours vs the peer.

Reuses ``checkpoint_calls``: the 3-node graph of ``_hitl_graph`` (``durability="sync"``) runs
to its interrupt with one saver and resumes on a fresh one, on the same moto server and
table; ``langgraph-checkpoint-aws`` 1.2.6 runs in its own virtualenv. Units come from
``capacity_units`` (computed from the items sent and returned by DynamoDB's rules; moto does
not bill). A logged durable run (``event_log_writes``) is measured alongside: its event-log
writes and all its write units per 1,000 streamed tokens, against one write per event.
Run alone: ``python -m tests.bench.dynamo_costs``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import uuid
from typing import Any

import boto3

from lambdagraph.store.checkpoint import DynamoDBSaver
from lambdagraph_client.local.dynamo import embedded_aws, use_fake_credentials
from lambdagraph_client.local.tables import ensure_tables
from tests.bench import event_log_writes
from tests.bench._hitl_graph import count_hitl_calls
from tests.bench.capacity_units import UnitCounter
from tests.bench.checkpoint_calls import PEER, ensure_peer_venv
from tests.bench.rows import Row, render
from tests.bench.venvs import ROOT

LOG_DELAY_MS = 20
LOG_FLUSH_MS = 100
_PEER_RUNNER = """
import json, sys
from langgraph_checkpoint_aws import DynamoDBSaver
from tests.bench._hitl_graph import count_hitl_calls
from tests.bench.capacity_units import UnitCounter
units = UnitCounter()
table, thread_id = sys.argv[1], sys.argv[2]
counts = count_hitl_calls(lambda s: DynamoDBSaver(table, session=units.watch(s)), thread_id)
print(json.dumps({"interrupt": counts["interrupt"], "resume": counts["resume"],
                  "write_units": units.write_units, "read_units": units.read_units}))
"""


# (key, figure, goal, largest ratio that meets it): calls no worse than today (a third of the
# peer's), units no more than the peer's.
_HITL_FIGURES = (
    ("calls", "DynamoDB calls", "≤ 1/3", 1 / 3),
    ("write_units", "DynamoDB write units", "≤ 1", 1.0),
    ("read_units", "DynamoDB read units", "≤ 1", 1.0),
)


def _number(value: float) -> str:
    return f"{value:g}"


def _dynamodb_calls(counts: dict[str, Any]) -> int:
    return sum(
        n for phase in ("interrupt", "resume") for op, n in counts[phase].items()
        if op.startswith("dynamodb.")
    )


def measure_ours(table: str, bucket: str) -> dict[str, float]:
    """Our saver's DynamoDB calls, write and read units for one cycle."""
    units = UnitCounter()

    def saver(session: boto3.Session) -> DynamoDBSaver:
        units.watch(session)
        return DynamoDBSaver(
            table, client=session.client("dynamodb"), bucket=bucket,
            s3_client=session.client("s3"),
        )

    counts = count_hitl_calls(saver, f"ours-{uuid.uuid4()}")
    return {
        "calls": _dynamodb_calls(counts), "write_units": units.write_units,
        "read_units": units.read_units,
    }


def measure_peer(table: str) -> dict[str, float]:
    """The peer's, in its own virtualenv against the same moto server."""
    python = ensure_peer_venv()
    result = subprocess.run(
        [str(python), "-c", _PEER_RUNNER, table, f"peer-{uuid.uuid4()}"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'lambdagraph'}"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"the peer run failed:\n{result.stderr[-2000:]}")
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "calls": _dynamodb_calls(counts), "write_units": counts["write_units"],
        "read_units": counts["read_units"],
    }


def measure() -> list[Row]:
    """Item 4 rows."""
    use_fake_credentials()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with embedded_aws():
        table, bucket = f"hitl-{uuid.uuid4().hex[:8]}", f"hitl-{uuid.uuid4().hex[:8]}"
        ensure_tables(boto3.client("dynamodb"), {"CheckpointsTable": table})
        boto3.client("s3").create_bucket(Bucket=bucket)
        ours = measure_ours(table, bucket)
        try:
            peer: dict[str, float] | None = measure_peer(table)
            why = ""
        except RuntimeError as exc:
            peer, why = None, str(exc).splitlines()[0]
        log = asyncio.run(event_log_writes.measure(LOG_DELAY_MS, LOG_FLUSH_MS))
    rows = []
    for key, label, goal, bound in _HITL_FIGURES:
        figure = f"{label} per HITL cycle (interrupt + resume)"
        if peer is None:
            rows.append(Row(4, figure, _number(ours[key]), f"{PEER}: not measured ({why})"))
            continue
        ratio = ours[key] / peer[key]
        rows.append(Row(4, figure, _number(ours[key]), f"{PEER}: {_number(peer[key])}", ratio,
                        goal, ratio <= bound + 1e-9))
    tokens = f"resumable run, {LOG_DELAY_MS} ms/token model, {LOG_FLUSH_MS} ms flush"
    rows.append(
        Row(4, f"event-log writes per 1,000 tokens ({tokens})",
            f"{log['requests']:.0f} ({log['write_units']:.0f} write units)",
            f"one write per event: {log['events']:.0f}", log["requests"] / log["events"])
    )
    rows.append(
        Row(4, "DynamoDB write units per 1,000 tokens, the same logged run (event log, "
               "checkpoints, run record; its cost meter)", f"{log['run_write_units']:.0f}",
            f"one write per event: {log['events']:.0f}", log["run_write_units"] / log["events"])
    )
    return rows


if __name__ == "__main__":
    print(render(measure()))
