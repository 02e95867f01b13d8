"""The Agent Streaming Protocol's ("v2") wire types: channels, subscriptions, responses.

Pure, like the rest of :mod:`lambdagraph.protocol`. The frames themselves are
``langchain_protocol`` shapes: ``{"type": "event", "event_id", "seq", "method",
"params": {"namespace", "timestamp", "data", "node"?}}``; a command is ``{"id", "method",
"params"}`` and its answer :func:`success` or :func:`error` (``ErrorResponse``).

A subscription (an SSE request body, a WebSocket ``subscription.subscribe``) names
channels, optionally namespace prefixes and a depth below them; :meth:`Subscription.matches`
decides per frame, as LangGraph Server (langgraph-api 0.16.7) does: ``input.requested``
frames are the ``input`` channel, ``custom`` takes every custom frame and ``custom:<name>``
those whose ``data.name`` is ``<name>``; a namespace prefix segment without ``:`` also
matches a segment with a task suffix (``agent`` matches ``agent:3f2…``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast, get_args

from langchain_protocol import ErrorCode, ErrorResponse

CHANNELS: Final[frozenset[str]] = frozenset(
    {
        "values",
        "updates",
        "messages",
        "tools",
        "lifecycle",
        "input",
        "checkpoints",
        "tasks",
        "custom",
    }
)
"""The fixed channel names; ``custom:<name>`` is open-ended."""

FIRST_SEQ: Final = 1
"""A thread's first frame's ``seq``, as LangGraph Server numbers them: ``since: 0`` (the
``applied_through_seq`` of a command on a new thread) then means "every frame"."""

CUSTOM_PREFIX: Final = "custom:"
INPUT_REQUESTED: Final = "input.requested"
"""The method of frames on the ``input`` channel."""

ERROR_CODES: Final[frozenset[str]] = frozenset(
    code for literal in get_args(ErrorCode) for code in get_args(literal)
)
"""The schema's error codes (``langchain_protocol.ErrorCode``)."""


class ProtocolError(Exception):
    """A command or subscription the protocol answers with an ``error`` response.

    Attributes:
        code: one of :data:`ERROR_CODES` (``invalid_argument``, ``no_such_run``, ...).
        message: what the client should fix, in words.
    """

    def __init__(self, code: str, message: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"{code!r} is not an error code of the protocol")
        super().__init__(message)
        self.code = code
        self.message = message


def is_channel(value: object) -> bool:
    """Whether ``value`` names a channel (a fixed one or ``custom:<name>``)."""
    if not isinstance(value, str):
        return False
    return value in CHANNELS or (value.startswith(CUSTOM_PREFIX) and len(value) > 7)


def channel_of(frame: Mapping[str, Any]) -> str:
    """The channel a frame travels on (``input.requested`` → ``input``)."""
    method = str(frame.get("method", ""))
    return "input" if method == INPUT_REQUESTED else method


def _segment_matches(candidate: str, segment: str) -> bool:
    if candidate == segment:
        return True
    return ":" not in segment and candidate.split(":", 1)[0] == segment


def is_prefix(namespace: Sequence[str], prefix: Sequence[str]) -> bool:
    """Whether ``prefix`` is a prefix of ``namespace`` (task suffixes optional)."""
    if len(prefix) > len(namespace):
        return False
    return all(_segment_matches(namespace[i], segment) for i, segment in enumerate(prefix))


@dataclass(frozen=True, slots=True)
class Subscription:
    """Which frames a subscriber receives.

    Attributes:
        channels: channel names (see :func:`is_channel`).
        namespaces: namespace prefixes; ``None`` (or empty) for every namespace.
        depth: how many levels below a prefix still match; ``None`` for any.
    """

    channels: frozenset[str]
    namespaces: tuple[tuple[str, ...], ...] | None = None
    depth: int | None = None

    def matches(self, frame: Mapping[str, Any]) -> bool:
        """Whether ``frame`` (an event frame) is one this subscription receives."""
        channel = channel_of(frame)
        params = frame.get("params") or {}
        if channel == "custom":
            if "custom" not in self.channels:
                data = params.get("data")
                name = data.get("name") if isinstance(data, dict) else None
                if name is None or f"{CUSTOM_PREFIX}{name}" not in self.channels:
                    return False
        elif channel not in self.channels:
            return False
        if not self.namespaces:
            return True
        namespace = params.get("namespace") or []
        return any(
            is_prefix(namespace, prefix)
            and (self.depth is None or len(namespace) - len(prefix) <= self.depth)
            for prefix in self.namespaces
        )

    def to_params(self) -> dict[str, Any]:
        """The subscription as ``SubscribeParams`` (to store it, e.g. on a connection)."""
        params: dict[str, Any] = {"channels": sorted(self.channels)}
        if self.namespaces is not None:
            params["namespaces"] = [list(ns) for ns in self.namespaces]
        if self.depth is not None:
            params["depth"] = self.depth
        return params


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_subscription(params: object) -> Subscription:
    """A :class:`Subscription` from ``SubscribeParams`` (an SSE body, a subscribe command).

    Raises:
        ProtocolError: ``invalid_argument`` naming what is wrong (no channels, an unknown
            channel, namespaces that are not lists of strings, a negative depth).
    """
    if not isinstance(params, Mapping):
        raise ProtocolError("invalid_argument", "The subscription must be a JSON object")
    channels = params.get("channels")
    if not isinstance(channels, list) or not channels:
        raise ProtocolError("invalid_argument", "channels must be a non-empty array")
    unknown = [repr(c) if not isinstance(c, str) else c for c in channels if not is_channel(c)]
    if unknown:
        raise ProtocolError(
            "invalid_argument",
            f"Unknown channel(s): {', '.join(unknown[:5])}. Channels: "
            f"{', '.join(sorted(CHANNELS))}, or custom:<name>",
        )
    raw_namespaces = params.get("namespaces")
    namespaces: tuple[tuple[str, ...], ...] | None = None
    if raw_namespaces is not None:
        if not isinstance(raw_namespaces, list) or not all(
            isinstance(ns, list) and all(isinstance(s, str) for s in ns) for ns in raw_namespaces
        ):
            raise ProtocolError("invalid_argument", "namespaces must be arrays of strings")
        namespaces = tuple(tuple(cast(list[str], ns)) for ns in raw_namespaces)
    depth = params.get("depth")
    if depth is not None and (not _is_int(depth) or depth < 0):
        raise ProtocolError("invalid_argument", "depth must be a non-negative integer")
    return Subscription(frozenset(channels), namespaces, depth)


def parse_since(value: object) -> int | None:
    """The ``since`` cursor of a subscription (``None``: replay the whole thread log).

    Raises:
        ProtocolError: ``invalid_argument`` for anything but a non-negative integer.
    """
    if value is None:
        return None
    if not _is_int(value) or cast(int, value) < 0:
        raise ProtocolError("invalid_argument", "since must be a non-negative integer seq")
    return cast(int, value)


def success(command_id: int, result: Mapping[str, Any], seq: int | None) -> dict[str, Any]:
    """A ``success`` response; ``seq`` is the thread's last seq (``meta.applied_through_seq``,
    ``0`` on a thread with no frame yet, as LangGraph Server answers; ``None``: no meta)."""
    response: dict[str, Any] = {"type": "success", "id": command_id, "result": dict(result)}
    if seq is not None and seq >= 0:
        response["meta"] = {"applied_through_seq": seq}
    return response


def error(command_id: int | None, code: str, message: str) -> dict[str, Any]:
    """An ``error`` response with one of the schema's codes."""
    if code not in ERROR_CODES:
        raise ValueError(f"{code!r} is not an error code of the protocol")
    response: ErrorResponse = {
        "type": "error",
        "id": command_id,
        "error": cast(ErrorCode, code),
        "message": message,
    }
    return dict(response)


def parse_command(payload: object) -> tuple[int, str, dict[str, Any]]:
    """``(id, method, params)`` of a command frame.

    Raises:
        ProtocolError: ``invalid_argument`` when it is not ``{"id": int, "method": str,
            "params"?: object}``.
    """
    if not isinstance(payload, Mapping):
        raise ProtocolError("invalid_argument", "A command must be a JSON object")
    command_id, method = payload.get("id"), payload.get("method")
    if not _is_int(command_id) or cast(int, command_id) < 0 or not isinstance(method, str):
        raise ProtocolError("invalid_argument", "A command needs an integer id and a string method")
    params = payload.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ProtocolError("invalid_argument", "params must be a JSON object")
    return cast(int, command_id), method, dict(params)
