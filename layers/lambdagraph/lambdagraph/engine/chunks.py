"""LangGraph stream chunks → protocol events, exactly as LangGraph Server names and shapes them.

Pure: no I/O. :class:`ChunkMapper` decides which stream modes to ask the graph for (more than
the client asked: ``checkpoints`` to learn the thread's final state, ``updates`` to see
interrupts) and maps each ``(namespace, mode, chunk)`` to zero or more :class:`Event`s:

* ``messages-tuple`` → ``messages`` events ``[message_chunk_dict, metadata]``;
* ``messages`` → ``messages/metadata`` once per message, then ``messages/partial`` (chunks,
  accumulated) or ``messages/complete``, as LangGraph Server's legacy mode does;
* other requested modes pass through under their own name; with ``stream_subgraphs`` a
  subgraph's events are named ``mode|node:task_id|...``;
* an interrupt is ``updates`` ``{"__interrupt__": [{"value", "id"}]}`` when ``updates`` was
  asked for; else LangGraph's ``values`` event carries the same key; when neither was asked
  for, the interrupt alone is sent as a ``values`` event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Iterable, Mapping, Sequence

from langchain_core.messages import BaseMessage, BaseMessageChunk, message_chunk_to_message
from langgraph.types import Interrupt

from lambdagraph.protocol.events import Event

INTERRUPT_KEY: Final = "__interrupt__"
DEFAULT_STREAM_MODE: Final = ("values",)

# Modes the executor produces itself rather than asking the graph for.
_EXECUTOR_MODES: Final = frozenset({"events", "usage", "messages-tuple"})


def interrupt_dict(interrupt: Any) -> dict[str, Any]:
    """An interrupt as the wire carries it: ``{"value", "id"}`` (+ ``response_schema``)."""
    if isinstance(interrupt, Interrupt):
        out: dict[str, Any] = {"value": interrupt.value, "id": interrupt.id}
        schema = interrupt.response_schema
    elif isinstance(interrupt, Mapping):
        out = {"value": interrupt.get("value"), "id": interrupt.get("id")}
        schema = interrupt.get("response_schema")
    else:
        return {"value": interrupt, "id": None}
    if isinstance(schema, dict):
        out["response_schema"] = schema
    return out


def with_wire_interrupts(chunk: Any) -> Any:
    """``chunk`` with its ``__interrupt__`` entries (if any) as plain dicts."""
    if isinstance(chunk, dict) and INTERRUPT_KEY in chunk:
        return {**chunk, INTERRUPT_KEY: [interrupt_dict(i) for i in chunk[INTERRUPT_KEY]]}
    return chunk


def message_dict(message: Any) -> Any:
    """A LangChain message (or chunk) as its JSON form; other values unchanged."""
    return message.model_dump() if isinstance(message, BaseMessage) else message


def debug_checkpoint(payload: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A ``debug`` checkpoint payload with LangGraph Server's extra ``checkpoint`` fields."""
    if not payload:
        return None
    tasks = []
    for task in payload.get("tasks", ()):
        task = dict(task)
        state = task.get("state")
        if isinstance(state, Mapping) and state.get("configurable"):
            task["checkpoint"] = state["configurable"]
            del task["state"]
        tasks.append(task)
    return {
        **payload,
        "checkpoint": config_checkpoint(payload.get("config")),
        "parent_checkpoint": config_checkpoint(payload.get("parent_config")),
        "tasks": tasks,
    }


def config_checkpoint(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``{"thread_id", "checkpoint_id", "checkpoint_ns", "checkpoint_map"}`` of a config."""
    configurable = (config or {}).get("configurable") or {}
    if not configurable.get("thread_id") or not configurable.get("checkpoint_id"):
        return None
    out = {"checkpoint_id": configurable["checkpoint_id"], "thread_id": configurable["thread_id"]}
    if "checkpoint_ns" in configurable:
        out["checkpoint_ns"] = configurable["checkpoint_ns"] or ""
    if "checkpoint_map" in configurable:
        out["checkpoint_map"] = configurable["checkpoint_map"]
    return out


@dataclass
class ChunkMapper:
    """Maps one run's stream chunks to events; remembers the last root checkpoint.

    Args:
        requested: the stream modes the client asked for (default ``["values"]``).
        subgraphs: whether subgraph chunks are streamed (``stream_subgraphs``).
    """

    requested: Sequence[str] = DEFAULT_STREAM_MODE
    subgraphs: bool = False
    last_checkpoint: dict[str, Any] | None = None
    saw_interrupt: bool = False
    _messages: dict[str, BaseMessageChunk | BaseMessage] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.requested = list(dict.fromkeys(self.requested or DEFAULT_STREAM_MODE))
        self._wants = frozenset(self.requested)
        self._interrupts_as_values = not ({"updates", "values"} & self._wants)

    @property
    def graph_modes(self) -> list[str]:
        """The stream modes to pass to ``astream``."""
        modes = [m for m in self.requested if m not in _EXECUTOR_MODES]
        if "messages-tuple" in self._wants and "messages" not in modes:
            modes.append("messages")
        needed = ["checkpoints", "updates"] if self._interrupts_as_values else ["checkpoints"]
        modes.extend(m for m in needed if m not in modes)
        return modes

    def map(self, namespace: Sequence[str], mode: str, chunk: Any) -> list[Event]:
        """The events for one ``(namespace, mode, chunk)`` from ``astream``."""
        ns = tuple(namespace)
        if mode == "checkpoints" and not ns:
            self.last_checkpoint = chunk
        if not ns and isinstance(chunk, dict) and chunk.get(INTERRUPT_KEY):
            self.saw_interrupt = True
        if mode == "messages":
            return self._map_messages(ns, chunk)
        if mode in self._wants:
            if mode == "debug" and isinstance(chunk, dict) and chunk.get("type") == "checkpoint":
                chunk = {**chunk, "payload": debug_checkpoint(chunk.get("payload"))}
            return [Event(self._name(mode, ns), with_wire_interrupts(chunk))]
        if (
            mode == "updates"
            and self._interrupts_as_values
            and isinstance(chunk, dict)
            and chunk.get(INTERRUPT_KEY)
        ):
            return [Event(self._name("values", ns), with_wire_interrupts(chunk))]
        return []

    def _map_messages(self, ns: tuple[str, ...], chunk: Any) -> list[Event]:
        message, metadata = chunk
        events: list[Event] = []
        if "messages-tuple" in self._wants:
            events.append(Event(self._name("messages", ns), [message_dict(message), metadata]))
        if "messages" in self._wants:
            events.extend(self._legacy_messages(message, metadata))
        return events

    def _legacy_messages(self, message: BaseMessage, metadata: Any) -> Iterable[Event]:
        key = str(message.id)
        previous = self._messages.get(key)
        if isinstance(previous, BaseMessageChunk) and isinstance(message, BaseMessageChunk):
            self._messages[key] = previous + message
        elif previous is not None:
            self._messages[key] = message
        else:
            self._messages[key] = message
            yield Event("messages/metadata", {key: {"metadata": metadata}})
        merged = self._messages[key]
        if isinstance(message, BaseMessageChunk):
            yield Event("messages/partial", [message_dict(merged)])
        else:
            yield Event("messages/complete", [message_dict(message_chunk_to_message(merged))])

    def _name(self, mode: str, ns: tuple[str, ...]) -> str:
        return f"{mode}|{'|'.join(ns)}" if self.subgraphs and ns else mode

    def remember_state(self, values: Any, tasks: Iterable[Any], next_nodes: Sequence[str]) -> None:
        """Use a state snapshot's values and tasks instead of the last streamed checkpoint.

        Streamed checkpoints precede their step's interrupts, so after an interrupt the
        executor reads the state once and records it here.
        """
        self.last_checkpoint = {
            "values": values,
            "next": list(next_nodes),
            "tasks": [{"id": t.id, "interrupts": t.interrupts} for t in tasks],
        }

    def thread_summary(self) -> tuple[Any, dict[str, list[dict[str, Any]]], bool]:
        """``(values, interrupts by task id, has next nodes)`` of the last root checkpoint."""
        payload = self.last_checkpoint or {}
        interrupts = {
            str(task["id"]): [interrupt_dict(i) for i in task["interrupts"]]
            for task in payload.get("tasks", ())
            if task.get("interrupts")
        }
        return payload.get("values"), interrupts, bool(payload.get("next"))
