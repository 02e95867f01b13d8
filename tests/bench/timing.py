"""Timing one streamed run the way a user sees it: through ``langgraph-sdk``, or in-process.

Every target gets the same question and is timed from the moment the stream is requested
(the thread already exists, as in a chat that goes on) to the first event, the first token
(the first ``messages`` chunk with text) and the last token. The thread-centric protocol
("v2", :func:`time_thread_run`) is timed from its ``run.start`` the same way.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from langgraph_sdk.client import LangGraphClient

from lambdagraph.engine.v3_stream import V2_TRANSFORMERS
from lambdagraph_client.websocket import WebSocketClient

ASSISTANT = "agent"


@dataclass(frozen=True)
class RunTiming:
    """Seconds from the request to the first event, first token and last token."""

    first_event: float
    first_token: float
    last_token: float
    tokens: int

    @property
    def tokens_per_second(self) -> float:
        """Tokens delivered per second, request to last token."""
        return self.tokens / self.last_token if self.last_token > 0 else 0.0


def user_input(text: str) -> dict[str, Any]:
    """Graph input with one user message."""
    return {"messages": [{"role": "user", "content": text}]}


def _content(chunk: Any) -> Any:
    if isinstance(chunk, dict):
        return chunk.get("content")
    return getattr(chunk, "content", None)


class _Clock:
    """Collects the moments of one run."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first_event: float | None = None
        self.first_token: float | None = None
        self.last_token = 0.0
        self.tokens = 0

    def event(self, chunk: Any | None = None) -> None:
        self.tick(token=chunk is not None and bool(_content(chunk)))

    def tick(self, *, token: bool, count: int = 1) -> None:
        now = time.perf_counter() - self.start
        if self.first_event is None:
            self.first_event = now
        if token:
            self.tokens += count
            self.last_token = now
            if self.first_token is None:
                self.first_token = now

    def timing(self) -> RunTiming:
        if self.first_event is None or self.first_token is None:
            raise RuntimeError("the run streamed no token")
        return RunTiming(self.first_event, self.first_token, self.last_token, self.tokens)


async def time_sdk_run(
    client: LangGraphClient, text: str, *, existing: bool = False
) -> RunTiming:
    """One run streamed with ``messages-tuple`` through the SDK, to its end.

    On a new thread (``POST /threads`` just before the clock starts), or with ``existing`` on
    a thread that has had a run already (the same question, untimed), as a conversation's
    next turn. An ``error`` event raises.
    """
    thread_id = (await client.threads.create())["thread_id"]
    if existing:
        await _drain(client, thread_id, text)
    clock = _Clock()
    async for part in client.runs.stream(
        thread_id, ASSISTANT, input=user_input(text), stream_mode="messages-tuple"
    ):
        if part.event == "error":
            raise RuntimeError(f"the run failed: {part.data}")
        if part.event == "messages":
            clock.event(part.data[0])
        else:
            clock.event()
    return clock.timing()


async def _drain(client: LangGraphClient, thread_id: str, text: str) -> None:
    async for part in client.runs.stream(thread_id, ASSISTANT, input=user_input(text)):
        if part.event == "error":
            raise RuntimeError(f"the run failed: {part.data}")


async def time_inprocess_run(graph: Any, text: str, *, existing: bool = False) -> RunTiming:
    """One run of ``graph`` (compiled with an in-memory saver) with ``astream``: the limit.

    With ``existing``, the thread has had one run of the same question first (untimed).
    """
    config = {"configurable": {"thread_id": str(uuid.uuid4())}}
    if existing:
        await graph.ainvoke(user_input(text), config)
    clock = _Clock()
    async for message, _ in graph.astream(user_input(text), config, stream_mode="messages"):
        clock.event(message)
    return clock.timing()


async def time_ws_run(client: WebSocketClient, text: str) -> RunTiming:
    """One run over the WebSocket API (``run`` action, ``messages-tuple``), to its end.

    On a new thread the run creates. The server batches token events into fewer messages and
    folds consecutive text chunks of one message, so tokens are counted in the text (one
    number each in ``count to N``), not per event.
    """
    clock = _Clock()
    run = await client.run(user_input(text), stream_mode=["messages-tuple"])
    async for event in client.events(run.run_id):
        if event.event == "error":
            raise RuntimeError(f"the run failed: {event.data}")
        content = _content(event.data[0]) if event.event == "messages" else None
        text_part = content if isinstance(content, str) else ""
        clock.tick(token=bool(text_part), count=len(text_part.split()))
    return clock.timing()


async def time_inprocess_v3_run(graph: Any, text: str) -> RunTiming:
    """One run of ``graph`` with ``astream_events(version="v3")`` and a v2 run's transformers:
    what a v2 run streams from, with no server (a token: a ``content-block-delta``)."""
    config = {"configurable": {"thread_id": str(uuid.uuid4())}}
    clock = _Clock()
    stream = await graph.astream_events(
        user_input(text), config, version="v3", transformers=list(V2_TRANSFORMERS)
    )
    async with stream:
        async for event in stream:
            data = event["params"]["data"] if event.get("method") == "messages" else None
            payload = data[0] if isinstance(data, tuple) else None  # (payload, metadata)
            clock.tick(token=bool(delta_text({"params": {"data": payload or {}}})))
    return clock.timing()


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (0.5: median, 0.99: p99) of ``values``, nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)


def delta_text(event: Mapping[str, Any]) -> str:
    """The text of a v2 ``content-block-delta`` frame (empty for any other frame)."""
    data = event.get("params", {}).get("data", {})
    delta = data.get("delta") if data.get("event") == "content-block-delta" else None
    text = delta.get("text") if isinstance(delta, dict) else None
    return text if isinstance(text, str) else ""


async def time_thread_run(
    client: LangGraphClient,
    text: str,
    transport: Literal["sse", "websocket"],
    headers: Mapping[str, str] | None = None,
    thread_id: str | None = None,
) -> RunTiming:
    """One run through the SDK's thread stream (``client.threads.stream``), to its end.

    As the SDK's own examples do it: open a session on the thread (``thread_id=None``: a new
    one, the SDK mints its id and the server creates the thread on ``run.start``), start the
    run, then iterate a ``messages`` subscription until the run's terminal ``lifecycle`` event
    ends it. The clock starts just before ``run.start`` (after the session is open: on a
    named thread the SDK's lifecycle watcher may still be opening); a token is a
    ``content-block-delta`` with text. ``headers`` go on every command and stream: the SDK's
    WebSocket handshake carries these, not the client's default headers.
    """
    async with client.threads.stream(
        thread_id, assistant_id=ASSISTANT, transport=transport, headers=headers
    ) as thread:
        clock = _Clock()
        await thread.run.start(input=user_input(text))
        async for event in thread.subscribe(["messages"]):
            delta = delta_text(event)
            # A server may fold queued deltas into one frame: count the answer's tokens (one
            # number each, "1", " 2", ...), not the frames.
            clock.tick(token=bool(delta), count=len(delta.split()))
    return clock.timing()
