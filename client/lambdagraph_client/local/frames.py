"""uvicorn's WebSocket protocol with API Gateway's frame limit.

API Gateway closes a connection with 1009 when a frame passes 32 KB, even when the message it
belongs to fits in 128 KB: a larger message must arrive split into frames of 32 KB or less.
ASGI hands the gateway emulator whole messages, so the frame limit is enforced here, where
frames are still visible; the message limit stays in :mod:`lambdagraph_client.local.gateway`.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame

from lambdagraph.protocol.ws import FRAME_BYTES

TOO_BIG = 1009
"""The close code API Gateway sends for an oversized frame or message ("Message too big")."""


class FrameLimitedProtocol(WebSocketsSansIOProtocol):
    """Closes the connection with 1009 on a data frame over :data:`FRAME_BYTES`."""

    def handle_text(self, event: Frame) -> None:
        if self._within_limit(event):
            super().handle_text(event)

    def handle_bytes(self, event: Frame) -> None:
        if self._within_limit(event):
            super().handle_bytes(event)

    def handle_cont(self, event: Frame) -> None:
        if self._within_limit(event):
            super().handle_cont(event)

    def _within_limit(self, event: Frame) -> bool:
        if self.close_sent:
            return False  # closing already: later frames in the same read are dropped
        if len(event.data) <= FRAME_BYTES:
            return True
        self.conn.fail(TOO_BIG, "Message too big")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.frames = []
        # The app (the emulator) sees the connection end, and runs $disconnect, as for any close.
        self.queue.put_nowait({"type": "websocket.disconnect", "code": TOO_BIG, "reason": ""})
        self.transport.close()
        return False
