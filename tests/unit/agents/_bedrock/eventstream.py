"""Encode AWS event-stream frames, the binary framing of Bedrock's ConverseStream.

Frame: total length (u32), headers length (u32), CRC32 of those 8 bytes, headers, payload,
CRC32 of everything before it. A string header is name length (u8), name, type 7 (u8),
value length (u16), value. ``botocore/eventstream.py`` holds the decoder this is checked
against.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

_STRING_HEADER = 7


def encode_headers(headers: dict[str, str]) -> bytes:
    """Headers as event-stream string headers."""
    out = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack("!B", len(raw_name)) + raw_name
        out += struct.pack("!BH", _STRING_HEADER, len(raw_value)) + raw_value
    return out


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One complete event-stream message."""
    raw_headers = encode_headers(headers)
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack("!II", total, len(raw_headers))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    body = prelude + raw_headers + payload
    return body + struct.pack("!I", zlib.crc32(body))


def encode_event(event_type: str, payload: dict[str, Any]) -> bytes:
    """A ConverseStream event such as ``contentBlockDelta`` with its JSON payload."""
    return encode_frame(
        {
            ":event-type": event_type,
            ":content-type": "application/json",
            ":message-type": "event",
        },
        json.dumps(payload).encode(),
    )


def text_reply(texts: list[str], usage: tuple[int, int]) -> list[bytes]:
    """Frames of an assistant reply streaming ``texts`` as separate deltas."""
    return [
        encode_event("messageStart", {"role": "assistant"}),
        *(
            encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}})
            for t in texts
        ),
        encode_event("contentBlockStop", {"contentBlockIndex": 0}),
        encode_event("messageStop", {"stopReason": "end_turn"}),
        _metadata(usage),
    ]


def tool_use_reply(
    preamble: list[str],
    tool_use_id: str,
    name: str,
    input_pieces: list[str],
    usage: tuple[int, int],
) -> list[bytes]:
    """Frames of a reply that says ``preamble`` then calls tool ``name``."""
    return [
        encode_event("messageStart", {"role": "assistant"}),
        *(
            encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}})
            for t in preamble
        ),
        encode_event("contentBlockStop", {"contentBlockIndex": 0}),
        encode_event(
            "contentBlockStart",
            {
                "contentBlockIndex": 1,
                "start": {"toolUse": {"toolUseId": tool_use_id, "name": name}},
            },
        ),
        *(
            encode_event(
                "contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": p}}}
            )
            for p in input_pieces
        ),
        encode_event("contentBlockStop", {"contentBlockIndex": 1}),
        encode_event("messageStop", {"stopReason": "tool_use"}),
        _metadata(usage),
    ]


def _metadata(usage: tuple[int, int]) -> bytes:
    inputs, outputs = usage
    return encode_event(
        "metadata",
        {
            "usage": {
                "inputTokens": inputs,
                "outputTokens": outputs,
                "totalTokens": inputs + outputs,
            },
            "metrics": {"latencyMs": 42},
        },
    )
