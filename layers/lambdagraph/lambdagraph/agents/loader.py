"""Graph loading: assistant id (graph name) → compiled graph.

The built-in graph ``agent`` is the demo agent; ``LAMBDAGRAPH_GRAPHS`` adds more as
``name=module.path:attr`` pairs separated by commas. The attribute may be a compiled graph,
a ``StateGraph`` (compiled here) or a zero-argument factory returning either.

Graphs are served without a checkpointer of their own: the executor gives each run the
DynamoDB saver with :func:`with_checkpointer`, which is
``graph.copy(update={"checkpointer": saver})``. With LangGraph 1.2 that copy is a new
``CompiledStateGraph`` sharing nodes and channels with the cached one, which stays untouched,
so concurrent runs with different savers never interfere.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from lambdagraph.agents.demo import build_agent_graph
from lambdagraph.agents.models import create_chat_model
from lambdagraph.errors import AssistantNotFound, ConfigurationError
from lambdagraph.settings import GRAPH_SPEC, Settings, parse_graph_specs

#: Name of the built-in demo graph.
DEMO_GRAPH = "agent"


def load_graph(spec: str) -> Pregel[Any, Any, Any, Any]:
    """Import ``module.path:attr`` and return it as a compiled graph.

    Args:
        spec: import path; ``attr`` may be dotted and may name a compiled graph, a
            ``StateGraph`` or a zero-argument factory returning either.

    Returns:
        The compiled graph.

    Raises:
        ConfigurationError: malformed spec, import failure, missing attribute, a failing
            factory, or an object that is not a graph.
    """
    label = f"Graph spec {spec.strip()!r}"
    return _as_compiled(_resolve(spec, label), label)


def _resolve(spec: str, label: str) -> Any:
    """Import the module of ``spec`` and walk to its attribute; ``label`` opens any error."""
    spec = spec.strip()
    if not GRAPH_SPEC.match(spec):
        raise ConfigurationError(f"{label} is not of the form 'module.path:attr'")
    module_name, attr_path = spec.split(":", 1)
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure is a configuration error
        raise ConfigurationError(f"{label}: cannot import module {module_name!r}: {exc}") from exc
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as exc:
            raise ConfigurationError(
                f"{label}: {module_name!r} has no attribute {attr_path!r}"
            ) from exc
    return target


def _as_compiled(target: Any, label: str) -> Pregel[Any, Any, Any, Any]:
    if isinstance(target, Pregel):
        return target
    if isinstance(target, StateGraph):
        return _compile(target, label)
    if callable(target):
        try:
            built = target()
        except ConfigurationError:
            raise
        except Exception as exc:
            raise ConfigurationError(f"{label}: the factory failed: {exc}") from exc
        if isinstance(built, Pregel):
            return built
        if isinstance(built, StateGraph):
            return _compile(built, label)
        raise ConfigurationError(
            f"{label}: the factory returned {type(built).__name__}, not a graph"
        )
    raise ConfigurationError(
        f"{label} names a {type(target).__name__}, not a compiled graph, StateGraph or factory"
    )


def _compile(builder: StateGraph[Any, Any, Any, Any], label: str) -> Pregel[Any, Any, Any, Any]:
    try:
        return builder.compile()
    except Exception as exc:
        raise ConfigurationError(f"{label}: the StateGraph does not compile: {exc}") from exc


def with_checkpointer(
    graph: Pregel[Any, Any, Any, Any], saver: BaseCheckpointSaver[Any]
) -> Pregel[Any, Any, Any, Any]:
    """A copy of ``graph`` that checkpoints with ``saver``; ``graph`` itself is unchanged.

    Args:
        graph: a compiled graph, e.g. from :meth:`GraphRegistry.get`.
        saver: the checkpointer for this run.

    Returns:
        The copy.
    """
    return graph.copy(update={"checkpointer": saver})


class GraphRegistry:
    """Assistant ids (graph names) → compiled graphs, each loaded once on first use.

    Reads (through ``Settings``) ``LAMBDAGRAPH_GRAPHS`` and, for the demo graph,
    ``LAMBDAGRAPH_MODEL``, ``LAMBDAGRAPH_BEDROCK_MODEL_ID``, ``LAMBDAGRAPH_SCRIPTED_DELAY_MS``.

    Args:
        loaders: graph name → zero-argument function building the compiled graph.

    Example:
        >>> registry = GraphRegistry.from_settings(Settings.from_env())
        >>> registry.names()
        ['agent']
        >>> graph = with_checkpointer(registry.get("agent"), saver)
    """

    def __init__(self, loaders: Mapping[str, Callable[[], Pregel[Any, Any, Any, Any]]]) -> None:
        self._loaders = dict(loaders)
        self._graphs: dict[str, Pregel[Any, Any, Any, Any]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> GraphRegistry:
        """The built-in ``agent`` plus the graphs ``settings.graphs`` names.

        A user graph named ``agent`` replaces the demo graph. Each user graph's module is
        imported here, so an entry that cannot load fails at cold start; building the graph
        (calling a factory, compiling) still waits for its first use.

        Raises:
            ConfigurationError: a ``LAMBDAGRAPH_GRAPHS`` entry is malformed, its module does
                not import or lacks the attribute; the message names the entry.
        """
        loaders: dict[str, Callable[[], Pregel[Any, Any, Any, Any]]] = {
            DEMO_GRAPH: lambda: _build_demo_graph(settings)
        }
        for name, spec in parse_graph_specs(settings.graphs).items():
            label = f"LAMBDAGRAPH_GRAPHS entry '{name}={spec}'"
            loaders[name] = partial(_as_compiled, _resolve(spec, label), label)
        return cls(loaders)

    def names(self) -> list[str]:
        """Every assistant id this registry serves, the demo graph first."""
        return list(self._loaders)

    def get(self, assistant_id: str) -> Pregel[Any, Any, Any, Any]:
        """The compiled graph for ``assistant_id``, loading it on first use.

        Raises:
            AssistantNotFound: no graph by that name.
            ConfigurationError: the graph's spec does not load.
        """
        graph = self._graphs.get(assistant_id)
        if graph is not None:
            return graph
        loader = self._loaders.get(assistant_id)
        if loader is None:
            raise AssistantNotFound(assistant_id)
        with self._lock:
            graph = self._graphs.get(assistant_id)
            if graph is None:
                graph = self._graphs[assistant_id] = loader()
        return graph

    def load_all(self) -> None:
        """Load every graph now, so a bad spec fails at cold start instead of mid-request.

        Raises:
            ConfigurationError: a graph does not load.
        """
        for name in self._loaders:
            self.get(name)


def _build_demo_graph(settings: Settings) -> Pregel[Any, Any, Any, Any]:
    return build_agent_graph(create_chat_model(settings))
