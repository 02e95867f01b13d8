"""What the assistant routes show of a graph: its drawing, its schemas, its subgraphs.

Shapes as LangGraph Server 0.16.7 builds them (``langgraph_api/api/assistants.py``): the
drawing is ``Graph.to_json()`` without the nodes' ``data.id`` (a Python import path); the
schemas are ``input_schema``, ``output_schema``, ``state_schema`` (every stream channel's
update type), ``config_schema`` (the ``configurable`` part only) and ``context_schema``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, cast

from langchain_core.utils.pydantic import create_model
from pydantic import TypeAdapter

from lambdagraph.errors import InvalidInput

if TYPE_CHECKING:
    from langgraph.pregel import Pregel

logger = logging.getLogger(__name__)

# Keys LangGraph Server leaves out of a config schema: the runtime sets them, not the client.
_EXCLUDED_CONFIG: Final = (
    "__pregel_checkpointer",
    "__pregel_store",
    "checkpoint_id",
    "checkpoint_ns",
    "thread_id",
)
NO_DRAWING: Final = "The graph does not support visualization"


def graph_json(graph: Pregel[Any, Any, Any, Any], xray: bool | int) -> dict[str, Any]:
    """The graph's nodes and edges (``xray``: subgraphs drawn inside, to that depth)."""
    try:
        drawing: dict[str, Any] = graph.get_graph(xray=xray).to_json()
    except NotImplementedError:
        raise InvalidInput(NO_DRAWING) from None
    for node in drawing.get("nodes", []):
        if isinstance(data := node.get("data"), dict):
            data.pop("id", None)
    return drawing


def graph_schemas(graph: Pregel[Any, Any, Any, Any]) -> dict[str, Any]:
    """The graph's schemas; one it cannot describe is ``None`` (the rest still help)."""
    readers: dict[str, Callable[[], Any]] = {
        "input_schema": graph.get_input_jsonschema,
        "output_schema": graph.get_output_jsonschema,
        "state_schema": lambda: _state_schema(graph),
        "config_schema": lambda: _config_schema(graph),
        "context_schema": graph.get_context_jsonschema,
    }
    schemas: dict[str, Any] = {}
    for key, read in readers.items():
        try:
            schemas[key] = read()
        except Exception:  # a graph with an exotic type has no schema
            logger.warning("no %s for graph %s", key, graph.get_name(), exc_info=True)
            schemas[key] = None
    return schemas


async def subgraph_schemas(
    graph: Pregel[Any, Any, Any, Any], *, namespace: str | None, recurse: bool
) -> dict[str, Any]:
    """Namespace → schemas of each subgraph (under ``namespace`` only, when given)."""
    return {
        ns: graph_schemas(cast("Pregel[Any, Any, Any, Any]", subgraph))
        async for ns, subgraph in graph.aget_subgraphs(namespace=namespace, recurse=recurse)
    }


def _state_schema(graph: Pregel[Any, Any, Any, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in graph.stream_channels_list:
        update_type = getattr(graph.channels[name], "UpdateType", Any)
        try:
            create_model(name, __root__=(update_type, None)).model_json_schema()
            fields[name] = (update_type, None)
        except Exception:  # noqa: BLE001 - a type pydantic cannot describe: any value
            fields[name] = (Any, None)
    schema: dict[str, Any] = create_model(graph.get_name("State"), **fields).model_json_schema()
    return schema


def _config_schema(graph: Pregel[Any, Any, Any, Any]) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # config_schema() is deprecated
        config = graph.config_schema()
    fields = getattr(config, "model_fields", None) or {}
    if "configurable" not in fields:
        return {}
    schema: dict[str, Any] = TypeAdapter(fields["configurable"].annotation).json_schema()
    for key in _EXCLUDED_CONFIG:
        schema.get("properties", {}).pop(key, None)
    config_type = getattr(graph, "config_type", None)
    if config_type is not None and hasattr(config_type, "__name__"):
        schema["title"] = config_type.__name__
    return schema
