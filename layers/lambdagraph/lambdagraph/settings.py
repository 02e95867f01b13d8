"""Every environment variable lambdagraph reads, with its default, in one place.

``Settings.from_env()`` is called once per cold start (entry points, the local stack); code
below the entry points receives the values it needs as arguments.

Variables:
    LAMBDAGRAPH_CHECKPOINT_TABLE: checkpoints table name (``lambdagraph-checkpoints``).
    LAMBDAGRAPH_APP_TABLE: app table name (``lambdagraph-app``).
    LAMBDAGRAPH_CHECKPOINT_BUCKET: S3 bucket for checkpoint items over the size threshold
        (unset: no offload; oversized items then raise ``ConfigurationError``).
    LAMBDAGRAPH_CHECKPOINT_TTL_SECONDS: checkpoint lifetime; 0 keeps them forever (``0``).
    LAMBDAGRAPH_LOG_LEVEL: log level (``INFO``).
    LAMBDAGRAPH_AUTH_MODE: how requests are authenticated: ``none`` (every request is the
        local user), ``jwt`` or ``iam`` (``none``).
    LAMBDAGRAPH_JWT_ISSUER: OIDC issuer whose tokens ``jwt`` mode accepts, e.g. a Cognito user
        pool URL; its JWKS is read from the issuer's discovery document (empty).
    LAMBDAGRAPH_JWT_AUDIENCE: audience (``aud``/``client_id``) those tokens must carry (empty).
    LAMBDAGRAPH_CANCEL_POLL_INTERVAL: seconds between the executor's reads of a run's cancel
        flag (``0.25``).
    LAMBDAGRAPH_CANCEL_WAIT_SECONDS: how long a cancel that waits (HTTP ``cancel?wait=1``, a
        WebSocket ``cancel`` from a connection not subscribed to the run) waits for the run
        to stop before answering with its current status (``20``: below API Gateway's 29 s
        route and 30 s HTTP API limits, far above the cancel poll of a healthy run).
    LAMBDAGRAPH_HEARTBEAT_SECONDS: longest silence on a long response (SSE streams, ``/wait``,
        ``/join``) before a heartbeat (``: heartbeat`` comment, or a newline before JSON);
        proxies drop idle connections at 30 s (``10``).
    LAMBDAGRAPH_STREAM_QUEUE_EVENTS: how many events may wait for a streaming or waiting
        HTTP client before the run waits for it (``1000``).
    LAMBDAGRAPH_SLOW_CONSUMER_SECONDS: how long a run waits for such a client to make room
        before it detaches the client with a ``SlowConsumer`` error event (``5``).
    LAMBDAGRAPH_RUN_TIMEOUT_SECONDS: longest a run may execute, counted from its start
        across worker invocations; it then ends with status ``timeout``. 0: no limit; a run
        request's ``timeout_seconds`` overrides it (``0``).
    LAMBDAGRAPH_MAX_BODY_BYTES: largest request body the HTTP API accepts, 413 above it; Lambda
        caps payloads at 6 MB (``6291456``).
    LAMBDAGRAPH_CORS_ALLOW_ORIGINS: comma-separated origins allowed by CORS (``*``).
    LAMBDAGRAPH_MODEL: chat model of the demo graph, ``scripted`` or ``bedrock`` (``scripted``).
    LAMBDAGRAPH_BEDROCK_MODEL_ID: Bedrock model or inference profile id when the model is
        ``bedrock`` (``us.anthropic.claude-haiku-4-5-20251001-v1:0``).
    LAMBDAGRAPH_SCRIPTED_DELAY_MS: pause between the scripted model's chunks; 0 streams as
        fast as possible (``20``).
    LAMBDAGRAPH_GRAPHS: extra graphs, ``name=module.path:attr,other=pkg.mod:graph`` (empty).
    LAMBDAGRAPH_EVENT_LOG_TTL_SECONDS: how long logged run events stay joinable (``86400``).
    LAMBDAGRAPH_EVENT_LOG_FLUSH_MS: how long events wait in the buffer before one batched
        write to the event log (``100``).
    LAMBDAGRAPH_WORKER_FUNCTION: name of the deployed worker function background runs and
        continuations are invoked on (empty: the local stack's in-process invoker).
    LAMBDAGRAPH_DEADLINE_MARGIN_MS: a worker stops at the next checkpoint once less than this
        is left before its Lambda timeout, and continues in a new invocation (``60000``).
    LAMBDAGRAPH_RUN_LEASE_SECONDS: a worker renews its lease on a run every third of this; a
        run whose lease is older is treated as crashed (``30``).
    LAMBDAGRAPH_LOCAL_WORKER_TIMEOUT_SECONDS: the local stack's worker timeout; 0 takes the
        ``WorkerFunction``'s ``Timeout`` from ``template.yaml`` (``0``).
    LAMBDAGRAPH_WS_ENDPOINT: the WebSocket API's management endpoint,
        ``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`` (the local stack sets
        ``http://127.0.0.1:8000/ws``); empty: the worker posts nowhere and the ``ws``
        function builds it from each event's ``domainName`` and ``stage``.
    LAMBDAGRAPH_WS_BATCH_WINDOW_MS: how long the WebSocket sender waits to batch events into
        one message (``50``).
    LAMBDAGRAPH_WS_BATCH_BYTES: the sender cuts batches before this size (``32000``, one
        32 KB API Gateway frame).
    LAMBDAGRAPH_WS_IDEMPOTENCY_SECONDS: how long a WebSocket ``run``'s ``request_id`` is
        remembered (``3600``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from lambdagraph.errors import ConfigurationError


@dataclass(frozen=True)
class Settings:
    """lambdagraph configuration, read from the environment once."""

    checkpoint_table: str = "lambdagraph-checkpoints"
    app_table: str = "lambdagraph-app"
    checkpoint_bucket: str | None = None
    checkpoint_ttl_seconds: int = 0
    log_level: str = "INFO"
    auth_mode: str = "none"
    jwt_issuer: str = ""
    jwt_audience: str = ""
    cancel_poll_interval: float = 0.25
    cancel_wait_seconds: float = 20.0
    heartbeat_seconds: float = 10.0
    stream_queue_events: int = 1000
    slow_consumer_seconds: float = 5.0
    run_timeout_seconds: float = 0.0
    max_body_bytes: int = 6 * 1024 * 1024
    cors_allow_origins: str = "*"
    model: str = "scripted"
    bedrock_model_id: str = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    scripted_delay_ms: int = 20
    graphs: str = ""
    # Durable runs (event log, worker, continuations).
    event_log_ttl_seconds: int = 86_400
    event_log_flush_ms: int = 100
    worker_function: str = ""
    deadline_margin_ms: int = 60_000
    run_lease_seconds: float = 30.0
    local_worker_timeout_seconds: float = 0.0
    # WebSocket API.
    ws_endpoint: str = ""
    ws_batch_window_ms: int = 50
    ws_batch_bytes: int = 32_000
    ws_idempotency_seconds: int = 3600

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``LAMBDAGRAPH_*`` variables; unset ones keep their default."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = env.get(f"LAMBDAGRAPH_{field.name.upper()}")
            if raw is None or raw == "":
                continue
            values[field.name] = _convert(field.name, raw, field.type)
        return cls(**values)  # type: ignore[arg-type]


def _convert(name: str, raw: str, annotation: object) -> object:
    kind = str(annotation)
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
        if kind.startswith("bool"):
            if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(raw)
            return raw.lower() in {"1", "true", "yes"}
    except ValueError as exc:
        raise ConfigurationError(f"LAMBDAGRAPH_{name.upper()}={raw!r} is not a {kind}") from exc
    return raw
