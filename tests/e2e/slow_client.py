"""A deliberately slow HTTP client: a raw socket with a tiny receive buffer, read a frame
at a time, so the server sees real TCP back-pressure (an httpx stream would drain the
socket into its own buffers however slowly the caller iterates)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any

import orjson

_RECEIVE_BUFFER = 4096


@dataclass(frozen=True)
class Frame:
    """One SSE frame as received: ``event`` is ``None`` for a comment (heartbeat)."""

    event: str | None
    id: str | None
    data: Any


class SlowStream:
    """POST a JSON body as HTTP/1.0 (no chunked framing: the body runs until the server
    closes) and read the SSE response frame by frame, only as fast as the caller asks."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.status = 0
        self.received = 0

    @classmethod
    async def post(
        cls, url: str, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> SlowStream:
        host, port = url.removeprefix("http://").split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, (host, int(port)))
        payload = orjson.dumps(body)
        lines = [f"POST {path} HTTP/1.0", f"Host: {host}:{port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        await loop.sock_sendall(sock, "\r\n".join(lines).encode() + b"\r\n\r\n" + payload)
        stream = cls(sock)
        head = await stream._until(b"\r\n\r\n")
        stream.status = int(head.split(b" ", 2)[1])
        return stream

    async def next_frame(self) -> Frame | None:
        """The next frame, or ``None`` once the server closed the response."""
        try:
            raw = await self._until(b"\n\n")
        except EOFError:
            return None
        fields: dict[str, str] = {}
        for line in raw.decode().split("\n"):
            name, _, value = line.partition(": ")
            fields[name] = value
        if "" in fields and "event" not in fields:
            return Frame(None, None, fields[""])
        return Frame(fields["event"], fields.get("id"), orjson.loads(fields["data"]))

    def close(self) -> None:
        self.sock.close()

    async def _until(self, marker: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        while marker not in self.buffer:
            chunk = await loop.sock_recv(self.sock, 512)
            if not chunk:
                raise EOFError
            self.received += len(chunk)
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(marker, 1)
        return raw
