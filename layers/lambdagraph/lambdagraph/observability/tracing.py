"""X-Ray tracing through Powertools' ``Tracer``, off (and never imported) unless enabled.

``LAMBDAGRAPH_TRACING`` (``template.yaml``'s ``Tracing`` parameter) turns it on. Then:

* :func:`enable` builds the one ``Tracer`` of the process, which patches botocore (its
  ``BaseClient._make_api_call``, so clients built before it too): every DynamoDB, S3, Lambda
  and API Gateway call becomes a subsegment.
* :func:`annotate_run` puts ``run_id``, ``thread_id``, ``assistant_id`` and ``status`` on
  the current segment, searchable in the X-Ray console (``annotation.run_id = "..."``).
* :class:`ObservabilityMiddleware`: behind the Lambda Web Adapter the web server's process
  has no ``_X_AMZN_TRACE_ID`` (the runtime sets it in the adapter's process); the adapter
  forwards it as the ``x-amzn-trace-id`` header, which the middleware copies into the
  environment per request, where the X-Ray SDK's Lambda context reads it. One invocation
  at a time runs in a Lambda instance, so the process-wide variable is the request's.

Disabled, each function here is a check of one module global.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, Final

from lambdagraph.observability.emf import metrics

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

TRACE_ENV: Final = "_X_AMZN_TRACE_ID"
TRACE_HEADER: Final = b"x-amzn-trace-id"

_tracer: Any = None


def enabled() -> bool:
    """Whether :func:`enable` turned tracing on in this process."""
    return _tracer is not None


def enable(service: str) -> Any:
    """Build the process's Powertools ``Tracer`` (needs ``aws-xray-sdk``) and patch botocore.

    Returns:
        The tracer (``tracer.capture_lambda_handler`` decorates a handler).
    """
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer  # lazy: only a traced function loads X-Ray

        _tracer = Tracer(service=service, patch_modules=["botocore"])
    return _tracer


def annotate_run(run: Any, status: str | None = None) -> None:
    """Annotate the current X-Ray segment with the run's ids (and final ``status``)."""
    if _tracer is None:
        return
    try:
        _tracer.put_annotation("run_id", run["run_id"])
        _tracer.put_annotation("thread_id", run["thread_id"])
        _tracer.put_annotation("assistant_id", run.get("assistant_id") or "")
        if status is not None:
            _tracer.put_annotation("status", status)
    except Exception:  # no open segment (outside an invocation): tracing never fails a run
        logger.debug("No X-Ray segment to annotate", exc_info=True)


class ObservabilityMiddleware:
    """Copies each request's ``x-amzn-trace-id`` into ``_X_AMZN_TRACE_ID`` (see module doc)
    when tracing is on, and writes the request's counts (throttles...) once it is answered:
    the stream function has no handler that returns."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _tracer is not None and scope["type"] == "http":
            raw = next((v for k, v in scope["headers"] if k == TRACE_HEADER), None)
            if raw is not None:
                os.environ[TRACE_ENV] = raw.decode("latin-1")
        try:
            await self.app(scope, receive, send)
        finally:
            metrics().flush()
