"""Section 10: the README's cost table for a ~1,000-token conversation with one approval.

A real local stack (moto DynamoDB) runs the demo agent over SSE: a message asking for an
email (the run stops at its approval), then the approval (the run resumes and ends). Each
run's record (``GET /threads/{tid}/runs/{rid}``) gives its tokens, model cost (the scripted
model's pseudo price, Claude Haiku 4.5's) and AWS use; the table prices that use at the
on-demand prices below (us-east-1). Lambda memory is the template's function size.
Run alone: ``python -m tests.bench.cost_table``.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

import boto3
import httpx

from lambdagraph.settings import Settings
from lambdagraph_client.local.dynamo import embedded_aws, use_fake_credentials
from lambdagraph_client.local.server import running_stack
from lambdagraph_client.local.tables import ensure_tables
from tests.bench.rows import Row, render

SECTION = 11
# On-demand prices, us-east-1, checked 2026-12-02:
# https://aws.amazon.com/dynamodb/pricing/on-demand/ (write/read request units),
# https://aws.amazon.com/api-gateway/pricing/ (WebSocket messages, per 32 KB),
# https://aws.amazon.com/lambda/pricing/ (x86 GB-seconds and requests).
DYNAMODB_WRITE_PER_MILLION = 0.625
DYNAMODB_READ_PER_MILLION = 0.125
WS_MESSAGE_PER_MILLION = 1.00
LAMBDA_GB_SECOND = 0.0000166667
LAMBDA_REQUEST_PER_MILLION = 0.20
PADDING = "Please keep this in mind. " * 70  # ~1,000 tokens of conversation in all


def _memory_mb() -> int:
    template = (Path(__file__).resolve().parents[2] / "template.yaml").read_text()
    found = re.search(r"MemorySize:\s*(\d+)", template)
    return int(found.group(1)) if found else 1024


def conversation() -> list[dict[str, Any]]:
    """The two runs' records (usage, aws) of one approved email conversation."""
    use_fake_credentials()
    suffix = uuid.uuid4().hex[:8]
    with embedded_aws():
        ensure_tables(
            boto3.client("dynamodb"),
            {"CheckpointsTable": f"cp-{suffix}", "AppTable": f"app-{suffix}"},
        )
        settings = Settings(
            app_table=f"app-{suffix}", checkpoint_table=f"cp-{suffix}", scripted_delay_ms=0
        )
        with running_stack(settings=settings) as stack, httpx.Client(
            base_url=stack.url, timeout=60
        ) as http:
            thread = http.post("/threads", json={}).json()["thread_id"]
            text = f"{PADDING} send an email to bob@example.com"
            bodies = [
                {"input": {"messages": [{"role": "user", "content": text}]}},
                {"command": {"resume": {"approved": True}}},
            ]
            records = []
            for body in bodies:
                run = http.post(
                    f"/threads/{thread}/runs/wait", json={"assistant_id": "agent", **body}
                )
                run.raise_for_status()
                listed = http.get(f"/threads/{thread}/runs", params={"limit": 1}).json()
                records.append(listed[0])
            return records


def table(records: list[dict[str, Any]], memory_mb: int) -> list[tuple[str, str, float]]:
    """(line, what the runs did, USD) rows of the cost table."""
    tokens = sum(r["usage"]["total_tokens"] for r in records)
    model = sum(r["usage"]["cost_usd"] for r in records)
    wcu = sum(r["aws"]["dynamodb_write_units"] for r in records)
    rcu = sum(r["aws"]["dynamodb_read_units"] for r in records)
    messages = sum(r["aws"]["websocket_messages"] for r in records)
    seconds = sum(r["aws"]["lambda_seconds"] for r in records)
    gb_s = seconds * memory_mb / 1024
    dynamo = (wcu * DYNAMODB_WRITE_PER_MILLION + rcu * DYNAMODB_READ_PER_MILLION) / 1e6
    lam = gb_s * LAMBDA_GB_SECOND + len(records) * LAMBDA_REQUEST_PER_MILLION / 1e6
    return [
        ("Model (Claude Haiku 4.5 price)", f"{tokens} tokens", model),
        ("DynamoDB on-demand", f"{wcu:g} WRU, {rcu:g} RRU", dynamo),
        ("API Gateway WebSocket", f"{messages} messages (this run: SSE)", messages / 1e6),
        ("Lambda", f"{gb_s:.3f} GB-s at {memory_mb} MB, {len(records)} invocations", lam),
    ]


def measure() -> list[Row]:
    """The cost table's rows, as benchmark rows."""
    rows = table(conversation(), _memory_mb())
    out = [Row(SECTION, f"{line}: {what}", f"${usd:.6f}") for line, what, usd in rows]
    out.append(Row(SECTION, "total per conversation", f"${sum(r[2] for r in rows):.6f}"))
    return out


if __name__ == "__main__":
    os.environ.setdefault("LAMBDAGRAPH_LOG_LEVEL", "WARNING")
    print(render(measure()))
