"""Timing one streamed run the way a user sees it: through ``langgraph-sdk``, or in-process.

Every target gets the same question and is timed from the moment the stream is requested
(the thread already exists, as in a chat that goes on) to the first event, the first token
(the first ``messages`` chunk with text) and the last token.
"""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

from langgraph_sdk.client import LangGraphClient

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
        now = time.perf_counter() - self.start
        if self.first_event is None:
            self.first_event = now
        if chunk is not None and _content(chunk):
            self.tokens += 1
            self.last_token = now
            if self.first_token is None:
                self.first_token = now

    def timing(self) -> RunTiming:
        if self.first_event is None or self.first_token is None:
            raise RuntimeError("the run streamed no token")
        return RunTiming(self.first_event, self.first_token, self.last_token, self.tokens)


async def time_sdk_run(client: LangGraphClient, text: str) -> RunTiming:
    """One run on a fresh thread, streamed with ``messages-tuple`` through the SDK, to its end.

    The thread is created before the clock starts. An ``error`` event raises.
    """
    thread = await client.threads.create()
    clock = _Clock()
    async for part in client.runs.stream(
        thread["thread_id"], ASSISTANT, input=user_input(text), stream_mode="messages-tuple"
    ):
        if part.event == "error":
            raise RuntimeError(f"the run failed: {part.data}")
        if part.event == "messages":
            clock.event(part.data[0])
        else:
            clock.event()
    return clock.timing()


async def time_inprocess_run(graph: Any, text: str) -> RunTiming:
    """One run of ``graph`` (compiled with an in-memory saver) with ``astream``: the limit."""
    config = {"configurable": {"thread_id": str(uuid.uuid4())}}
    clock = _Clock()
    async for message, _ in graph.astream(user_input(text), config, stream_mode="messages"):
        clock.event(message)
    return clock.timing()


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (0.5: median, 0.99: p99) of ``values``, nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)
