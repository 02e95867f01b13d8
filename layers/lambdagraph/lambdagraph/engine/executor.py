"""The run executor: the one place that drives a compiled graph and emits protocol events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, Sequence

from lambdagraph.engine.sinks import Sink
from lambdagraph.store.app import AppStore
from lambdagraph.store.records import Run, RunStatus

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.pregel import Pregel


class GraphRegistry(Protocol):
    """Where the executor finds graphs: ``lambdagraph.agents.GraphRegistry`` fits."""

    def get(self, assistant_id: str) -> Pregel[Any, Any, Any, Any]:
        """The compiled graph (no checkpointer) or ``AssistantNotFound``."""
        ...

    def names(self) -> list[str]:
        """Every graph name."""
        ...


class RunExecutor:
    """Runs a recorded run: streams the graph and hands protocol events to sinks.

    Args:
        store: the app store holding the run and its thread.
        graphs: where graphs are looked up by ``assistant_id``.
        checkpointer: the saver for graph state.
        cancel_poll_interval: seconds between reads of the run's cancel flag.
    """

    def __init__(
        self,
        store: AppStore,
        graphs: GraphRegistry,
        checkpointer: BaseCheckpointSaver[Any],
        *,
        cancel_poll_interval: float = 0.25,
    ) -> None:
        raise NotImplementedError

    async def execute(self, run: Run, sinks: Sequence[Sink]) -> RunStatus:
        """Execute ``run``, sending its events to every sink; returns the final status."""
        raise NotImplementedError
