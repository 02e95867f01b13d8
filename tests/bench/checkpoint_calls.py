"""AWS calls per HITL round trip: lambdagraph's saver next to langgraph-checkpoint-aws 1.2.6.

Run from the repository root::

    python -m tests.bench.checkpoint_calls

Counts the DynamoDB and S3 calls of the 3-node graph in ``_hitl_graph.py`` (durability
"sync"): run to the interrupt with one saver, resume on a fresh saver and client. Both
savers run on the same embedded moto server and a table built from ``template.yaml``.

The peer is never a dependency of lambdagraph: this script installs it, with our exact
``langgraph`` and ``langgraph-checkpoint`` versions, into ``.venv-bench-peer`` and counts
there in a subprocess. If that install fails, it prints why and reports our numbers alone.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import boto3

from lambdagraph.store.checkpoint import DynamoDBSaver
from lambdagraph_client.local.dynamo import embedded_aws, use_fake_credentials
from lambdagraph_client.local.tables import ensure_tables
from tests.bench._hitl_graph import count_hitl_calls
from tests.bench.venvs import ROOT, PeerUnavailable, ensure_venv, runtime_pins

PEER_VENV = ROOT / ".venv-bench-peer"
PEER = "langgraph-checkpoint-aws==1.2.6"
PEER_RUNNER = """
import json, sys
from langgraph_checkpoint_aws import DynamoDBSaver
from tests.bench._hitl_graph import count_hitl_calls
table, thread_id = sys.argv[1], sys.argv[2]
counts = count_hitl_calls(lambda session: DynamoDBSaver(table, session=session), thread_id)
print(json.dumps({"interrupt": counts["interrupt"], "resume": counts["resume"]}))
"""


def ensure_peer_venv() -> Path:
    """The peer's virtualenv python, created and installed on first use."""
    try:
        return ensure_venv(PEER_VENV, [PEER, *runtime_pins()])
    except PeerUnavailable as exc:
        raise RuntimeError(str(exc)) from exc


def count_peer(table: str) -> dict[str, Any]:
    """The peer's counts, measured in its own virtualenv against the same moto server."""
    python = ensure_peer_venv()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [str(python), "-c", PEER_RUNNER, table, f"peer-{uuid.uuid4()}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the peer run failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    """Print both savers' call counts per phase, side by side."""
    use_fake_credentials()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
    with embedded_aws():
        table, bucket = f"bench-{uuid.uuid4().hex[:8]}", f"bench-{uuid.uuid4().hex[:8]}"
        ensure_tables(boto3.client("dynamodb"), {"CheckpointsTable": table})
        boto3.client("s3").create_bucket(Bucket=bucket)
        ours = count_hitl_calls(
            lambda s: DynamoDBSaver(
                table, client=s.client("dynamodb"), bucket=bucket, s3_client=s.client("s3")
            ),
            f"ours-{uuid.uuid4()}",
        )
        try:
            peer: dict[str, Any] | None = count_peer(table)
            why = ""
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            peer, why = None, str(exc)
    print(f"{'phase':<12}{'lambdagraph':>14}{PEER:>34}")
    for phase in ("interrupt", "resume"):
        theirs = sum(peer[phase].values()) if peer else "n/a"
        print(f"{phase:<12}{sum(ours[phase].values()):>14}{theirs:>34}")
    total_peer = sum(sum(peer[p].values()) for p in ("interrupt", "resume")) if peer else "n/a"
    total_ours = sum(sum(ours[p].values()) for p in ("interrupt", "resume"))
    print(f"{'total':<12}{total_ours:>14}{total_peer:>34}")
    for phase in ("interrupt", "resume"):
        print(f"\nours, {phase}: {ours[phase]}")
        if peer:
            print(f"peer, {phase}: {peer[phase]}")
    if peer is None:
        print(f"\nThe peer could not be measured: {why}")


if __name__ == "__main__":
    main()
