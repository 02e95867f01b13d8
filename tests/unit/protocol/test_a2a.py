"""A2A translation: token chunks as artifact appends, tool calls as data parts, interrupt."""

from __future__ import annotations

from a2a.types import TaskArtifactUpdateEvent, TaskState, TaskStatusUpdateEvent
from google.protobuf.json_format import MessageToDict

from lambdagraph.protocol.a2a import A2aStream
from lambdagraph.protocol.events import Event


def _chunk(text: str, **extra: object) -> Event:
    return Event("messages", [{"type": "AIMessageChunk", "id": "ai-1", "content": text, **extra},
                              {}])


def test_tokens_append_to_one_artifact_closed_by_a_last_chunk() -> None:
    stream = A2aStream("t", "c")
    events = [e for text in ("Hel", "lo") for e in stream.translate(_chunk(text))]
    events += stream.finish("success")

    chunks = [e for e in events if isinstance(e, TaskArtifactUpdateEvent)]
    assert [(c.artifact.parts[0].text, c.append, c.last_chunk) for c in chunks] == [
        ("Hel", False, False), ("lo", True, False), ("", True, True)]
    assert chunks[0].artifact.artifact_id == "ai-1"
    assert events[-1].status.state == TaskState.TASK_STATE_COMPLETED  # type: ignore[union-attr]
    assert stream.task(TaskState.TASK_STATE_COMPLETED).artifacts[0].parts[0].text == "Hello"


def test_a_tool_call_then_an_interrupt_asks_for_input() -> None:
    stream = A2aStream("t", "c")
    call = {"id": "call-1", "name": "send_email", "args": '{"to": "a@b.c"}', "index": 0}
    events = stream.translate(_chunk("", tool_call_chunks=[call], chunk_position="last"))
    stream.translate(Event("updates", {"__interrupt__": [
        {"id": "i-1", "value": {"action": "send_email", "message": "Approve?"}}]}))
    events += stream.finish("success")

    status = [e for e in events if isinstance(e, TaskStatusUpdateEvent)]
    assert MessageToDict(status[0].status.message.parts[0])["data"]["toolCall"] == {
        "id": "call-1", "name": "send_email", "args": {"to": "a@b.c"}}
    assert status[-1].status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert status[-1].status.message.parts[0].text == "Approve?"


def test_an_error_fails_the_task_with_its_message() -> None:
    stream = A2aStream("t", "c")
    stream.translate(Event("error", {"error": "ValueError", "message": "bad"}))
    final = stream.finish("error")[-1]
    assert final.status.state == TaskState.TASK_STATE_FAILED  # type: ignore[union-attr]
    assert final.status.message.parts[0].text == "bad"  # type: ignore[union-attr]
