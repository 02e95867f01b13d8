"""What one fresh process of the cold-start benchmark runs (``cold_start.py`` spawns it).

``python tests/bench/cold_child.py FUNCTION VARIANT SPAWNED [PAYLOAD]``: import
``functions/FUNCTION/app.py`` as Lambda's init phase does, then serve the function's first
request, and print one JSON line of seconds since ``SPAWNED`` (the parent's clock when it
started this process) and of this process's CPU time. Run as a script, not as part of the
``tests`` package: nothing but the function's own imports may load before it.

* ``stream``: one streamed run of the demo graph, ``POST /runs/stream`` through ASGI to the
  end of the stream (what the Lambda Web Adapter forwards to uvicorn).
* ``ws``: what a mobile client's first message costs a cold instance: ``$connect`` (the
  authorizer's context as API Gateway passes it) and then a ``run`` action on a new thread,
  which records the run, posts ``run.accepted`` to the connection and invokes the worker.
* ``worker``: the ``PAYLOAD`` (JSON) a ``ws`` child's invoke carried: the run executed to
  its end, its events posted to the connection that started it.

* ``api``, ``authorizer``: the init phase only.

``VARIANT`` ``naive`` first imports every dependency any function may need, creates its
boto3 clients and compiles its graphs, as a module-level handler commonly does. ``floor``
imports only the libraries the function's first request cannot do without (:data:`FLOOR`)
and creates its clients, nothing of lambdagraph: what no lazy import can go below.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
USER = "bench"
# The libraries (and boto3 clients) each first request needs whatever the code around them:
# the graph runtime and a chat model base class to run a graph; FastAPI to serve HTTP;
# pydantic to validate a ``run`` frame; Powertools' idempotency for its request_id.
_GRAPH = ["langgraph.graph", "langchain_core.language_models.chat_models"]
FLOOR: dict[str, tuple[list[str], list[str]]] = {
    "stream": ([*_GRAPH, "fastapi"], ["dynamodb"]),
    "ws": (
        ["pydantic", "aws_lambda_powertools.utilities.idempotency"],
        ["dynamodb", "lambda", "apigatewaymanagementapi"],
    ),
    "worker": (_GRAPH, ["dynamodb", "apigatewaymanagementapi"]),
}


class Context:
    """The parts of Lambda's context object the handlers read."""

    def __init__(self, function_name: str, timeout_seconds: float) -> None:
        self.function_name = function_name
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 1024
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.log_group_name = self.log_stream_name = ""
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def eager_imports() -> None:
    """The naive module-level handler: everything up front, whatever the request needs."""
    import boto3
    import jwt  # noqa: F401
    import langchain_aws  # noqa: F401
    import mangum  # noqa: F401
    import yaml  # noqa: F401
    from aws_lambda_powertools import Logger, Metrics, Tracer  # noqa: F401
    from langchain_aws import ChatBedrockConverse  # noqa: F401

    import lambdagraph.agents
    import lambdagraph.auth
    import lambdagraph.engine.worker
    import lambdagraph.http.app
    import lambdagraph.store.checkpoint
    import lambdagraph.ws.api
    import lambdagraph.ws.fanout  # noqa: F401
    from lambdagraph.agents.loader import GraphRegistry
    from lambdagraph.settings import Settings

    for name in ("dynamodb", "s3", "lambda"):
        boto3.client(name)
    GraphRegistry.from_settings(Settings.from_env()).load_all()


def floor(function: str) -> None:
    """Import the function's :data:`FLOOR` libraries and create its clients."""
    import boto3

    modules, clients = FLOOR[function]
    for name in modules:
        importlib.import_module(name)
    for name in clients:
        boto3.client(name, endpoint_url="http://127.0.0.1:1")


def load(function: str) -> Any:
    """``functions/<function>/app.py``, imported the way Lambda imports a handler module."""
    spec = importlib.util.spec_from_file_location(
        f"{function}_app", FUNCTIONS / function / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def stream_request(app: Any) -> str:
    """One streamed run through the ASGI app; the response body."""
    body = json.dumps(
        {
            "assistant_id": "agent",
            "stream_mode": ["messages-tuple"],
            "input": {"messages": [{"role": "user", "content": "hello there"}]},
        }
    ).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/runs/stream",
        "raw_path": b"/runs/stream",
        "root_path": "",
        "query_string": b"",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"host", b"bench"),
        ],
    }
    sent, done = [False], asyncio.Event()
    status: list[int] = []
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    text = b"".join(chunks).decode()
    assert status == [200] and "event: messages" in text, (status, text[:300])
    return text


def ws_event(route: str, connection_id: str, body: str | None = None) -> dict[str, Any]:
    """An API Gateway WebSocket event as the ``ws`` function receives it."""
    endpoint = os.environ["LAMBDAGRAPH_WS_ENDPOINT"].removeprefix("http://")
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": route,
            "eventType": "CONNECT" if route == "$connect" else "MESSAGE",
            "stage": "ws",
            "domainName": endpoint,
            "connectionId": connection_id,
            "apiId": "bench",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "connectedAt": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"principalId": USER, "user_id": USER, "integrationLatency": 0},
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    return event


def ws_request(module: Any) -> None:
    """``$connect``, then a ``run`` action on a new thread."""
    connection_id = f"cold-{uuid.uuid4().hex[:12]}="
    context = Context("lambdagraph-ws", 29)
    assert module.handler(ws_event("$connect", connection_id), context) == {"statusCode": 200}
    frame = json.dumps(
        {
            "action": "run",
            "request_id": str(uuid.uuid4()),
            "assistant_id": "agent",
            "input": {"messages": [{"role": "user", "content": "hello there"}]},
        }
    )
    assert module.handler(ws_event("run", connection_id, frame), context) == {"statusCode": 200}


def main() -> None:
    """Run one cold start; print its timings."""
    function, variant, spawned = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if variant == "floor":
        floor(function)
        module = None
    else:
        if variant == "naive":
            eager_imports()
        module = load(function)
    init, init_cpu = time.time() - spawned, time.process_time()
    if module is None or function in ("api", "authorizer"):
        pass
    elif function == "stream":
        asyncio.run(stream_request(module.app))
    elif function == "ws":
        ws_request(module)
    else:
        outcome = module.handler(json.loads(sys.argv[4]), Context("lambdagraph-worker", 900))
        assert outcome == {"outcome": "success"}, outcome
    total = time.time() - spawned
    print(
        json.dumps({"init": init, "total": total, "init_cpu": init_cpu, "cpu": time.process_time()})
    )


if __name__ == "__main__":
    main()
