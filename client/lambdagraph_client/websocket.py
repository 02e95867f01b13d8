"""A small Python client for the WebSocket API, with automatic reconnect and resume.

Example:
    >>> async with WebSocketClient("ws://127.0.0.1:8000/ws", token="alice") as client:
    ...     run = await client.run({"messages": [{"role": "user", "content": "count to 3"}]})
    ...     async for event in client.events(run.run_id):
    ...         print(event.event, event.data)
    ...     print(client.status(run.run_id))

When the connection drops while :meth:`WebSocketClient.events` is iterating, the client
reconnects (new connection id) and sends ``subscribe`` with ``after`` = the last event id it
yielded, so every event arrives exactly once. A ``slow_consumer`` error (the server detached
this connection from the run because it fell behind) is answered the same way, without
reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Self
from urllib.parse import urlencode

import orjson
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from lambdagraph.protocol.events import Event
from lambdagraph.protocol.ws import FRAME_BYTES

logger = logging.getLogger(__name__)

_ENDED: Final = object()
_RESUBSCRIBE: Final = object()


class WebSocketError(Exception):
    """The server answered an action with an ``error`` message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AcceptedRun:
    """A run the server accepted."""

    run_id: str
    thread_id: str
    request_id: str


class WebSocketClient:
    """Talks to the lambdagraph WebSocket API.

    Args:
        url: the API's URL, e.g. ``ws://127.0.0.1:8000/ws`` or ``wss://…/prod``.
        token: sent as the ``token`` query parameter (the authorizer reads it).
        reconnect_attempts: reconnects tried (with backoff) before :meth:`events` gives up.
        timeout: seconds to wait for an answer to an action.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        reconnect_attempts: int = 5,
        timeout: float = 30.0,
    ) -> None:
        separator = "&" if "?" in url else "?"
        self.url = f"{url}{separator}{urlencode({'token': token})}" if token else url
        self.reconnect_attempts = reconnect_attempts
        self.timeout = timeout
        self.connection: ClientConnection | None = None
        self.reconnects = 0
        self._reader: asyncio.Task[None] | None = None
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._runs: dict[str, asyncio.Queue[Any]] = {}
        self._last_ids: dict[str, str] = {}
        self._status: dict[str, str] = {}
        self._lost = asyncio.Event()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the connection (the authorizer runs now; a refusal raises)."""
        self.connection = await websockets.connect(self.url, max_size=None)
        self._lost = asyncio.Event()
        self._reader = asyncio.create_task(self._read(self.connection, self._lost))

    async def close(self) -> None:
        """Close the connection."""
        if self.connection is not None:
            await self.connection.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def run(
        self,
        input: Any = None,
        *,
        assistant_id: str = "agent",
        thread_id: str | None = None,
        command: dict[str, Any] | None = None,
        stream_mode: Sequence[str] | None = None,
        config: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> AcceptedRun:
        """Start a run; returns once the server answers ``run.accepted``.

        ``request_id`` makes a retry safe: the server starts nothing new for a repeat.
        """
        request_id = request_id or str(uuid.uuid4())
        frame: dict[str, Any] = {"action": "run", "assistant_id": assistant_id, "input": input}
        for name, value in (
            ("thread_id", thread_id),
            ("command", command),
            ("stream_mode", stream_mode),
            ("config", config),
        ):
            if value is not None:
                frame[name] = value
        answer = await self._request(frame, request_id)
        self._runs.setdefault(answer["run_id"], asyncio.Queue())
        return AcceptedRun(answer["run_id"], answer["thread_id"], request_id)

    async def cancel(self, run_id: str) -> None:
        """Ask the server to cancel a run; its ``run.ended`` arrives through :meth:`events`."""
        await self._send({"action": "cancel", "run_id": run_id, "request_id": str(uuid.uuid4())})

    async def subscribe(self, run_id: str, after: str | None = None) -> None:
        """Follow a run from after event id ``after`` (from the start when omitted)."""
        self._runs.setdefault(run_id, asyncio.Queue())
        frame: dict[str, Any] = {
            "action": "subscribe",
            "run_id": run_id,
            "request_id": str(uuid.uuid4()),
        }
        if after is not None:
            frame["after"] = after
        await self._send(frame)

    async def ping(self) -> None:
        """Round-trip a ``ping``."""
        await self._request({"action": "ping"}, str(uuid.uuid4()), answer="pong")

    def status(self, run_id: str) -> str | None:
        """The run's final status once ``run.ended`` arrived."""
        return self._status.get(run_id)

    async def events(self, run_id: str) -> AsyncIterator[Event]:
        """The run's events until ``run.ended``, resuming transparently after a reconnect.

        Raises:
            ConnectionError: reconnecting failed ``reconnect_attempts`` times.
        """
        queue = self._runs.setdefault(run_id, asyncio.Queue())
        while True:
            getter = asyncio.ensure_future(queue.get())
            lost = asyncio.ensure_future(self._lost.wait())
            done, _ = await asyncio.wait({getter, lost}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                await self._reconnect(run_id)
                continue
            lost.cancel()
            item = getter.result()
            if item is _ENDED:
                return
            if item is _RESUBSCRIBE:  # detached as too slow: ask again from where we are
                await self.subscribe(run_id, after=self._last_ids.get(run_id))
                continue
            last = self._last_ids.get(run_id)
            if item.id is not None and last is not None and int(item.id) <= int(last):
                continue  # already seen before a reconnect
            if item.id is not None:
                self._last_ids[run_id] = item.id
            yield item

    async def _reconnect(self, run_id: str) -> None:
        for attempt in range(self.reconnect_attempts):
            await asyncio.sleep(min(5.0, 0.1 * 2**attempt))
            try:
                await self.connect()
            except (OSError, InvalidHandshake) as exc:
                logger.info("reconnect %d failed: %s", attempt + 1, exc)
                continue
            self.reconnects += 1
            await self.subscribe(run_id, after=self._last_ids.get(run_id))
            return
        raise ConnectionError(f"Could not reconnect after {self.reconnect_attempts} attempts")

    async def _request(
        self, frame: dict[str, Any], request_id: str, *, answer: str | None = None
    ) -> dict[str, Any]:
        key = answer or request_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[key] = future
        try:
            await self._send({**frame, "request_id": request_id})
            message = await asyncio.wait_for(future, self.timeout)
        finally:
            self._waiters.pop(key, None)
        if message["type"] == "error":
            raise WebSocketError(message["code"], message["message"])
        return message

    async def _send(self, frame: dict[str, Any]) -> None:
        if self.connection is None:
            raise ConnectionError("Not connected; call connect() first")
        text = orjson.dumps(frame).decode()
        # API Gateway closes the connection on a frame over 32 KB: send larger messages
        # (up to its 128 KB message limit) as fragments.
        if len(text.encode()) <= FRAME_BYTES:
            await self.connection.send(text)
        else:
            step = FRAME_BYTES // 4  # characters; UTF-8 needs at most 4 bytes for one
            await self.connection.send(text[i : i + step] for i in range(0, len(text), step))

    async def _read(self, connection: ClientConnection, lost: asyncio.Event) -> None:
        try:
            async for raw in connection:
                self._dispatch(orjson.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            lost.set()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "events":
            queue = self._runs.setdefault(message["run_id"], asyncio.Queue())
            for item in message["events"]:
                queue.put_nowait(Event(item["event"], item["data"], item.get("id")))
        elif kind == "run.ended":
            self._status[message["run_id"]] = message["status"]
            self._runs.setdefault(message["run_id"], asyncio.Queue()).put_nowait(_ENDED)
        elif kind == "run.accepted":
            self._resolve(message.get("request_id"), message)
        elif kind == "pong":
            self._resolve("pong", message)
        elif kind == "error":
            if self._resolve(message.get("request_id"), message):
                return
            run_id = message.get("run_id")
            if run_id in self._runs and message["code"] == "slow_consumer":
                self._runs[run_id].put_nowait(_RESUBSCRIBE)
            elif run_id in self._runs:  # e.g. event_too_large: the run goes on without it
                data = {"error": message["code"], "message": message["message"]}
                self._runs[run_id].put_nowait(Event("error", data, message.get("event_id")))
            else:
                logger.warning("server error %s: %s", message["code"], message["message"])

    def _resolve(self, key: str | None, message: dict[str, Any]) -> bool:
        future = self._waiters.get(key) if key is not None else None
        if future is None or future.done():
            return False
        future.set_result(message)
        return True
