"""A run's metrics, measured by the executor and written as one EMF document at its end.

The executor holds one :class:`RunMeter` per execution and calls it at a few points, each a
one-liner: :meth:`~RunMeter.started`, :meth:`~RunMeter.token` from a model callback (one attribute
check once the first token has passed, so streaming costs nothing per token),
:meth:`~RunMeter.cancel_seen` when its poll finds the cancel flag, :meth:`~RunMeter.ended`.

Metrics (namespace ``LAMBDAGRAPH_METRICS_NAMESPACE``); each is published with no dimension
(what alarms read) and per ``transport`` (``http``, ``websocket``, ``agent-protocol``, ...):

========================  ============  ======================================================
``RunsStarted``           Count         a run began executing (not its continuations)
``RunsEnded``             Count         by ``status`` (and ``status`` + ``transport``)
``RunErrors``             Count         1 for ``error``/``timeout``, else 0: its average is
                                        the error rate
``TimeToFirstToken``      Milliseconds  run start → the model's first token
``TokensPerSecond``       Count/Second  output tokens / (end − first token)
``RunDuration``           Milliseconds  run start → end, this invocation
``CancelToStop``          Milliseconds  the cancel request (run item's ``updated_at``) → stop
``Interrupts``            Count         interrupts pending when the run ended
``Resumes``               Count         a run that resumes an interrupt (``command.resume``)
``CostUSD``               None          the run's model cost (see :meth:`RunMeter.ended`)
========================  ============  ======================================================
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from lambdagraph.observability.emf import COUNT, MILLISECONDS, NONE, PER_SECOND, metrics

_FAILED: Final = frozenset({"error", "timeout"})
#: Transports a run's ``metadata.transport`` may name (anything else reads ``http``).
TRANSPORTS: Final = frozenset({"http", "websocket", "agent-protocol", "ag-ui", "a2a", "cron"})


def transport_of(run: Mapping[str, Any]) -> str:
    """The low-cardinality transport name of ``run`` (a metric dimension)."""
    named = (run.get("metadata") or {}).get("transport")
    if isinstance(named, str) and named in TRANSPORTS:
        return named
    return "agent-protocol" if (run.get("kwargs") or {}).get("protocol") == "v2" else "http"


def _epoch(iso: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class RunMeter:
    """Measures one execution of a run (see the module docstring for what it writes).

    Args:
        run: the run record.
        continued: this execution continues one that drained (not a new run).
        clock: monotonic seconds (tests pass a fake one).
        wall: epoch seconds, to compare with the run item's timestamps.
    """

    def __init__(
        self,
        run: Mapping[str, Any],
        *,
        continued: bool = False,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.run = run
        self.transport = transport_of(run)
        self.continued = continued
        self.clock = clock
        self.wall = wall
        self.start = clock()
        self.first_token: float | None = None
        self.cancel_requested_at: float | None = None

    def started(self) -> None:
        """The run began executing: count it (once per run, not per continuation)."""
        if self.continued:
            return
        command = (self.run.get("kwargs") or {}).get("command") or {}
        values = {"RunsStarted": (1.0, COUNT)}
        if isinstance(command, dict) and command.get("resume") is not None:
            values["Resumes"] = (1.0, COUNT)
        metrics().emit(values, {}, {"transport": self.transport})

    def token(self) -> None:
        """The model produced a token (``engine.first_token``): note the first one's time."""
        if self.first_token is None:
            self.first_token = self.clock()

    def cancel_seen(self, fresh: Mapping[str, Any]) -> None:
        """The cancel poll found the flag on ``fresh`` (set at its ``updated_at``)."""
        if self.cancel_requested_at is None:
            self.cancel_requested_at = _epoch(fresh.get("updated_at")) or self.wall()

    def ended(
        self, status: str, usage_total: Mapping[str, Any] | None = None, interrupts: int = 0
    ) -> None:
        """The run ended with ``status``: write its document, then the process's counts.

        Args:
            status: the final run status.
            usage_total: the run's usage totals (``UsageTracker.total``); a ``cost_usd``
                key there becomes ``CostUSD``. This is the one place CostUSD is emitted.
            interrupts: interrupts pending on the thread at the end.
        """
        now = self.clock()
        values: dict[str, tuple[float, str]] = {
            "RunErrors": (1.0 if status in _FAILED else 0.0, COUNT),
            "RunDuration": ((now - self.start) * 1000, MILLISECONDS),
            "Interrupts": (float(interrupts), COUNT),
        }
        if self.first_token is not None:
            values["TimeToFirstToken"] = ((self.first_token - self.start) * 1000, MILLISECONDS)
            output = float((usage_total or {}).get("output_tokens") or 0)
            streaming = now - self.first_token
            if output > 0 and streaming > 0:
                values["TokensPerSecond"] = (output / streaming, PER_SECOND)
        if self.cancel_requested_at is not None and status == "interrupted":
            waited = max(0.0, self.wall() - self.cancel_requested_at)
            values["CancelToStop"] = (waited * 1000, MILLISECONDS)
        cost = (usage_total or {}).get("cost_usd")
        if isinstance(cost, (int, float)) and not isinstance(cost, bool):
            values["CostUSD"] = (float(cost), NONE)
        ids = {"run_id": str(self.run["run_id"]), "thread_id": str(self.run["thread_id"])}
        emitter = metrics()
        emitter.emit(
            {"RunsEnded": (1.0, COUNT)},
            {"status": status},
            {"status": status, "transport": self.transport},
            metadata=ids,
        )
        emitter.emit(values, {}, {"transport": self.transport}, metadata=ids)
        emitter.flush()
