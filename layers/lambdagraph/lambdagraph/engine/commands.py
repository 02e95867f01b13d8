"""Every Agent Streaming Protocol command the engine serves, by method name.

Transports hand this table to :class:`~lambdagraph.engine.thread_streams.ThreadStreams`:
the run commands (``run.start``, ``input.respond``, cancel) and the thread commands
(``state.*``, ``input.inject``, ``agent.getTree``), which call ``run.start`` through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from lambdagraph.engine.agent_commands import HANDLERS as THREAD_COMMANDS
from lambdagraph.engine.thread_commands import HANDLERS as RUN_COMMANDS
from lambdagraph.engine.thread_streams import Handler

COMMANDS: Final[Mapping[str, Handler]] = {**RUN_COMMANDS, **THREAD_COMMANDS}
"""Handlers of every command, by the protocol's method name."""

RUN_RECORDING_COMMANDS: Final = frozenset(
    {"run.start", "input.respond", "input.inject", "state.fork"}
)
"""The commands that record a run (``input.inject`` and ``state.fork`` through ``run.start``):
the run's create transaction counts the request against the per-user request limit, so a
transport counts no request of its own for them."""
