"""LangGraph's v3 stream events → the Agent Streaming Protocol's channel events.

``graph.astream_events(input, config, version="v3")`` yields LangGraph's own
``ProtocolEvent``s (``{"type": "event", "method", "params": {"namespace", "timestamp",
"data", ...}}``). :class:`FrameNormalizer` turns one run's events into the protocol's
frames as LangGraph Server does (langgraph-api 0.16.7, ``event_streaming/session.py``):

* the root ``lifecycle`` is ours: ``running`` at the start, then ``completed``,
  ``failed`` (with the error) or ``interrupted`` from the run's outcome; subgraph
  lifecycles come from LangGraph (one ``started`` per namespace, a ``completed`` when the
  parent's ``updates`` names the node, the rest closed before the root's end);
* interrupts (``params.interrupts`` of ``values``, an ``__interrupt__`` update) become
  ``input.requested`` frames ``{interrupt_id, payload}``, once per id, and the root turns
  ``interrupted`` at once;
* ``messages`` carry the content-block events (``message-start``, ``content-block-*``,
  ``message-finish`` with ``usage``) without LangGraph's metadata;
* messages inside ``values``/``updates`` are reduced to the protocol's message shape;
* ``custom:<name>`` events become ``custom`` with ``{name, payload}``.

Frames come out without ``seq`` and ``event_id``: the thread's sequencer adds them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from lambdagraph.protocol.agent import CUSTOM_PREFIX, INPUT_REQUESTED
from lambdagraph.protocol.codec import dumps

Frame = dict[str, Any]

TERMINAL_STATUS: Final[dict[str, str]] = {
    "success": "completed",
    "error": "failed",
    "timeout": "failed",
    "interrupted": "interrupted",
}
"""Root lifecycle event for each final run status."""

_MESSAGE_TYPES: Final = {"human", "ai", "system", "tool", "function", "remove"}
_TYPE_ALIASES: Final = {"user": "human", "assistant": "ai"}


def _now_ms() -> int:
    return int(time.time() * 1000)


def frame(
    method: str,
    namespace: Sequence[str],
    data: Any,
    *,
    node: str | None = None,
    timestamp: int | None = None,
) -> Frame:
    """A protocol event frame (no ``seq``/``event_id`` yet)."""
    params: dict[str, Any] = {
        "namespace": list(namespace),
        "timestamp": timestamp if isinstance(timestamp, int) else _now_ms(),
        "data": data,
    }
    if node is not None:
        params["node"] = node
    return {"type": "event", "method": method, "params": params}


USAGE_FRAME: Final = "lambdagraph.usage"
"""The name of the ``custom`` frames that carry a v2 run's usage (``lambdagraph.usage``)."""


def usage_frame(data: Mapping[str, Any]) -> Frame:
    """A root ``custom`` frame named :data:`USAGE_FRAME` carrying one usage report."""
    return frame("custom", [], {"name": USAGE_FRAME, "payload": dict(data)})


def _interrupt_requests(interrupts: object) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    for entry in interrupts if isinstance(interrupts, list | tuple) else ():
        raw = entry if isinstance(entry, Mapping) else getattr(entry, "__dict__", {})
        interrupt_id = raw.get("id") if isinstance(raw, Mapping) else None
        if not isinstance(interrupt_id, str):
            interrupt_id = getattr(entry, "id", None)
        if not isinstance(interrupt_id, str):
            continue
        request: dict[str, Any] = {"interrupt_id": interrupt_id}
        value = raw.get("value") if isinstance(raw, Mapping) and "value" in raw else None
        if value is None and hasattr(entry, "value"):
            value = entry.value
        request["payload"] = orjson.loads(dumps(value))
        requests.append(request)
    return requests


def _message_type(value: Mapping[str, Any]) -> str | None:
    kind = value.get("type")
    if not isinstance(kind, str):
        return None
    kind = _TYPE_ALIASES.get(kind, kind)
    return kind if kind in _MESSAGE_TYPES else None


def _tool_calls(raw: object) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for call in raw if isinstance(raw, list) else ():
        if isinstance(call, Mapping) and isinstance(call.get("name"), str):
            entry: dict[str, Any] = {
                "type": "tool_call",
                "name": call["name"],
                "args": call.get("args") if isinstance(call.get("args"), dict) else {},
            }
            if isinstance(call.get("id"), str):
                entry["id"] = call["id"]
            calls.append(entry)
    return calls


def protocol_message(value: Mapping[str, Any]) -> dict[str, Any]:
    """A state message (LangChain's dict form) in the protocol's message shape."""
    kind = _message_type(value)
    if kind is None:
        return dict(value)
    message: dict[str, Any] = {"type": kind, "content": value.get("content", "")}
    for key in ("id", "name"):
        if isinstance(value.get(key), str):
            message[key] = value[key]
    if kind in ("ai", "human") and isinstance(value.get("example"), bool):
        message["example"] = value["example"]
    if isinstance(value.get("response_metadata"), Mapping) and value["response_metadata"]:
        message["response_metadata"] = value["response_metadata"]
    if kind == "tool":
        if isinstance(value.get("tool_call_id"), str):
            message["tool_call_id"] = value["tool_call_id"]
        if value.get("status") in ("success", "error"):
            message["status"] = value["status"]
        if "artifact" in value:
            message["artifact"] = value["artifact"]
    if kind == "ai":
        if calls := _tool_calls(value.get("tool_calls")):
            message["tool_calls"] = calls
        invalid = value.get("invalid_tool_calls")
        if isinstance(invalid, list) and invalid:
            message["invalid_tool_calls"] = invalid
    return message


def protocol_state(value: Any) -> Any:
    """A ``values``/``updates`` payload as JSON, its messages in protocol shape, no interrupts."""
    return _reshape(orjson.loads(dumps(value)))


def _reshape(value: Any) -> Any:
    if isinstance(value, list):
        return [
            protocol_message(item)
            if isinstance(item, Mapping) and _message_type(item)
            else _reshape(item)
            for item in value
        ]
    if not isinstance(value, Mapping):
        return value
    return {key: _reshape(entry) for key, entry in value.items() if key != "__interrupt__"}


def _json(value: Any) -> Any:
    return orjson.loads(dumps(value))


def checkpoint_envelope(data: Any) -> dict[str, Any] | None:
    """The protocol's ``Checkpoint`` (``{id, parent_id?, step, source}``) of a checkpoint event.

    Takes LangGraph's ``checkpoints`` stream payload (``config``, ``parent_config``,
    ``metadata``, ...) or an envelope already in that shape.
    """
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("id"), str):
        return dict(data)
    configurable = (data.get("config") or {}).get("configurable") or {}
    checkpoint_id = configurable.get("checkpoint_id")
    if not isinstance(checkpoint_id, str):
        return None
    metadata = data.get("metadata") or {}
    envelope: dict[str, Any] = {"id": checkpoint_id}
    parent = ((data.get("parent_config") or {}).get("configurable") or {}).get("checkpoint_id")
    if isinstance(parent, str):
        envelope["parent_id"] = parent
    step = metadata.get("step")
    envelope["step"] = step if isinstance(step, int) else -1
    source = metadata.get("source")
    envelope["source"] = source if isinstance(source, str) else "loop"
    return envelope


def _tool_message_frames(namespace: list[str], data: dict[str, Any]) -> list[Frame]:
    """A finished tool's result as a ``tool`` message on ``messages`` (as LangGraph Server)."""
    output = data.get("output")
    if not isinstance(output, dict):
        return []
    raw_call = data.get("tool_call_id") or output.get("tool_call_id")
    call_id = raw_call if isinstance(raw_call, str) else None
    raw_id = output.get("id")
    message_id = raw_id if isinstance(raw_id, str) and raw_id else None
    message_id = message_id or (f"tool-{call_id}" if call_id else None)
    if message_id is None:
        return []
    content = output.get("content")
    if isinstance(content, str):
        text = content
    else:
        text = "" if content is None else dumps(content).decode()
    start: dict[str, Any] = {"event": "message-start", "role": "tool", "id": message_id}
    if call_id is not None:
        start["tool_call_id"] = call_id
    scope = [*namespace, f"tools:{call_id}"] if call_id is not None else namespace
    block = {"type": "text", "text": text}
    events = [
        start,
        {"event": "content-block-start", "index": 0, "content": {"type": "text", "text": ""}},
        {"event": "content-block-delta", "index": 0, "content": block},
        {"event": "content-block-finish", "index": 0, "content": block},
        {"event": "message-finish", "metadata": {}},
    ]
    return [frame("messages", scope, event) for event in events]


def _messages_payload(data: Any) -> dict[str, Any] | None:
    """The content-block event of a v3 ``messages`` event (``[payload, metadata]``)."""
    if isinstance(data, Mapping) and isinstance(data.get("event"), str):
        return dict(data)
    if isinstance(data, list | tuple) and len(data) == 2:
        head = data[0]
        if isinstance(head, Mapping) and isinstance(head.get("event"), str):
            return dict(head)
    return None


def _namespace_of(params: Mapping[str, Any]) -> list[str]:
    raw = params.get("namespace")
    if isinstance(raw, list | tuple) and all(isinstance(s, str) for s in raw):
        return list(raw)
    return []


class FrameNormalizer:
    """Turns one run's v3 stream events into protocol frames (see the module docstring).

    Args:
        graph_name: the root graph's name (``lifecycle.graph_name`` at the root).
    """

    def __init__(self, graph_name: str) -> None:
        self.graph_name = graph_name
        self._status: dict[tuple[str, ...], str] = {}
        self._names: dict[tuple[str, ...], str] = {}
        self._started: set[tuple[str, ...]] = set()
        self._checkpoints: set[tuple[tuple[str, ...], str]] = set()
        self._interrupts: set[str] = set()
        # An ``__interrupt__`` update's requests, held for the ``values`` event that follows it
        # (which carries them too): see :meth:`feed`.
        self._held: tuple[list[str], list[dict[str, Any]]] | None = None
        self.interrupted = False
        self.ended = False

    def start(self) -> list[Frame]:
        """The root's ``lifecycle.running``."""
        return self._lifecycle([], "running", self.graph_name)

    def feed(self, event: Mapping[str, Any]) -> list[Frame]:
        """The frames for one v3 stream event (often one, sometimes none or several).

        An interrupt's ``input.requested`` and root ``lifecycle.interrupted`` come out with
        the ``values`` snapshot LangGraph sends right after its ``__interrupt__`` update, in
        one batch, as LangGraph Server sends them: the JS client pauses its projections one
        tick after a root terminal lifecycle, and a snapshot in the same tick lets a reader of
        ``thread.values`` respond first. Any other event releases held requests before it.
        """
        method = event.get("method")
        params = event.get("params")
        if not isinstance(method, str) or not isinstance(params, Mapping):
            return []
        namespace = _namespace_of(params)
        held = self._held
        if held is not None and not (method == "values" and namespace == held[0]):
            return self._release() + self.feed(event)
        return self._feed(method, params, namespace)

    def _release(self) -> list[Frame]:
        if self._held is None:
            return []
        namespace, requests = self._held
        self._held = None
        return self._input_requested(namespace, requests)

    def _feed(self, method: str, params: Mapping[str, Any], namespace: list[str]) -> list[Frame]:
        data = params.get("data")
        timestamp = params.get("timestamp")
        stamp = timestamp if isinstance(timestamp, int) else None
        if method == "lifecycle":
            return self._feed_lifecycle(namespace, data)
        if method == "checkpoints":
            return self._feed_checkpoint(namespace, data, stamp)
        self._register(namespace)
        if method == "messages":
            payload = _messages_payload(data)
            return [frame("messages", namespace, payload, timestamp=stamp)] if payload else []
        if method == "values":
            return self._feed_values(namespace, data, params.get("interrupts"), stamp)
        if method == "updates":
            return self._feed_updates(namespace, data, params.get("node"), stamp)
        if method.startswith(CUSTOM_PREFIX):
            named = {"name": method[len(CUSTOM_PREFIX) :], "payload": data}
            return [frame("custom", namespace, named, timestamp=stamp)]
        if method == "tools":
            return self._feed_tools(namespace, data, params.get("node"), stamp)
        return [frame(method, namespace, _json(data), timestamp=stamp)]

    def finish(self, status: str, error: str | None = None) -> list[Frame]:
        """The end of the run (its final status): open namespaces close, then the root."""
        if self.ended:
            return []
        frames = self._release()
        self.ended = True
        event = TERMINAL_STATUS.get(status, "failed")
        if self.interrupted and event == "completed":
            event = "interrupted"
        open_ns = [ns for ns, st in self._status.items() if ns and st == "started"]
        for ns in sorted(open_ns, key=len, reverse=True):
            frames.extend(self._lifecycle(list(ns), "completed"))
        frames.extend(self._lifecycle([], event, self.graph_name, error=error))
        return frames

    # --- channels ---------------------------------------------------------------------

    def _feed_values(
        self, namespace: list[str], data: Any, interrupts: object, stamp: int | None
    ) -> list[Frame]:
        requests = self._held[1] if self._held is not None else []
        self._held = None
        requests.extend(_interrupt_requests(interrupts))
        if isinstance(data, Mapping):
            requests.extend(_interrupt_requests(data.get("__interrupt__")))
        # As LangGraph Server: the interrupt's frames, then the snapshot it rode on, even when
        # that repeats the last one (see feed).
        frames = self._input_requested(namespace, requests)
        frames.append(frame("values", namespace, protocol_state(data), timestamp=stamp))
        return frames

    def _feed_updates(
        self, namespace: list[str], data: Any, node: object, stamp: int | None
    ) -> list[Frame]:
        if not isinstance(node, str) and isinstance(data, Mapping) and len(data) == 1:
            node, data = next(iter(data.items()))
        if node == "__interrupt__":
            self._held = (namespace, _interrupt_requests(data))
            return []
        name = node if isinstance(node, str) else None
        update: dict[str, Any] = {"values": protocol_state(data)}
        if name is not None:
            update = {"node": name, **update}
        frames = [frame("updates", namespace, update, node=name, timestamp=stamp)]
        if name and not name.startswith("__"):
            frames.extend(self._child_completed(namespace, name))
        return frames

    def _feed_checkpoint(self, namespace: list[str], data: Any, stamp: int | None) -> list[Frame]:
        envelope = checkpoint_envelope(data)
        if envelope is None:
            return []
        key = (tuple(namespace), envelope["id"])
        if key in self._checkpoints:
            return []
        self._checkpoints.add(key)
        return [frame("checkpoints", namespace, envelope, timestamp=stamp)]

    def _feed_tools(
        self, namespace: list[str], data: Any, node: object, stamp: int | None
    ) -> list[Frame]:
        data = _json(data)
        if isinstance(data, dict):
            raw_node = data.pop("__node", None)
            node = node if isinstance(node, str) else raw_node
        name = node if isinstance(node, str) and node else None
        frames = [frame("tools", namespace, data, node=name, timestamp=stamp)]
        if isinstance(data, dict) and data.get("event") == "tool-finished":
            frames.extend(_tool_message_frames(namespace, data))
        return frames

    def _input_requested(self, namespace: list[str], requests: list[dict[str, Any]]) -> list[Frame]:
        frames: list[Frame] = []
        for request in requests:
            if request["interrupt_id"] in self._interrupts:
                continue
            self._interrupts.add(request["interrupt_id"])
            frames.append(frame(INPUT_REQUESTED, namespace, request))
        if frames and not self.interrupted:
            self.interrupted = True
            frames.extend(self._lifecycle([], "interrupted", self.graph_name))
        return frames

    # --- lifecycle --------------------------------------------------------------------

    def _feed_lifecycle(self, namespace: list[str], data: Any) -> list[Frame]:
        if not isinstance(data, Mapping) or not isinstance(data.get("event"), str):
            self._register(namespace)
            return []
        inner = data.get("namespace")
        if (
            isinstance(inner, list)
            and all(isinstance(s, str) for s in inner)
            and len(inner) > len(namespace)
        ):
            namespace = list(inner)
        if not namespace:
            return []  # the root's lifecycle is ours (start and finish)
        key = tuple(namespace)
        name = data.get("graph_name")
        if data["event"] == "started":
            if key in self._started:
                return []
            self._started.add(key)
            self._status[key] = "started"
            if isinstance(name, str):
                self._names[key] = name
            return [frame("lifecycle", namespace, dict(data))]
        if data["event"] in ("running", "completed", "failed", "interrupted"):
            error = data.get("error")
            cause = data.get("cause")
            return self._lifecycle(
                namespace,
                data["event"],
                name if isinstance(name, str) else None,
                error=error if isinstance(error, str) else None,
                cause=cause if isinstance(cause, Mapping) else None,
            )
        return []

    def _register(self, namespace: Sequence[str]) -> None:
        for length in range(1, len(namespace) + 1):
            key = tuple(namespace[:length])
            if self._status.get(key) != "started":
                self._status[key] = "started"

    def _graph_name(self, key: tuple[str, ...]) -> str:
        if not key:
            return self.graph_name
        return self._names.get(key) or key[-1].split(":", 1)[0]

    def _lifecycle(
        self,
        namespace: list[str],
        event: str,
        graph_name: str | None = None,
        *,
        error: str | None = None,
        cause: Mapping[str, Any] | None = None,
    ) -> list[Frame]:
        key = tuple(namespace)
        name = graph_name or self._graph_name(key)
        same = self._status.get(key) == event and self._names.get(key, name) == name
        if same and error is None and cause is None:
            return []
        self._status[key] = event
        self._names[key] = name
        data: dict[str, Any] = {"event": event, "graph_name": name}
        if error is not None:
            data["error"] = error
        if cause is not None:
            data["cause"] = dict(cause)
        return [frame("lifecycle", namespace, data)]

    def _child_completed(self, parent: list[str], node: str) -> list[Frame]:
        for key, status in self._status.items():
            if len(key) != len(parent) + 1 or status != "started" or list(key[:-1]) != parent:
                continue
            if key[-1] == node or key[-1].startswith(f"{node}:"):
                return self._lifecycle(list(key), "completed")
        return []
