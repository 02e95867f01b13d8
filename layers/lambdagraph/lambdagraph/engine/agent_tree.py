"""The agent tree of a run (``agent.getTree``), folded from its ``lifecycle`` frames.

LangGraph Server (langgraph-api 0.16.7, ``event_streaming/session.py``) keeps a registry of
the namespaces a run's events announced and answers ``agent.getTree`` from it: the root
(``namespace: []``, the run's status, its graph name) with each namespace one level deeper
as a child, recursively, children sorted by namespace. Every change of that registry goes
out as a ``lifecycle`` frame (``data: {event, graph_name}``), so the thread log holds all
it needs: a run's frames begin with the root's ``running`` and the latest one of those
starts the latest run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_Namespace = tuple[str, ...]


def _guess_graph_name(namespace: _Namespace) -> str:
    # The server's guess for a namespace it saw no graph name for: the segment, without
    # its task id (``agent:3f2a`` → ``agent``).
    return namespace[-1].split(":", 1)[0] if namespace else "root"


def _lifecycle(frame: Mapping[str, Any]) -> tuple[_Namespace, str, str | None] | None:
    if frame.get("method") != "lifecycle":
        return None
    params = frame.get("params")
    if not isinstance(params, Mapping):
        return None
    namespace, data = params.get("namespace"), params.get("data")
    if not isinstance(namespace, list) or not isinstance(data, Mapping):
        return None
    event, name = data.get("event"), data.get("graph_name")
    if not isinstance(event, str):
        return None
    return tuple(str(s) for s in namespace), event, name if isinstance(name, str) else None


def latest_run_tree(frames: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The ``AgentTreeNode`` of the latest run among a thread's frames (in ``seq`` order).

    Returns:
        ``{"namespace", "status", "graph_name", "children"?}``, or ``None`` when no run
        has started (no root ``running`` frame).
    """
    changes = [change for frame in frames if (change := _lifecycle(frame)) is not None]
    starts = [i for i, (ns, status, _) in enumerate(changes) if not ns and status == "running"]
    if not starts:
        return None
    nodes: dict[_Namespace, tuple[str, str]] = {}
    for namespace, status, name in changes[starts[-1] :]:
        for depth in range(1, len(namespace)):
            prefix = namespace[:depth]
            nodes.setdefault(prefix, ("started", _guess_graph_name(prefix)))
        known = nodes.get(namespace)
        nodes[namespace] = (
            status,
            name or (known[1] if known else None) or _guess_graph_name(namespace),
        )
    return _node((), nodes)


def _node(namespace: _Namespace, nodes: Mapping[_Namespace, tuple[str, str]]) -> dict[str, Any]:
    status, graph_name = nodes[namespace]
    node: dict[str, Any] = {
        "namespace": list(namespace),
        "status": status,
        "graph_name": graph_name,
    }
    children = sorted(
        ns for ns in nodes if len(ns) == len(namespace) + 1 and ns[: len(namespace)] == namespace
    )
    if children:
        node["children"] = [_node(child, nodes) for child in children]
    return node
