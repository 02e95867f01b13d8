"""Run "asynchronously invoked" Lambda functions in the background, with a Lambda-like context.

Each invocation gets a fresh ``aws_request_id`` and a deadline from the function's
``Timeout`` in ``template.yaml``. A synchronous handler (a real ``functions/*/app.py``) runs
in a thread of its own; an async handler runs as a task on the caller's event loop, so the
local stack can share its clients and graphs with the worker. Lambda would kill an
invocation at its deadline; neither can be killed, so an overrun is logged instead (the
worker stops itself before the deadline anyway).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lambdagraph.engine.invoker import WorkerPayload
from lambdagraph.engine.worker import WorkerHandler
from lambdagraph.observability import metrics
from lambdagraph.settings import Settings
from lambdagraph_client.local.template import function_timeout

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], "LocalContext"], Any]
"""``handler(event, context)``, plain or ``async``."""


@dataclass
class LocalContext:
    """The parts of the Lambda context object handlers use."""

    function_name: str
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout, as Lambda reports it."""
        left = self.started + self.timeout_seconds - time.monotonic()
        return max(0, int(left * 1000))


class LocalInvoker:
    """Runs a handler in a background thread per invocation, like ``InvocationType=Event``.

    Args:
        handler: the function's handler, ``handler(event, context)``.
        function_name: the function's logical id in ``template.yaml``.
        timeout_seconds: overrides the template's ``Timeout`` (tests use a few seconds).
    """

    def __init__(
        self,
        handler: Handler,
        *,
        function_name: str = "WorkerFunction",
        timeout_seconds: float | None = None,
    ) -> None:
        self.handler = handler
        self.function_name = function_name
        self.timeout_seconds = (
            timeout_seconds if timeout_seconds is not None else function_timeout(function_name)
        )
        self.invocations: list[LocalContext] = []
        self._threads: list[threading.Thread] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()

    async def invoke(self, payload: WorkerPayload) -> None:
        context = LocalContext(self.function_name, self.timeout_seconds)
        if inspect.iscoroutinefunction(self.handler):
            with self._lock:
                self.invocations.append(context)
            task = asyncio.get_running_loop().create_task(
                self._run_async(dict(payload), context), name=f"{self.function_name}-invoke"
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        thread = threading.Thread(
            target=self._run,
            args=(dict(payload), context),
            name=f"{self.function_name}-{context.aws_request_id[:8]}",
            daemon=True,
        )
        with self._lock:
            self.invocations.append(context)
            self._threads.append(thread)
        thread.start()

    async def wait_idle(self, timeout: float) -> None:
        """Wait until every invocation so far (and any they started) has returned.

        Raises:
            TimeoutError: some invocation is still running after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                alive = [t for t in self._threads if t.is_alive()]
            tasks = list(self._tasks)
            if not alive and not tasks:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                running = len(alive) + len(tasks)
                raise TimeoutError(f"{running} invocation(s) of {self.function_name} still running")
            if tasks:
                await asyncio.wait(tasks, timeout=left)
            else:
                await asyncio.to_thread(alive[0].join, min(left, 0.5))

    async def aclose(self) -> None:
        """Cancel invocations still running as tasks (local stack shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    def _run(self, event: dict[str, Any], context: LocalContext) -> None:
        try:
            self.handler(event, context)
        except Exception:  # noqa: BLE001 - logged with its traceback in _log_failure
            # Lambda would record a failed async invocation (and retry it); log it the same way.
            self._log_failure(context)
        self._check_overrun(context)

    async def _run_async(self, event: dict[str, Any], context: LocalContext) -> None:
        try:
            await self.handler(event, context)
        except Exception:  # noqa: BLE001 - logged with its traceback in _log_failure
            self._log_failure(context)
        self._check_overrun(context)
        metrics().flush()  # as LambdaEntry.run does when a deployed invocation returns

    def _log_failure(self, context: LocalContext) -> None:
        logger.exception(
            "async invocation failed",
            extra={"function": self.function_name, "request_id": context.aws_request_id},
        )

    def _check_overrun(self, context: LocalContext) -> None:
        if context.get_remaining_time_in_millis() == 0:
            logger.warning(
                "invocation ran past its %ss timeout; Lambda would have killed it",
                self.timeout_seconds,
                extra={"function": self.function_name, "request_id": context.aws_request_id},
            )


def local_worker_invoker(settings: Settings) -> Callable[[WorkerHandler], LocalInvoker]:
    """How the local stack invokes its worker: in process, with the template's timeout
    (or ``LAMBDAGRAPH_LOCAL_WORKER_TIMEOUT_SECONDS``)."""
    timeout = settings.local_worker_timeout_seconds or None

    def build(handler: WorkerHandler) -> LocalInvoker:
        return LocalInvoker(handler, timeout_seconds=timeout)

    return build
