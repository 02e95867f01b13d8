"""What every Lambda entry point in ``functions/`` sets up once per cold start.

Each ``functions/<name>/app.py`` builds one :class:`LambdaEntry` at module level, builds its
collaborators with :mod:`lambdagraph.wiring`, calls :meth:`LambdaEntry.ready`, and decorates
its ``handler`` with ``entry.logger.inject_lambda_context(clear_state=True)``. Functions whose
event loop we own run the package's coroutine with :meth:`LambdaEntry.run`; the ``api`` and
``stream`` functions leave the loop to Mangum and uvicorn (``own_loop=False``).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from lambdagraph import observability
from lambdagraph.errors import ConfigurationError
from lambdagraph.observability import logs, tracing
from lambdagraph.settings import Settings

T = TypeVar("T")
H = TypeVar("H", bound=Callable[..., Any])


@dataclass(frozen=True)
class LambdaEntry:
    """The settings, the one Powertools logger and (optionally) the event loop of an instance.

    Example:
        entry = LambdaEntry.from_env("lambdagraph-ws")
        api = build_ws_api(entry.settings)
        entry.ready()

        @entry.logger.inject_lambda_context(clear_state=True)
        def handler(event, context):
            return entry.run(api.handle(event, context))
    """

    settings: Settings
    logger: Logger
    loop: asyncio.AbstractEventLoop | None

    @classmethod
    def from_env(cls, service: str, *, own_loop: bool = True) -> LambdaEntry:
        """Read the settings (every ``LAMBDAGRAPH_*`` variable) and set up logging.

        Args:
            service: the ``service`` key of every log line.
            own_loop: create the instance's event loop; False where a server owns it
                (Mangum in ``api``, uvicorn in ``stream``).
        """
        settings = Settings.from_env()
        logger = Logger(service=service, level=settings.log_level)
        # Every line a run logs carries its run_id, thread_id and user_id.
        logs.install(logger)
        # Package modules log through `logging`; this gives them the same JSON handler.
        copy_config_to_registered_loggers(source_logger=logger, include={"lambdagraph"})
        # EMF lines on stdout: CloudWatch Logs turns them into metrics.
        observability.configure(settings.metrics_namespace, service, stdout=True)
        if settings.tracing:
            tracing.enable(service)
        # One loop for the life of the instance: clients built on it stay usable warm.
        return cls(settings, logger, asyncio.new_event_loop() if own_loop else None)

    def ready(self) -> None:
        """Cold start done: what exists now (libraries, clients, the app) lives as long as
        the instance, so it leaves the collector's view and full collections no longer walk
        it mid-stream (see README, Benchmarks)."""
        gc.freeze()

    def traced(self, handler: H) -> H:
        """``handler`` as an X-Ray subsegment (Powertools' ``capture_lambda_handler``, whose
        subsegment carries the runs' annotations) when tracing is on; else ``handler``."""
        if not tracing.enabled():
            return handler
        # Not the response: it holds thread state and messages (never in traces, as in logs).
        traced: H = tracing.enable(self.logger.service).capture_lambda_handler(
            handler, capture_response=False
        )
        return traced

    def flush_metrics(self) -> None:
        """Write the counts of this invocation (throttles, posts...) as EMF; call it as the
        handler returns: a frozen instance writes nothing until its next invocation."""
        observability.metrics().flush()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` to completion on the instance's loop.

        Raises:
            ConfigurationError: the entry was built with ``own_loop=False``.
        """
        if self.loop is None:
            coroutine.close()
            raise ConfigurationError("This entry's event loop belongs to its server")
        try:
            return self.loop.run_until_complete(coroutine)
        finally:
            self.flush_metrics()
