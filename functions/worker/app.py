"""Worker function: executes runs no HTTP response waits on (invoked asynchronously only).

Payloads are ``{"kind": "run" | "continue", "owner", "thread_id", "run_id", "attempt"?}``;
a duplicated or retried invocation finds its attempt claimed and returns at once.
``{"kind": "erase", "owner", "thread_id"}`` erases a deleted thread (``engine.erase``);
``{"kind": "cron", "owner", "cron_id"}`` (from EventBridge Scheduler) starts a cron's run.
"""

from __future__ import annotations

from typing import Any

from lambdagraph.engine import handle_worker_event
from lambdagraph.entry import LambdaEntry
from lambdagraph.wiring import build_worker

entry = LambdaEntry.from_env("lambdagraph-worker")
logger = entry.logger
# Runs post their events to WebSocket subscribers (LAMBDAGRAPH_WS_ENDPOINT).
worker = build_worker(entry.settings)
entry.ready()


@logger.inject_lambda_context(clear_state=True)
@entry.traced
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    """Execute or continue the payload's run, or erase the payload's deleted thread."""
    outcome = entry.run(handle_worker_event(worker, event, context))
    logger.info("worker done", extra={"run_id": event.get("run_id"), "outcome": outcome})
    return {"outcome": outcome}
