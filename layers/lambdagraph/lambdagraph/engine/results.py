"""A run's result: its events folded into what ``/wait`` answers, as LangGraph Server does."""

from __future__ import annotations

from typing import Any, Final

from lambdagraph.protocol.events import Event

INTERRUPT_KEY: Final = "__interrupt__"

SERVER_FAULT: Final = Event(
    "error", {"error": "InternalServerError", "message": "The run failed on the server"}
)
"""What a live stream gets when the executor itself failed (a server fault, text withheld)."""


class RunResult:
    """Folds a run's events into the body ``/wait`` returns.

    The body is the last ``values``, or ``{"__interrupt__": [...]}`` when the run stopped
    at interrupts, or ``{"__error__": {"error", "message"}}`` when it failed.
    """

    def __init__(self) -> None:
        self.latest: Any = None
        self.interrupts: list[Any] = []
        self.errored = False

    def absorb(self, event: Event) -> None:
        """Take one event into account."""
        if event.event == "error":
            self.latest = {"__error__": event.data}
            self.errored = True
        elif event.event in ("values", "updates"):
            data = event.data
            if isinstance(data, dict) and isinstance(data.get(INTERRUPT_KEY), list):
                self.interrupts.extend(data[INTERRUPT_KEY])
            elif event.event == "values":
                self.latest = data

    def body(self) -> Any:
        """The result, or ``None`` when the run sent nothing to build one from."""
        if self.interrupts and not self.errored:
            return {INTERRUPT_KEY: self.interrupts}
        return self.latest
