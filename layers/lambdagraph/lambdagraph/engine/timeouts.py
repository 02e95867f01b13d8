"""Run timeouts: how long a run may execute, counted from its start across invocations.

The limit is the run's own ``timeout_seconds`` or the server's
``LAMBDAGRAPH_RUN_TIMEOUT_SECONDS`` (0: none). The clock starts when the run starts
executing (a queued run's wait does not count) and a continuation carries the start on, so
a run spread over several worker invocations has one limit, not one per invocation.
"""

from __future__ import annotations

import time
from typing import Annotated, Final

from pydantic import Field

from lambdagraph.protocol.events import Event
from lambdagraph.store.records import RunKwargs

RUN_TIMEOUT: Final = "RunTimeout"
"""The ``error`` type of the event a timed-out run ends with."""

MAX_TIMEOUT_SECONDS: Final = 7 * 86_400

TimeoutSeconds = Annotated[
    float,
    Field(
        strict=True,  # a number, not "10" or true, on every transport
        gt=0,
        le=MAX_TIMEOUT_SECONDS,
        allow_inf_nan=False,
        description="Longest the run may execute, in seconds (over: status `timeout`); "
        "omitted or null: the server's LAMBDAGRAPH_RUN_TIMEOUT_SECONDS",
    ),
]
"""A run request's ``timeout_seconds``: positive, at most a week (HTTP and WebSocket)."""


class RunClock:
    """When a run started executing (wall clock, seconds since the epoch).

    Args:
        started_at: the start carried by a continuation; ``None`` for a run starting now.
    """

    def __init__(self, started_at: float | None = None) -> None:
        self.started_at = started_at

    def start(self) -> float:
        """The run's start, taken as now if it had none yet."""
        if self.started_at is None:
            self.started_at = time.time()
        return self.started_at

    def left(self, limit: float) -> float:
        """Seconds before ``limit`` seconds from the start have passed (may be negative)."""
        return self.start() + limit - time.time()


def time_limit(kwargs: RunKwargs, default: float) -> float:
    """Seconds the run may execute: its own ``timeout_seconds``, else ``default``; 0: none."""
    own = kwargs.get("timeout_seconds")
    return float(own) if own else default


def timeout_event(limit: float) -> Event:
    """The ``error`` event a run that ran out of time ends with."""
    return Event(
        "error",
        {
            "error": RUN_TIMEOUT,
            "message": f"The run exceeded its time limit of {limit:g} s. The thread keeps its "
            "last completed step: start a new run without input to continue from it.",
        },
    )
