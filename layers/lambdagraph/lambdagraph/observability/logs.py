"""The run a log line belongs to: ``run_id``, ``thread_id`` and ``user_id`` on every line.

:func:`bind_run` sets three context variables where a run starts executing; asyncio copies
them into every task the run creates (the graph, the cancel poll, the sinks), so any module's
line logged on the run's behalf carries them, and concurrent runs in one process (the local
stack, a stream function) never see each other's. :class:`RunContextFilter`, installed on the
entry point's Powertools handler (:func:`install`), copies them onto each record; Powertools
writes record attributes as JSON keys. Keys a call passes itself (``extra=``) win.

Only identifiers go on the record: never tokens, prompts or message content.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar, Token
from typing import Any, Final

KEYS: Final = ("run_id", "thread_id", "user_id")

_context: ContextVar[Mapping[str, str] | None] = ContextVar("lambdagraph_log_run", default=None)


def bind_run(run: Mapping[str, Any]) -> Token[Mapping[str, str] | None]:
    """Make ``run``'s ids part of every line logged from this context on."""
    return _context.set(
        {"run_id": run["run_id"], "thread_id": run["thread_id"], "user_id": run["owner"]}
    )


def unbind(token: Token[Mapping[str, str] | None]) -> None:
    """Undo :func:`bind_run`."""
    _context.reset(token)


def run_keys(run: Mapping[str, Any]) -> dict[str, str]:
    """The keys of ``run`` as a ``LoggerAdapter``'s ``extra``."""
    return {"run_id": run["run_id"], "thread_id": run["thread_id"], "user_id": run["owner"]}


class RunContextFilter(logging.Filter):
    """Adds the bound run's ids to each record that does not carry them yet."""

    def filter(self, record: logging.LogRecord) -> bool:
        bound = _context.get()
        if bound is not None:
            for key in KEYS:
                if not hasattr(record, key):
                    setattr(record, key, bound[key])
        return True


def install(logger: Any) -> None:
    """Put a :class:`RunContextFilter` on every handler of a Powertools ``Logger`` (or a
    ``logging.Logger``); call it before ``copy_config_to_registered_loggers``, which hands
    the same handlers to the package's loggers."""
    inner = getattr(logger, "_logger", logger)
    for handler in inner.handlers:
        if not any(isinstance(f, RunContextFilter) for f in handler.filters):
            handler.addFilter(RunContextFilter())
