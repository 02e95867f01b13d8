"""The AWS side of a run: DynamoDB units, WebSocket messages and Lambda GB-seconds.

:func:`instrument` hooks a boto3 client's events (botocore's ``provide-client-params`` and
``after-call``), so every DynamoDB request and WebSocket post made while a run's
:class:`AwsUse` is active (:func:`metering`, a context variable that ``asyncio.to_thread``
and tasks created in the run inherit) is added to it. No request is added or changed
locally; in the cloud DynamoDB requests ask ``ReturnConsumedCapacity="TOTAL"`` and its
figure wins over the one computed from item sizes (:mod:`.dynamo_units`).

A WebSocket message is billed per 32 KB
(https://aws.amazon.com/api-gateway/pricing/: "messages are metered in 32 KB increments").
Lambda GB-seconds are the run's measured duration times the function's configured memory
(``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, MB; unknown outside Lambda, so ``None``).
"""

from __future__ import annotations

import contextvars
import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from lambdagraph.pricing import dynamo_units

WS_MESSAGE_BYTES: Final = 32 * 1024
_MEMORY_ENV: Final = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
_PARAMS_KEY: Final = "lambdagraph_params"
_INSTRUMENTED: Final = "_lambdagraph_metered"

_current: contextvars.ContextVar[AwsUse | None] = contextvars.ContextVar(
    "lambdagraph_aws_use", default=None
)


class AwsUse:
    """Counters of one run's AWS resource use; :meth:`snapshot` is its ``aws`` dict."""

    def __init__(self) -> None:
        self.dynamodb_read_units = 0.0
        self.dynamodb_write_units = 0.0
        self.dynamodb_requests = 0
        self.websocket_posts = 0
        self.websocket_messages = 0
        self.lambda_seconds = 0.0
        self._lock = threading.Lock()  # hooks run on worker threads
        self._started: float | None = None

    def add_dynamodb(self, operation: str, units: float) -> None:
        """Count one DynamoDB request of ``units`` capacity units."""
        with self._lock:
            self.dynamodb_requests += 1
            if operation in dynamo_units.WRITES:
                self.dynamodb_write_units += units
            else:
                self.dynamodb_read_units += units

    def add_post(self, size: int) -> None:
        """Count one WebSocket post of ``size`` bytes (billed per 32 KB)."""
        with self._lock:
            self.websocket_posts += 1
            self.websocket_messages += max(1, math.ceil(size / WS_MESSAGE_BYTES))

    def absorb(self, other: AwsUse) -> None:
        """Add ``other``'s request counts: work done for the run before it was metered (its
        checkpoint read ahead of its start, ``engine.read_ahead``)."""
        with self._lock:
            self.dynamodb_read_units += other.dynamodb_read_units
            self.dynamodb_write_units += other.dynamodb_write_units
            self.dynamodb_requests += other.dynamodb_requests
            self.websocket_posts += other.websocket_posts
            self.websocket_messages += other.websocket_messages

    def start(self) -> None:
        """Start timing this invocation's share of the run."""
        self._started = time.monotonic()

    def stop(self) -> None:
        """Stop timing; the time since :meth:`start` is added to ``lambda_seconds``."""
        if self._started is not None:
            self.lambda_seconds += time.monotonic() - self._started
            self._started = None

    def restore(self, saved: dict[str, Any] | None) -> None:
        """Carry on from the counters an earlier invocation saved (:meth:`snapshot`)."""
        if not saved:
            return
        self.dynamodb_read_units = float(saved.get("dynamodb_read_units") or 0)
        self.dynamodb_write_units = float(saved.get("dynamodb_write_units") or 0)
        self.dynamodb_requests = int(saved.get("dynamodb_requests") or 0)
        self.websocket_posts = int(saved.get("websocket_posts") or 0)
        self.websocket_messages = int(saved.get("websocket_messages") or 0)
        self.lambda_seconds = float(saved.get("lambda_seconds") or 0)

    def snapshot(self) -> dict[str, Any]:
        """The ``aws`` dict: units, messages, seconds and GB-seconds so far."""
        seconds = self.lambda_seconds
        if self._started is not None:
            seconds += time.monotonic() - self._started
        memory = _memory_mb()
        return {
            "dynamodb_read_units": round(self.dynamodb_read_units, 3),
            "dynamodb_write_units": round(self.dynamodb_write_units, 3),
            "dynamodb_requests": self.dynamodb_requests,
            "websocket_posts": self.websocket_posts,
            "websocket_messages": self.websocket_messages,
            "lambda_seconds": round(seconds, 4),
            "lambda_memory_mb": memory,
            "lambda_gb_seconds": None if memory is None else round(seconds * memory / 1024, 4),
        }


def _memory_mb() -> int | None:
    raw = os.environ.get(_MEMORY_ENV, "")
    return int(raw) if raw.isdigit() else None


@contextmanager
def metering(use: AwsUse) -> Iterator[AwsUse]:
    """Count the AWS requests made in this context (and tasks/threads started from it)."""
    token = _current.set(use)
    use.start()
    try:
        yield use
    finally:
        use.stop()
        _current.reset(token)


def instrument(client: Any) -> Any:
    """Hook ``client`` (DynamoDB or the API Gateway management API) into the meter; once."""
    if getattr(client, _INSTRUMENTED, False):
        return client
    events = client.meta.events
    service = client.meta.service_model.service_name
    if service == "dynamodb":
        cloud = "amazonaws.com" in (client.meta.endpoint_url or "")
        events.register("provide-client-params.dynamodb", _dynamodb_params(cloud))
        events.register("after-call.dynamodb", _dynamodb_done)
    elif service == "apigatewaymanagementapi":
        events.register("provide-client-params.apigatewaymanagementapi.PostToConnection", _post)
    setattr(client, _INSTRUMENTED, True)
    return client


def _dynamodb_params(cloud: bool) -> Any:
    def hook(params: dict[str, Any], context: dict[str, Any], model: Any, **_: Any) -> None:
        if _current.get() is None:
            return
        context[_PARAMS_KEY] = params
        op = model.name
        if cloud and (op in dynamo_units.READS or op in dynamo_units.WRITES):
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    return hook


def _dynamodb_done(parsed: dict[str, Any], context: dict[str, Any], model: Any, **_: Any) -> None:
    use = _current.get()
    params = context.get(_PARAMS_KEY)
    if use is None or params is None or "Error" in parsed:
        return
    units = dynamo_units.reported_units(parsed)
    if units is None:
        units = dynamo_units.request_units(model.name, params, parsed)
    use.add_dynamodb(model.name, units)


def _post(params: dict[str, Any], **_: Any) -> None:
    use = _current.get()
    if use is not None:
        data = params.get("Data") or b""
        use.add_post(len(data))
