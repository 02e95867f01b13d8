"""``lambdagraph chat --protocol v2``: the terminal chat over the Agent Streaming Protocol.

Same output and approval flow as the other chats (:mod:`lambdagraph_client.chat`), over the
thread-centric protocol through ``langgraph-sdk``'s thread-stream transports: ``run.start``
and ``input.respond`` go to ``POST /threads/{tid}/commands``; the run's frames are read from
``/threads/{tid}/stream/events`` (SSE, or the WebSocket with ``--ws``) after the command's
``meta.applied_through_seq`` (or the last frame this chat saw, if later), so a continued
thread does not replay its earlier runs.
Tokens come from ``messages`` content-block deltas, tool calls and results from ``values``
snapshots, approvals from ``input.requested``; the run ends at its root terminal lifecycle.

The transports are used directly rather than ``client.threads.stream(...)``'s projections:
langgraph-sdk 0.4.14 ends every projection iterator when its lifecycle watcher sees an
interrupt, which can happen before the projection has read the frames that precede it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TextIO

from lambdagraph_client.chat import (
    ChatError,
    Decide,
    RunPrinter,
    converse,
    pending_interrupts,
)

if TYPE_CHECKING:
    from langgraph_sdk.client import SyncLangGraphClient
    from langgraph_sdk.stream.transport import SyncProtocolTransport

CHANNELS: Final = ["messages", "values", "lifecycle", "input"]
_RUN_ENDS: Final = frozenset({"completed", "failed", "interrupted"})


class FramePrinter(RunPrinter):
    """Prints one run's protocol frames as :class:`RunPrinter` prints run events."""

    def __init__(self, out: TextIO, known_messages: int = 0, since: int = 0) -> None:
        super().__init__(out)
        self.known_messages = known_messages
        self.last_seq = since

    def consume_frames(self, frames: Iterable[Mapping[str, Any]]) -> None:
        """Print frames until the run's root lifecycle ends it (completed, failed, paused)."""
        for frame in frames:
            seq = frame.get("seq")
            if isinstance(seq, int):
                if seq <= self.last_seq:
                    continue  # seen in an earlier run of this chat
                self.last_seq = seq
            params = frame.get("params") or {}
            data = params.get("data") or {}
            if params.get("namespace"):
                continue  # subgraphs' frames: the reply is the root graph's
            method = frame.get("method")
            if method == "messages" and data.get("event") == "content-block-delta":
                self._token({"type": "ai", "content": (data.get("delta") or {}).get("text", "")})
            elif method == "values":
                self._values(data)
            elif method == "input.requested":
                # The reference server names the interrupt's value `payload`.
                value = data.get("payload", data.get("value"))
                self.interrupts.append({"id": data.get("interrupt_id"), "value": value})
            elif method == "lifecycle" and data.get("event") in _RUN_ENDS:
                if data.get("event") == "failed":
                    self.error = str(data.get("error") or "the run failed")
                return
            self.out.flush()

    def _values(self, state: Mapping[str, Any]) -> None:
        messages = state.get("messages") or []
        new = messages[self.known_messages :]
        self.known_messages = len(messages)
        self._update({"values": {"messages": [m for m in new if isinstance(m, dict)]}})


@dataclass
class _Session:
    """What the chat carries from one run of the thread to the next."""

    interrupts: Sequence[Mapping[str, Any]] = field(default_factory=list)
    known_messages: int = 0
    commands: int = 0
    last_seq: int = 0


def run_chat(
    client: SyncLangGraphClient,
    message: str | None,
    *,
    decide: Decide,
    out: TextIO,
    thread_id: str | None = None,
    assistant_id: str = "agent",
    websocket: bool = False,
) -> int:
    """The chat over the Agent Streaming Protocol, as the other chats behave: the exit status.

    The thread is created by the first ``run.start`` (the protocol creates threads lazily),
    which also names an unknown assistant (LangGraph Server's REST API takes only UUIDs).

    Raises:
        ChatError: the server answered a command with an error (an unknown assistant, say).
    """
    pending: Sequence[Mapping[str, object]] = []
    session = _Session()
    if thread_id is None:
        thread_id = str(uuid.uuid4())
    else:
        pending = pending_interrupts(client, thread_id)
        session.interrupts = list(pending)
        values = client.threads.get_state(thread_id).get("values")
        session.known_messages = len(values.get("messages", []) if isinstance(values, dict) else [])
    out.write(f"thread {thread_id}\n")
    transport = _transport(client, thread_id, websocket)

    def stream(request: dict[str, Any]) -> int | dict[str, Any]:
        if "command" in request:
            method, params = "input.respond", {
                "interrupt_id": session.interrupts[0].get("id"),
                "namespace": [],
                "response": request["command"]["resume"],
            }
        else:
            method, params = "run.start", {"assistant_id": assistant_id, **request}
        session.commands += 1
        applied = _send(transport, session.commands, method, params)
        # input.respond may answer with a sequence from before the interrupt it resumes.
        since = max(applied, session.last_seq)
        printer = FramePrinter(out, session.known_messages, since)
        handle = transport.open_event_stream({"channels": CHANNELS, "since": since})
        try:
            printer.consume_frames(handle.events)
        finally:
            handle.close()
        session.known_messages, session.interrupts = printer.known_messages, printer.interrupts
        session.last_seq = printer.last_seq
        return printer.finish(decide)

    flags = " --protocol v2" + (" --ws" if websocket else "")
    again = f"lambdagraph chat{flags} --thread {thread_id}"
    try:
        return converse(message, pending, stream, decide=decide, out=out, again=lambda: again)
    finally:
        transport.close()


def _transport(
    client: SyncLangGraphClient, thread_id: str, websocket: bool
) -> SyncProtocolTransport:
    from langgraph_sdk.stream.transport import (  # lazy: the `local` extra
        SyncProtocolSseTransport,
        SyncProtocolWebSocketTransport,
    )

    kind = SyncProtocolWebSocketTransport if websocket else SyncProtocolSseTransport
    transport: SyncProtocolTransport = kind(client=client.http.client, thread_id=thread_id)
    return transport


def _send(transport: SyncProtocolTransport, command_id: int, method: str, params: Any) -> int:
    """Send one command; the sequence number the server had applied through (replay after it)."""
    response = transport.send_command({"id": command_id, "method": method, "params": params})
    if response is None:
        return 0
    if response.get("type") == "error":
        raise ChatError(f"{method}: {response.get('error')}: {response.get('message', '')}")
    meta = response.get("meta") or {}
    return int(meta.get("applied_through_seq", meta.get("appliedThroughSeq", 0)) or 0)
