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
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from lambdagraph.agents.demo import build_agent_graph
from lambdagraph.agents.models import create_chat_model
from lambdagraph.errors import AssistantNotFound, ConfigurationError
from lambdagraph.settings import Settings

#: Name of the built-in demo graph.
DEMO_GRAPH = "agent"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


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
    spec = spec.strip()
    if not _SPEC.match(spec):
        raise ConfigurationError(f"Graph spec {spec!r} is not of the form 'module.path:attr'")
    module_name, attr_path = spec.split(":", 1)
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure is a configuration error
        raise ConfigurationError(
            f"Graph spec {spec!r}: cannot import module {module_name!r}: {exc}"
        ) from exc
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as exc:
            raise ConfigurationError(
                f"Graph spec {spec!r}: {module_name!r} has no attribute {attr_path!r}"
            ) from exc
    return _as_compiled(target, spec)


def _as_compiled(target: Any, spec: str) -> Pregel[Any, Any, Any, Any]:
    if isinstance(target, Pregel):
        return target
    if isinstance(target, StateGraph):
        return _compile(target, spec)
    if callable(target):
        try:
            built = target()
        except ConfigurationError:
            raise
        except Exception as exc:
            raise ConfigurationError(f"Graph spec {spec!r}: the factory failed: {exc}") from exc
        if isinstance(built, Pregel):
            return built
        if isinstance(built, StateGraph):
            return _compile(built, spec)
        raise ConfigurationError(
            f"Graph spec {spec!r}: the factory returned {type(built).__name__}, not a graph"
        )
    raise ConfigurationError(
        f"Graph spec {spec!r} names a {type(target).__name__}, not a compiled graph, "
        "StateGraph or factory"
    )


def _compile(builder: StateGraph[Any, Any, Any, Any], spec: str) -> Pregel[Any, Any, Any, Any]:
    try:
        return builder.compile()
    except Exception as exc:
        raise ConfigurationError(
            f"Graph spec {spec!r}: the StateGraph does not compile: {exc}"
        ) from exc


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


def parse_graph_specs(value: str) -> dict[str, str]:
    """Parse ``LAMBDAGRAPH_GRAPHS`` (``name=module:attr,other=pkg.mod:graph``).

    Args:
        value: the variable's value; empty means no extra graphs.

    Returns:
        Graph name → import spec, in the order given.

    Raises:
        ConfigurationError: an entry without ``=``, a bad name or spec, or a duplicate name.
    """
    specs: dict[str, str] = {}
    for entry in value.split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, spec = (part.strip() for part in entry.partition("="))
        if not sep or not _NAME.match(name) or not _SPEC.match(spec):
            raise ConfigurationError(
                f"LAMBDAGRAPH_GRAPHS entry {entry!r} is not of the form 'name=module.path:attr'"
            )
        if name in specs:
            raise ConfigurationError(f"LAMBDAGRAPH_GRAPHS names graph {name!r} twice")
        specs[name] = spec
    return specs


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

        A user graph named ``agent`` replaces the demo graph.

        Raises:
            ConfigurationError: ``LAMBDAGRAPH_GRAPHS`` is malformed.
        """
        loaders: dict[str, Callable[[], Pregel[Any, Any, Any, Any]]] = {
            DEMO_GRAPH: lambda: _build_demo_graph(settings)
        }
        for name, spec in parse_graph_specs(settings.graphs).items():
            loaders[name] = lambda spec=spec: load_graph(spec)  # type: ignore[misc]
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
