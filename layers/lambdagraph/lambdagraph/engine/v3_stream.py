"""A v2 run's graph stream: LangGraph's ``astream_events(version="v3")``.

Besides the transformers every v3 stream has (values, messages, lifecycle, subgraphs), a v2
run asks for ``updates``, ``custom``, ``tools`` and ``checkpoints``, so every channel the
protocol defines that LangGraph produces reaches the thread log; subscribers filter.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final, cast

from langchain_core._api import LangChainBetaWarning
from langgraph.prebuilt import ToolCallTransformer
from langgraph.stream import CheckpointsTransformer, CustomTransformer, UpdatesTransformer

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.pregel import Pregel
    from langgraph.runtime import RunControl

    from lambdagraph.store.records import RunKwargs

V2_TRANSFORMERS: Final = (
    UpdatesTransformer,
    CustomTransformer,
    CheckpointsTransformer,
    ToolCallTransformer,
)
"""The transformers a v2 run adds to LangGraph's defaults."""


async def v3_events(
    graph: Pregel[Any, Any, Any, Any],
    graph_input: Any,
    config: RunnableConfig,
    kwargs: RunKwargs,
    control: RunControl | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """LangGraph's v3 ``ProtocolEvent``s of one run of ``graph``.

    Args:
        graph: the compiled graph, bound to its checkpointer.
        graph_input: the input or ``Command``.
        config: the run's config.
        kwargs: the run's kwargs (interrupts, context, durability).
        control: lets the caller drain the graph at a superstep boundary.
    """
    options: dict[str, Any] = {
        "interrupt_before": kwargs.get("interrupt_before"),
        "interrupt_after": kwargs.get("interrupt_after"),
    }
    if kwargs.get("context") is not None:
        options["context"] = kwargs["context"]
    if kwargs.get("durability"):
        options["durability"] = kwargs["durability"]
    if control is not None:
        options["control"] = control
    with warnings.catch_warnings():
        # v3 is marked beta in langgraph 1.2; the protocol is built on it on purpose.
        warnings.simplefilter("ignore", LangChainBetaWarning)
        # A graph compiled with one of them already (transformers=[...]) keeps its own: LangGraph
        # refuses two transformers owning the same projection key.
        own = set(getattr(graph, "stream_transformers", ()))
        added = [transformer for transformer in V2_TRANSFORMERS if transformer not in own]
        stream = await graph.astream_events(
            graph_input, config, version="v3", transformers=added, **options
        )
    async with stream:
        async for event in stream:
            yield cast("dict[str, Any]", event)
