"""A2A: a run's native events translated into A2A task events, typed by ``a2a-sdk``.

The A2A route (``http/a2a.py``) asks the run service for ``messages-tuple`` and ``updates``
and hands each event to :class:`A2aStream`, which returns A2A 1.0 events (``a2a.types``
protobuf messages; the SDK's compat layer turns them into 0.3 shapes for 0.3 clients):

* the answer's tokens are ``TaskArtifactUpdateEvent`` chunks of one artifact per AI message
  (artifact id = LangGraph's message id): the first with ``append=false``, the next with
  ``append=true``, and an empty ``lastChunk`` when the message ends;
* a tool call and a tool result are ``working`` status updates carrying a data part
  (``toolCall``/``toolResult``);
* an interrupt ends the stream with ``input-required`` (its value in a data part); the end
  of the run with ``completed``, ``canceled`` or ``failed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Final

from a2a.types import (
    Artifact,
    Message,
    Part,
    Role,
    Task,
    TaskArtifactUpdateEvent,
    TaskState,
    TaskStatus,
    TaskStatusUpdateEvent,
)
from google.protobuf.json_format import ParseDict
from google.protobuf.struct_pb2 import Value
from google.protobuf.timestamp_pb2 import Timestamp

from lambdagraph.protocol.codec import dumps, loads
from lambdagraph.protocol.events import Event
from lambdagraph.protocol.messages import message_text, plain_message

STREAM_MODES: Final = ("messages-tuple", "updates")
"""The native stream modes an A2A run asks for: everything :class:`A2aStream` reads."""

ANSWER: Final = "answer"
"""The name of the artifacts that carry the agent's text."""

A2aEvent = Task | TaskStatusUpdateEvent | TaskArtifactUpdateEvent

RUN_STATES: Final[dict[str, TaskState]] = {
    "pending": TaskState.TASK_STATE_SUBMITTED,
    "running": TaskState.TASK_STATE_WORKING,
    "success": TaskState.TASK_STATE_COMPLETED,
    "interrupted": TaskState.TASK_STATE_CANCELED,
    "error": TaskState.TASK_STATE_FAILED,
    "timeout": TaskState.TASK_STATE_FAILED,
}
"""A run's status → its task's state (a run that stopped at an interrupt: input-required)."""

TERMINAL: Final = frozenset(
    {
        TaskState.TASK_STATE_COMPLETED,
        TaskState.TASK_STATE_CANCELED,
        TaskState.TASK_STATE_FAILED,
        TaskState.TASK_STATE_REJECTED,
    }
)


def data_part(data: Any) -> Part:
    """A data part holding ``data`` (any JSON value)."""
    return Part(data=ParseDict(loads(dumps(data)), Value()))


def agent_message(task_id: str, context_id: str, parts: Sequence[Part]) -> Message:
    """A message from the agent on the task."""
    return Message(
        message_id=str(uuid.uuid4()),
        context_id=context_id,
        task_id=task_id,
        role=Role.ROLE_AGENT,
        parts=list(parts),
    )


def status(state: TaskState, message: Message | None = None) -> TaskStatus:
    """A task status stamped now."""
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return TaskStatus(state=state, message=message, timestamp=stamp)


def interrupt_parts(interrupts: Sequence[dict[str, Any]]) -> list[Part]:
    """What an ``input-required`` status says: the question's text when it has one, and
    the interrupts (id and value) as data."""
    parts = []
    for item in interrupts:
        value = item.get("value")
        text = value if isinstance(value, str) else None
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            text = value["message"]
        if text:
            parts.append(Part(text=text))
    items = [{"id": item.get("id"), "value": item.get("value")} for item in interrupts]
    parts.append(data_part({"interrupts": items}))
    return parts


class A2aStream:
    """Translates one run's native events into the A2A events of its task.

    Args:
        task_id: the A2A task id.
        context_id: the A2A context id (our thread id).
    """

    def __init__(self, task_id: str, context_id: str) -> None:
        self.task_id = task_id
        self.context_id = context_id
        self.open: str | None = None  # the artifact (AI message) being streamed
        self.texts: dict[str, str] = {}  # artifact id → its whole text so far
        self.calls: dict[tuple[str, int], dict[str, Any]] = {}
        self.interrupts: list[dict[str, Any]] = []
        self.error: str | None = None

    def task(self, state: TaskState, history: Sequence[Message] = ()) -> Task:
        """The task as it stands (its artifacts: the texts streamed so far)."""
        return Task(
            id=self.task_id,
            context_id=self.context_id,
            status=status(state),
            artifacts=[
                Artifact(artifact_id=key, name=ANSWER, parts=[Part(text=text)])
                for key, text in self.texts.items()
            ],
            history=list(history),
        )

    def translate(self, event: Event) -> list[A2aEvent]:
        """The A2A events one native event amounts to (often none)."""
        data = event.data
        if event.event == "messages" and isinstance(data, (list, tuple)) and data:
            return self._message(plain_message(data[0]))
        if event.event == "updates" and isinstance(data, dict):
            self.interrupts.extend(data.get("__interrupt__") or ())
        elif event.event == "error" and isinstance(data, dict):
            self.error = str(data.get("message") or data.get("error") or "The run failed")
        return []

    def finish(self, run_status: str) -> list[A2aEvent]:
        """The events that end the run: open artifacts closed, then the final status."""
        events = self._close()
        if self.error is not None:
            parts = [Part(text=self.error)]
            return [*events, self._status(TaskState.TASK_STATE_FAILED, parts)]
        if self.interrupts and run_status == "success":
            state = TaskState.TASK_STATE_INPUT_REQUIRED
            return [*events, self._status(state, interrupt_parts(self.interrupts))]
        state = RUN_STATES.get(run_status, TaskState.TASK_STATE_FAILED)
        return [*events, self._status(state)]

    def _status(
        self, state: TaskState, parts: Sequence[Part] | None = None
    ) -> TaskStatusUpdateEvent:
        message = agent_message(self.task_id, self.context_id, parts) if parts else None
        return TaskStatusUpdateEvent(
            task_id=self.task_id, context_id=self.context_id, status=status(state, message)
        )

    def _message(self, chunk: dict[str, Any]) -> list[A2aEvent]:
        kind, message_id = chunk.get("type"), str(chunk.get("id") or "")
        if kind == "tool":
            result = {
                "toolCallId": chunk.get("tool_call_id"),
                "name": chunk.get("name"),
                "content": message_text(chunk.get("content")),
            }
            return [*self._close(), self._status_data({"toolResult": result})]
        if kind not in ("AIMessageChunk", "ai"):
            return []
        events: list[A2aEvent] = []
        if self.open not in (None, message_id):
            events += self._close()
        if text := message_text(chunk.get("content")):
            events.append(self._chunk(message_id, text))
        if kind == "ai":
            for index, call in enumerate(chunk.get("tool_calls") or ()):
                self.calls[(message_id, index)] = {
                    "id": call.get("id"), "name": call.get("name"), "args": call.get("args")
                }
        for piece in chunk.get("tool_call_chunks") or ():
            call = self.calls.setdefault((message_id, int(piece.get("index") or 0)), {})
            if piece.get("id"):
                call["id"], call["name"] = piece["id"], piece.get("name")
            call["args_text"] = call.get("args_text", "") + str(piece.get("args") or "")
        if kind == "ai" or chunk.get("chunk_position") == "last":
            events += self._close()
        return events

    def _chunk(self, message_id: str, text: str) -> TaskArtifactUpdateEvent:
        append = message_id in self.texts
        self.texts[message_id] = self.texts.get(message_id, "") + text
        self.open = message_id
        return TaskArtifactUpdateEvent(
            task_id=self.task_id,
            context_id=self.context_id,
            artifact=Artifact(artifact_id=message_id, name=ANSWER, parts=[Part(text=text)]),
            append=append,
        )

    def _close(self) -> list[A2aEvent]:
        events: list[A2aEvent] = []
        if self.open is not None:
            events.append(
                TaskArtifactUpdateEvent(
                    task_id=self.task_id,
                    context_id=self.context_id,
                    artifact=Artifact(artifact_id=self.open, name=ANSWER, parts=[Part(text="")]),
                    append=True,
                    last_chunk=True,
                )
            )
            self.open = None
        for call in self.calls.values():
            args = call.get("args")
            if args is None:
                try:
                    args = loads(call.get("args_text") or "{}")
                except ValueError:
                    args = call.get("args_text")
            payload = {"id": call.get("id"), "name": call.get("name"), "args": args}
            events.append(self._status_data({"toolCall": payload}))
        self.calls.clear()
        return events

    def _status_data(self, data: dict[str, Any]) -> TaskStatusUpdateEvent:
        return self._status(TaskState.TASK_STATE_WORKING, [data_part(data)])
