"""The one botocore configuration every AWS client lambdagraph builds carries.

Every boto3 client the package creates comes from :func:`client` (or, where a library builds
the client itself, is handed :func:`client_config`), so retries, timeouts and the connection
pool are decided here once:

* **Standard retry mode, 3 attempts in all.** It retries throttling, transient 5xx answers
  and connection errors with jittered exponential backoff, and its retry quota stops
  retrying a dependency that keeps failing; botocore's default ``legacy`` mode has no quota
  and gives DynamoDB 10 attempts, which can hold a streamed request for many seconds. What
  still fails reaches the store's error table (a throttle becomes a 503 to retry).
* **Connect timeout 5 s** instead of botocore's 60 s: every endpoint is in-region (or on
  127.0.0.1 locally) and connects in milliseconds, so 5 s means unreachable (a VPC without
  an endpoint, a dead local stack) and three attempts fail in seconds, not minutes.
* **Read timeout 20 s** instead of 60 s. DynamoDB, an ``Event`` Lambda invoke and the API
  Gateway management API answer in milliseconds, and moto under the local stack's load in
  at most a few seconds. The timeout is generous on purpose: a read timeout is retried, and a
  retried conditional write whose first attempt did land reads as a conflict, so it must
  never cut a legitimate call. Bedrock's ConverseStream sends its first chunk only after
  the whole prompt is processed, which on a long prompt can pass a minute: it gets 300 s.
* **50 pooled connections per client** instead of 10. One client is shared by every
  coroutine of the process, each call on a thread (``asyncio.to_thread``): up to 32 threads
  of asyncio's default executor, the saver's 8 and the idempotency bridge's 4 can call it at
  once, on Lambda and on the local stack serving 100 streams alike. With too small a pool
  urllib3 discards the extra connections and each call pays a new TLS handshake.
  Connections open lazily, so an idle pool costs nothing.

Each client also reports to the metrics (DynamoDB throttles, WebSocket posts: see
``observability.aws_calls``) and, when tracing is on, its calls are X-Ray subsegments
(observability.tracing patches botocore itself when it is enabled).
DynamoDB and API Gateway management clients are hooked into the run meter
(:func:`lambdagraph.pricing.aws_meter.instrument`), which counts a run's capacity units and
WebSocket messages from botocore's own events (no extra request).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from lambdagraph.observability import aws_calls
from lambdagraph.pricing.aws_meter import instrument

#: What every client gets; see the module docstring for each value's reason.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=5,
    read_timeout=20,
    max_pool_connections=50,
)

_METERED = frozenset({"dynamodb", "apigatewaymanagementapi"})

_SERVICE_CONFIG: dict[str, Config] = {
    "bedrock-runtime": Config(read_timeout=300),
}


def client_config(service: str, config: Config | None = None) -> Config:
    """The configuration a ``service`` client gets: ours, the service's, then ``config``.

    Args:
        service: the boto3 service name (``dynamodb``, ``bedrock-runtime``, ...).
        config: options of the caller's that win over ours.

    Returns:
        The merged ``Config``.
    """
    merged = CLIENT_CONFIG
    override = _SERVICE_CONFIG.get(service)
    if override is not None:
        merged = merged.merge(override)
    return merged if config is None else merged.merge(config)


def client(service: str, *, config: Config | None = None, **kwargs: Any) -> Any:
    """A boto3 client for ``service`` from the default session, with :func:`client_config`.

    Args:
        service: the boto3 service name.
        config: options of the caller's merged over ours.
        **kwargs: further ``boto3.client`` arguments (``endpoint_url``, ``region_name``).

    Returns:
        The client (typed by the caller: boto3's stubs are imported only for type checks).
    """
    built = boto3.client(service, config=client_config(service, config), **kwargs)
    if service in _METERED:
        instrument(built)
    return aws_calls.instrument(built)
