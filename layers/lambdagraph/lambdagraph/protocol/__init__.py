"""The event model and its wire encodings. Pure: no boto3, no Starlette, no network."""

from lambdagraph.protocol.events import STREAM_MODES, Event, StreamMode
from lambdagraph.protocol.sse import encode_comment, encode_event

__all__ = ["STREAM_MODES", "Event", "StreamMode", "encode_comment", "encode_event"]
