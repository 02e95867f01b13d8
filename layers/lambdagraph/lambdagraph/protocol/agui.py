"""AG-UI: a run's native events translated into AG-UI events, and AG-UI input into a run's.

The AG-UI route (``http/agui.py``) asks the run service for ``messages-tuple``, ``values``,
``updates`` and ``usage`` and hands each event to :class:`AguiStream`, which keeps the few
facts a translation needs (the open text message, the open tool calls, the interrupts, the
usage per model) and returns the AG-UI events, typed by the official ``ag-ui-protocol``
package. Ids are LangGraph's: a ``TEXT_MESSAGE_*`` ``messageId`` is the AI message's id in
later state, a ``toolCallId`` the tool call's id, so a client can match both across runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ag_ui.core import (
    AssistantMessage,
    BaseEvent,
    FunctionCall,
    Interrupt,
    Message,
    MessagesSnapshotEvent,
    ResumeEntry,
    RunAgentInput,
    RunErrorEvent,
    RunFinishedCancelledOutcome,
    RunFinishedEvent,
    RunFinishedInterruptOutcome,
    RunStartedEvent,
    StateSnapshotEvent,
    SystemMessage,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    TokenUsage,
    ToolCall,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
    ToolMessage,
    UserMessage,
)

from lambdagraph.errors import InvalidInput
from lambdagraph.protocol.codec import dumps, loads
from lambdagraph.protocol.events import Event
from lambdagraph.protocol.messages import message_text, plain_message

STREAM_MODES = ("messages-tuple", "values", "updates", "usage")
"""The native stream modes an AG-UI run asks for: everything :class:`AguiStream` reads."""

_NOT_STATE = ("messages", "__interrupt__")
"""Keys of the values a state snapshot leaves out: the messages have their own events, the
interrupts their outcome."""

_ROLES = {"user": "human", "system": "system", "developer": "system", "tool": "tool"}


def run_input(body: RunAgentInput) -> dict[str, Any] | None:
    """The run's graph input: the state the client sent (without ``messages``, which the
    thread holds) and the messages after the last assistant turn, the ones the thread has
    not seen; ``None`` when there is neither (a resume needs no input).

    Raises:
        InvalidInput: a message part other than text (the graphs we serve take text).
    """
    new: list[dict[str, Any]] = []
    for message in reversed(body.messages):
        if message.role in ("assistant", "activity", "reasoning"):
            break
        new.append(_langchain_message(message))
    new.reverse()
    state = body.state if isinstance(body.state, dict) else {}
    values = {key: value for key, value in state.items() if key != "messages"}
    if new:
        values["messages"] = new
    return values or None


def _langchain_message(message: Any) -> dict[str, Any]:
    content = message.content
    if isinstance(content, list):
        parts = []
        for part in content:
            if getattr(part, "type", None) != "text":
                raise InvalidInput(
                    f"Message {message.id}: only text parts are accepted, not {part.type!r}"
                )
            parts.append({"type": "text", "text": part.text})
        content = parts
    converted = {"type": _ROLES[message.role], "content": content or "", "id": message.id}
    if message.role == "tool":
        converted["tool_call_id"] = message.tool_call_id
    return converted


def resume_value(entries: Sequence[ResumeEntry], waiting: set[str]) -> dict[str, Any]:
    """``Command.resume`` for the resume entries: each interrupt id to its answer (a
    ``cancelled`` entry answers ``None``, which the graph reads as no approval).

    Raises:
        InvalidInput: an entry names an interrupt the thread is not waiting on.
    """
    unknown = [entry.interrupt_id for entry in entries if entry.interrupt_id not in waiting]
    if unknown:
        raise InvalidInput(
            f"The thread is not waiting on interrupt {', '.join(unknown)}"
            + (f" (it waits on {', '.join(sorted(waiting))})" if waiting else "")
        )
    return {
        entry.interrupt_id: entry.payload if entry.status == "resolved" else None
        for entry in entries
    }


class AguiStream:
    """Translates one run's native events into AG-UI events.

    Args:
        thread_id: the AG-UI thread (our thread id).
        run_id: the AG-UI run id the client chose (ours travels in ``RUN_STARTED``'s
            ``metadata.lambdagraph_run_id``).
    """

    def __init__(self, thread_id: str, run_id: str) -> None:
        self.thread_id = thread_id
        self.run_id = run_id
        self.text: str | None = None  # the id of the open text message
        self.calls: dict[tuple[str, int], str] = {}  # open tool calls: (message, index) → id
        self.call_names: dict[str, str] = {}
        self.state: Any = None
        self.messages: list[Any] | None = None
        self.interrupts: list[dict[str, Any]] = []
        self.usage: dict[str | None, dict[str, int]] = {}
        self.failed = False

    def start(self, native_run_id: str, body: RunAgentInput) -> list[BaseEvent]:
        """``RUN_STARTED``, echoing the input."""
        return [
            RunStartedEvent(
                thread_id=self.thread_id,
                run_id=self.run_id,
                input=body,
                metadata={"lambdagraph_run_id": native_run_id},
            )
        ]

    def translate(self, event: Event) -> list[BaseEvent]:
        """The AG-UI events one native event amounts to (often none)."""
        data = event.data
        if event.event == "messages" and isinstance(data, (list, tuple)) and data:
            return self._message(plain_message(data[0]))
        if event.event == "values" and isinstance(data, dict):
            return self._values(data)
        if event.event == "updates" and isinstance(data, dict):
            self.interrupts.extend(data.get("__interrupt__") or ())
        elif event.event == "usage" and isinstance(data, dict):
            self._add_usage(data)
        elif event.event == "error" and isinstance(data, dict):
            self.failed = True
            return [
                *self._close(),
                RunErrorEvent(
                    message=str(data.get("message", "")),
                    code=str(data.get("error", "Error")),
                    usage=self._token_usage(),
                ),
            ]
        return []

    def finish(self, *, cancelled: bool) -> list[BaseEvent]:
        """What closes the run: the messages snapshot and ``RUN_FINISHED`` with its
        outcome (interrupt, cancelled, or success), or nothing after a ``RUN_ERROR``."""
        if self.failed:
            return []
        events = self._close()
        if self.messages is not None:
            events.append(MessagesSnapshotEvent(messages=agui_messages(self.messages)))
        outcome: RunFinishedInterruptOutcome | RunFinishedCancelledOutcome | None = None
        if self.interrupts:
            outcome = RunFinishedInterruptOutcome(
                interrupts=[self._interrupt(item) for item in self.interrupts]
            )
        elif cancelled:
            outcome = RunFinishedCancelledOutcome()
        events.append(
            RunFinishedEvent(
                thread_id=self.thread_id,
                run_id=self.run_id,
                outcome=outcome,
                usage=self._token_usage(),
            )
        )
        return events

    def _message(self, chunk: dict[str, Any]) -> list[BaseEvent]:
        kind, message_id = chunk.get("type"), str(chunk.get("id") or "")
        if kind == "tool":
            return [
                *self._close(),
                ToolCallResultEvent(
                    message_id=message_id,
                    tool_call_id=str(chunk.get("tool_call_id")),
                    content=message_text(chunk.get("content")),
                    role="tool",
                ),
            ]
        if kind not in ("AIMessageChunk", "ai"):
            return []
        events: list[BaseEvent] = []
        if self.text not in (None, message_id) or (
            self.calls and all(key[0] != message_id for key in self.calls)
        ):
            events += self._close()
        if text := message_text(chunk.get("content")):
            if self.calls:  # text after a tool call starts a new AG-UI text message
                events += self._close()
            if self.text is None:
                self.text = message_id
                events.append(TextMessageStartEvent(message_id=message_id, role="assistant"))
            events.append(TextMessageContentEvent(message_id=message_id, delta=text))
        if kind == "ai":  # a whole message (a node that did not stream): its calls whole
            pieces = [
                {"id": call.get("id"), "name": call.get("name"), "index": index,
                 "args": dumps(call.get("args") or {}).decode()}
                for index, call in enumerate(chunk.get("tool_calls") or ())
            ]
        else:
            pieces = chunk.get("tool_call_chunks") or []
        for piece in pieces:
            events += self._tool_piece(message_id, piece)
        if kind == "ai" or chunk.get("chunk_position") == "last":
            events += self._close()
        return events

    def _tool_piece(self, message_id: str, piece: dict[str, Any]) -> list[BaseEvent]:
        events: list[BaseEvent] = []
        key = (message_id, int(piece.get("index") or 0))
        if piece.get("id") and key not in self.calls:
            if self.text is not None:
                events.append(TextMessageEndEvent(message_id=self.text))
                self.text = None
            call_id, name = str(piece["id"]), str(piece.get("name") or "")
            self.calls[key] = call_id
            self.call_names[call_id] = name
            events.append(
                ToolCallStartEvent(
                    tool_call_id=call_id, tool_call_name=name, parent_message_id=message_id
                )
            )
        open_call = self.calls.get(key)
        if open_call is not None and piece.get("args"):
            events.append(ToolCallArgsEvent(tool_call_id=open_call, delta=str(piece["args"])))
        return events

    def _close(self) -> list[BaseEvent]:
        events: list[BaseEvent] = []
        if self.text is not None:
            events.append(TextMessageEndEvent(message_id=self.text))
            self.text = None
        events += [ToolCallEndEvent(tool_call_id=call_id) for call_id in self.calls.values()]
        self.calls.clear()
        return events

    def _values(self, values: dict[str, Any]) -> list[BaseEvent]:
        messages = values.get("messages")
        if isinstance(messages, list):
            self.messages = messages
        # The run's live values may hold objects: the snapshot carries their JSON form.
        state = loads(dumps({k: v for k, v in values.items() if k not in _NOT_STATE}))
        if state == self.state:
            return []
        self.state = state
        return [StateSnapshotEvent(snapshot=state)]

    def _add_usage(self, data: dict[str, Any]) -> None:
        call = data.get("call")
        if not isinstance(call, dict):
            return
        model = data.get("model") if isinstance(data.get("model"), str) else None
        total = self.usage.setdefault(model, {})
        for ours, theirs in _USAGE_KEYS.items():
            value = call.get(ours)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                total[theirs] = total.get(theirs, 0) + value

    def _token_usage(self) -> list[TokenUsage] | None:
        if not self.usage:
            return None
        return [
            TokenUsage.model_validate({"model": model, **counts})
            for model, counts in self.usage.items()
        ]

    def _interrupt(self, item: dict[str, Any]) -> Interrupt:
        value = item.get("value")
        action = value.get("action") if isinstance(value, dict) else None
        message = value if isinstance(value, str) else None
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            message = value["message"]
        call_id = next(
            (cid for cid, name in reversed(self.call_names.items()) if name == action), None
        )
        return Interrupt(
            id=str(item.get("id")),
            reason="tool_approval" if call_id else "input_required",
            message=message,
            tool_call_id=call_id,
            metadata={"value": value},
        )


_USAGE_KEYS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "total_tokens": "total_tokens",
    "cache_read_tokens": "cached_input_tokens",
    "cache_write_tokens": "cache_write_input_tokens",
}
"""Our usage total's counts (the cost slice's interface) → AG-UI ``TokenUsage``'s."""




def agui_messages(messages: Sequence[Any]) -> list[Message]:
    """The thread's messages (LangChain's serialised form) as AG-UI messages."""
    converted: list[Message] = []
    for message in map(plain_message, messages):
        kind, message_id = message.get("type"), str(message.get("id") or "")
        text = message_text(message.get("content"))
        if kind == "human":
            converted.append(UserMessage(id=message_id, content=text))
        elif kind == "system":
            converted.append(SystemMessage(id=message_id, content=text))
        elif kind == "tool":
            converted.append(
                ToolMessage(
                    id=message_id, content=text, tool_call_id=str(message.get("tool_call_id"))
                )
            )
        elif kind in ("ai", "AIMessageChunk"):
            calls = [
                ToolCall(
                    id=str(call.get("id")),
                    function=FunctionCall(
                        name=str(call.get("name")), arguments=dumps(call.get("args") or {}).decode()
                    ),
                )
                for call in message.get("tool_calls") or ()
            ]
            converted.append(
                AssistantMessage(id=message_id, content=text or None, tool_calls=calls or None)
            )
    return converted
