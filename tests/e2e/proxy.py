"""A loopback TCP proxy that cuts one SSE response mid-stream, like a dropped mobile link."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


class CuttingProxy:
    """Forwards connections to ``upstream``; the first response that is an event stream is
    cut (both sockets closed) after ``cut_after`` bytes of its body have been relayed."""

    def __init__(self, upstream_host: str, upstream_port: int, *, cut_after: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.cut_after = cut_after
        self.cuts = 0
        self.server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> CuttingProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, cut=False),
                self._pump(up_reader, writer, cut=True),
            )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (writer, up_writer):
                w.close()
            self._tasks.discard(task)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, cut: bool
    ) -> None:
        relayed = 0
        streaming = False
        while data := await reader.read(4096):
            if cut and self.cuts == 0 and not streaming and b"text/event-stream" in data:
                streaming = True
            if streaming and self.cuts == 0 and relayed + len(data) >= self.cut_after:
                writer.write(data[: max(0, self.cut_after - relayed)])
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
                self.cuts += 1
                raise ConnectionResetError("cut by the test proxy")
            if streaming:
                relayed += len(data)
            writer.write(data)
            await writer.drain()
        writer.close()
