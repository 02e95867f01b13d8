"""Item 3: cold start of the ``stream`` function (its sizes and memory: ``footprint``, item 12).

A fresh Python process imports the ``stream`` function's app (``functions/stream/app.py``;
where that file is absent, the same three lines over ``build_http_app``) and serves
its first request: one streamed run of the demo graph (``POST /runs/stream``, ``hello
there``) through the ASGI interface, to the end of the stream, DynamoDB (a moto server in
another process) included. The naive variant is the same app in a process that imports, up
front, every dependency the deployed function may need (``langchain_aws`` for Bedrock, PyJWT,
Mangum, the WebSocket and worker modules), creates its boto3 clients and compiles its graphs
before the first request, as a module-level Lambda handler commonly does.
Run alone: ``python -m tests.bench.cold_start``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import uuid

import boto3

from lambdagraph_client.local.dynamo import embedded_aws, use_fake_credentials
from lambdagraph_client.local.tables import ensure_tables
from tests.bench.rows import Row, ms, render
from tests.bench.targets import _bench_env
from tests.bench.venvs import ROOT

RUNS = 5
STREAM_APP = ROOT / "functions" / "stream" / "app.py"

# What runs in the fresh process. argv: variant, the parent's clock at spawn.
_CHILD = r'''
import sys, time
variant, spawned = sys.argv[1], float(sys.argv[2])
if variant == "naive":
    import boto3, jwt, langchain_aws, mangum, yaml
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from langchain_aws import ChatBedrockConverse
    import lambdagraph.engine.worker, lambdagraph.ws.api, lambdagraph.ws.fanout
    import lambdagraph.auth, lambdagraph.store.checkpoint, lambdagraph.agents
    clients = [boto3.client(name) for name in ("dynamodb", "s3", "lambda")]
import importlib.util, os
path = os.environ["BENCH_STREAM_APP"]
if os.path.exists(path):
    spec = importlib.util.spec_from_file_location("stream_app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.app
else:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
    from lambdagraph.wiring import build_http_app
    from lambdagraph.settings import Settings
    settings = Settings.from_env()
    logger = Logger(service="lambdagraph-stream", level=settings.log_level)
    copy_config_to_registered_loggers(source_logger=logger, include={"lambdagraph"})
    app = build_http_app(settings)
if variant == "naive":
    app.state.context.graphs.load_all()
imported = time.time()

import asyncio, json
body = json.dumps({"assistant_id": "agent", "stream_mode": ["messages-tuple"],
                   "input": {"messages": [{"role": "user", "content": "hello there"}]}}).encode()

async def first_request():
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/runs/stream",
             "raw_path": b"/runs/stream",
             "root_path": "", "query_string": b"", "server": ("127.0.0.1", 8000),
             "client": ("127.0.0.1", 50000),
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode()), (b"host", b"bench")]}
    sent, done = [], asyncio.Event()
    async def receive():
        if not sent:
            sent.append(True)
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}
    chunks = []
    async def send(message):
        if message["type"] == "http.response.start":
            chunks.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()
    await app(scope, receive, send)
    return chunks

chunks = asyncio.run(first_request())
served = time.time()
text = b"".join(c for c in chunks[1:]).decode()
assert chunks[0] == 200 and "event: messages" in text, (chunks[0], text[:300])
print(json.dumps({"import": imported - spawned, "total": served - spawned}))
'''


def _child_env(app_table: str, checkpoint_table: str) -> dict[str, str]:
    return _bench_env(
        BENCH_STREAM_APP=str(STREAM_APP),
        LAMBDAGRAPH_APP_TABLE=app_table,
        LAMBDAGRAPH_CHECKPOINT_TABLE=checkpoint_table,
        LAMBDAGRAPH_SCRIPTED_DELAY_MS="0",
        LAMBDAGRAPH_LOG_LEVEL="WARNING",
        POWERTOOLS_TRACE_DISABLED="1",
        POWERTOOLS_METRICS_NAMESPACE="bench",
    )


def _one(variant: str, env: dict[str, str]) -> dict[str, float]:
    spawned = time.time()
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, variant, repr(spawned)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{variant} cold start failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure_cold_start(runs: int = RUNS) -> dict[str, dict[str, float]]:
    """Median seconds to import and to the end of the first response, per variant."""
    use_fake_credentials()
    with embedded_aws():
        suffix = uuid.uuid4().hex[:8]
        tables = {"AppTable": f"cold-app-{suffix}", "CheckpointsTable": f"cold-cp-{suffix}"}
        ensure_tables(boto3.client("dynamodb"), tables)
        env = _child_env(tables["AppTable"], tables["CheckpointsTable"])
        _one("ours", env)  # the first ever run also compiles bytecode; don't count it
        samples: dict[str, list[dict[str, float]]] = {"ours": [], "naive": []}
        for _ in range(runs):
            for variant in ("ours", "naive"):  # interleaved: drift hits both alike
                samples[variant].append(_one(variant, env))
    return {
        variant: {key: statistics.median(s[key] for s in values) for key in ("import", "total")}
        for variant, values in samples.items()
    }


def measure() -> list[Row]:
    """Item 3 rows."""
    figures = measure_cold_start()
    ours, naive = figures["ours"], figures["naive"]
    ratio = ours["total"] / naive["total"]
    return [
        Row(3, f"cold start: fresh process → first streamed run served (median of {RUNS})",
            f"{ms(ours['total'])} (imports {ms(ours['import'])})",
            f"naive eager imports: {ms(naive['total'])} (imports {ms(naive['import'])})",
            ratio, "≤ 0.6", ratio <= 0.6),
    ]


if __name__ == "__main__":
    print(render(measure()))
