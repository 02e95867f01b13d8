"""What a client asks of a server, timed: each HTTP request and WebSocket, as Lambda bills it.

Each HTTP request to a function URL or an HTTP API is one Lambda invocation that lasts until
its response body ends (for an SSE stream: until the server or the client closes it). Each
WebSocket costs a ``$connect``, one ``$default`` invocation per frame the client sends and a
``$disconnect``. :class:`RecordingTransport` (an ``httpx`` transport) and
:func:`recording_connect` (a ``websockets`` ``connect``) record them as :class:`Span` s,
seen from the client: the handler's own time is at most that.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect


@dataclass
class Span:
    """One server-side handling, seen from the client.

    Attributes:
        kind: ``command`` (POST …/commands), ``stream`` (POST …/stream/events), ``request``
            (any other HTTP call), ``$connect``, ``frame`` (a client frame on ``$default``),
            ``$disconnect``.
        start: ``time.perf_counter()`` when it was sent.
        end: when it was over (the response's end; the frame's answer), ``None`` if never.
        eof: for a stream, whether the server ended it (not the client).
    """

    kind: str
    start: float
    end: float | None = None
    eof: bool = False

    @property
    def seconds(self) -> float:
        """How long it lasted (0 if it never ended)."""
        return (self.end - self.start) if self.end is not None else 0.0


@dataclass
class Recording:
    """Everything one client did: the spans, and the WebSocket messages it received."""

    spans: list[Span] = field(default_factory=list)
    ws_messages_received: int = 0

    def of(self, *kinds: str) -> list[Span]:
        """The spans of these kinds."""
        return [span for span in self.spans if span.kind in kinds]


def _kind(request: httpx.Request) -> str:
    path = request.url.path
    if path.endswith("/commands"):
        return "command"
    return "stream" if path.endswith("/stream/events") else "request"


class _RecordedBody(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, span: Span) -> None:
        self._inner = inner
        self._span = span

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk
        self._span.eof = True

    async def aclose(self) -> None:
        self._span.end = time.perf_counter()
        await self._inner.aclose()


class RecordingTransport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport that records a :class:`Span` per request, until its body ends."""

    def __init__(self, recording: Recording, inner: httpx.AsyncBaseTransport | None = None):
        self._recording = recording
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        span = Span(_kind(request), time.perf_counter())
        self._recording.spans.append(span)
        response = await self._inner.handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _RecordedBody(response.stream, span)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _RecordedSocket:
    """The parts of a ``websockets`` connection the SDK uses, each frame timed to its answer."""

    def __init__(self, socket: ClientConnection, recording: Recording) -> None:
        self._socket = socket
        self._recording = recording
        self._pending: dict[Any, Span] = {}

    async def send(self, message: str) -> None:
        span = Span("frame", time.perf_counter())
        self._recording.spans.append(span)
        frame = orjson.loads(message)
        self._pending[frame.get("id") if isinstance(frame, dict) else None] = span
        await self._socket.send(message)

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        async for raw in self._socket:
            self._recording.ws_messages_received += 1
            message = orjson.loads(raw)
            answered = isinstance(message, dict) and message.get("type") in ("success", "error")
            if answered and (span := self._pending.pop(message.get("id"), None)) is not None:
                span.end = time.perf_counter()
            yield raw

    async def close(self, code: int = 1000, reason: str = "") -> None:
        span = Span("$disconnect", time.perf_counter())
        self._recording.spans.append(span)
        await self._socket.close(code, reason)
        span.end = time.perf_counter()


def recording_connect(recording: Recording) -> Any:
    """A drop-in for ``websockets.asyncio.client.connect`` that records into ``recording``."""

    @asynccontextmanager
    async def connect(url: str, **options: Any) -> AsyncIterator[_RecordedSocket]:
        span = Span("$connect", time.perf_counter())
        recording.spans.append(span)
        async with websocket_connect(url, **options) as socket:
            span.end = time.perf_counter()
            yield _RecordedSocket(socket, recording)

    return connect
