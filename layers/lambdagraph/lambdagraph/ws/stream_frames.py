"""Agent Streaming Protocol frames as WebSocket messages: one frame, one message. No I/O.

The official clients parse every WebSocket message as one JSON object (an event frame, or a
command's response), so protocol frames are never batched: each ``post_to_connection``
carries exactly one, in ``seq`` order. API Gateway closes a connection that receives a message
over 128 KB, so a frame larger than that is replaced by an ``error`` message naming its ``seq``
(the client can read the state over HTTP); API Gateway itself splits what it sends into
frames of at most 32 KB.

One merge a client cannot tell from the model streaming bigger tokens: consecutive text
``content-block-delta`` frames of one block, still queued for a connection while an earlier
post is in flight, become one :class:`TextDelta` (their texts joined, the last frame's
``seq``/``event_id``). A gap in ``seq`` is normal for a client (filters make them), and
``since`` replays from the log, where every frame stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from lambdagraph.protocol import ws
from lambdagraph.protocol.agent import error
from lambdagraph.protocol.codec import dumps


def encode_frame(frame: Mapping[str, Any], *, limit: int = ws.MESSAGE_BYTES) -> bytes:
    """One frame as one message, or an ``error`` message when it exceeds ``limit`` bytes."""
    data = dumps(frame)
    if len(data) <= limit:
        return data
    too_large = error(
        None,
        "unknown_error",
        f"Event seq {frame.get('seq')} ({frame.get('method')}) is {len(data)} bytes, over the "
        f"WebSocket message limit of {limit} bytes; it is not delivered here. Read the "
        "thread's state over HTTP (state.get, or GET /threads/{thread_id}/state).",
    )
    too_large["seq"] = frame.get("seq")
    return dumps(too_large)


def encode_response(response: Mapping[str, Any]) -> bytes:
    """A command's response as one message (a success too large becomes an ``error``)."""
    data = dumps(response)
    if len(data) <= ws.MESSAGE_BYTES:
        return data
    return dumps(
        error(
            response.get("id"),
            "unknown_error",
            f"The response is {len(data)} bytes, over the WebSocket message limit of "
            f"{ws.MESSAGE_BYTES} bytes; send this command over HTTP "
            "(POST /threads/{thread_id}/commands).",
        )
    )


MERGED_BYTES: Final = ws.FRAME_BYTES
"""A merged delta stops growing at this many bytes (one API Gateway frame)."""
_DELTA_KEYS: Final = frozenset({"event", "index", "delta"})


class TextDelta:
    """A text ``content-block-delta`` frame waiting to be posted, growing by the deltas
    that follow it in the same block (see the module docstring)."""

    def __init__(self, frame: Mapping[str, Any], key: bytes, text: str) -> None:
        self.frame = frame
        self.key = key
        self.texts = [text]
        self.size = len(dumps(frame))
        self.grown = 0

    @classmethod
    def of(cls, frame: Mapping[str, Any]) -> TextDelta | None:
        """The frame as a :class:`TextDelta`, or ``None`` if it is not a text delta."""
        found = _text_delta(frame)
        return None if found is None else cls(frame, *found)

    def absorb(self, frame: Mapping[str, Any]) -> bool:
        """Append ``frame``'s text if it continues this block (and stays small enough);
        :attr:`grown` is then the bytes it added."""
        found = _text_delta(frame)
        if found is None or found[0] != self.key:
            return False
        grown = len(dumps(found[1])) - 2 + len(dumps(frame.get("seq"))) + 8
        if self.size + grown > MERGED_BYTES:
            return False
        self.texts.append(found[1])
        self.frame = frame
        self.size += grown
        self.grown = grown
        return True

    def __len__(self) -> int:
        return self.size

    def encode(self) -> bytes:
        """The merged frame as one message (the last frame's seq, every text in order)."""
        params = self.frame["params"]
        delta = {"type": "text-delta", "text": "".join(self.texts)}
        data = {**params["data"], "delta": delta}
        return encode_frame({**self.frame, "params": {**params, "data": data}})


def _text_delta(frame: Mapping[str, Any]) -> tuple[bytes, str] | None:
    """``(block key, text)`` of a plain text ``content-block-delta`` frame, else ``None``."""
    params = frame.get("params")
    if frame.get("type") != "event" or frame.get("method") != "messages":
        return None
    if not isinstance(params, Mapping):
        return None
    data = params.get("data")
    if not isinstance(data, Mapping) or data.keys() != _DELTA_KEYS:
        return None
    delta = data["delta"]
    if data["event"] != "content-block-delta" or not isinstance(delta, Mapping):
        return None
    text = delta.get("text")
    if delta.get("type") != "text-delta" or delta.keys() != {"type", "text"}:
        return None
    if not isinstance(text, str):
        return None
    rest = {k: v for k, v in params.items() if k not in ("data", "timestamp")}
    return dumps([data["index"], rest]), text
