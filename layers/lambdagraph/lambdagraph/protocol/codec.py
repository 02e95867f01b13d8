"""JSON, defined once: one encoder for everything we send or store, one strict decoder for
everything a client sends (HTTP bodies and WebSocket frames alike).

A value JSON cannot represent is an error, never a silent ``repr()``: what a client reads back
from the store is exactly what it would have received live. On the way in, a value we could
not store or send back unchanged is refused at the edge with a message naming where it is,
instead of failing later inside the store or a run.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

import orjson
from langgraph.errors import EmptyInputError, GraphBubbleUp, InvalidUpdateError

from lambdagraph.errors import BadJson, InvalidRequest

_OPTIONS = orjson.OPT_NON_STR_KEYS

MAX_JSON_DEPTH: Final = 64
"""How deeply a client's JSON may nest objects and arrays (the document itself is level 1).

orjson refuses to encode past 254 levels, and every value we keep is later wrapped in a few
more (the stored run, an event, a checkpoint), so the bound sits well below that. DynamoDB's
32-level limit on maps does not apply: documents are stored as JSON strings."""

MIN_INT: Final = -(2**63)
MAX_INT: Final = 2**64 - 1
"""The integers orjson can encode (signed or unsigned 64-bit); others are refused on input."""

_SHOWN_PATH = 8  # segments of a path shown in a message before it is cut short


_SHOWN_ERRORS: Final = (
    ValueError, TypeError, KeyError, AttributeError, RuntimeError, RecursionError, TimeoutError,
    InvalidUpdateError, GraphBubbleUp, EmptyInputError,
)
"""Exceptions whose text an ``events`` stream shows (LangGraph Server's list, langgraph-api
``serde.py``): others read ``An internal error occurred``."""


def _default(value: Any) -> Any:
    """Serialise what orjson does not know: pydantic models, LangChain messages, sets, and
    exceptions (an ``events`` stream carries a tool's ``GraphInterrupt``) as LangGraph Server
    writes them."""
    if isinstance(value, BaseException):
        shown = isinstance(value, _SHOWN_ERRORS)
        return {
            "error": type(value).__name__,
            "message": str(value) if shown else "An internal error occurred",
        }
    for method in ("model_dump", "dict", "to_json"):
        dump = getattr(value, method, None)
        if callable(dump) and not isinstance(value, type):
            return dump()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(data: Any) -> bytes:
    """Compact JSON, one line (orjson never emits raw newlines).

    Raises:
        TypeError: ``data`` holds a value with no JSON form (orjson raises its
            ``JSONEncodeError``, a ``TypeError``).
    """
    return orjson.dumps(data, default=_default, option=_OPTIONS)


def loads(data: bytes | str, *, subject: str = "Request body") -> Any:
    """Decode a client's JSON and :func:`check_json` it.

    Args:
        data: the body or frame (bytes must be UTF-8).
        subject: how messages name the document (``"Request body"``, ``"The frame"``).

    Raises:
        BadJson: ``data`` is not UTF-8 JSON text.
        InvalidRequest: a value we could not keep unchanged (see :func:`check_json`).
    """
    value = parse_json(data, subject=subject)
    check_json(value, subject=subject)
    return value


def parse_json(data: bytes | str, *, subject: str = "Request body") -> Any:
    """Decode JSON text without checking its values (see :func:`loads`).

    Python's decoder is used rather than orjson's because orjson turns an integer beyond
    64 bits into a float without a word; here it stays an int and :func:`check_json`
    refuses it by name.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise BadJson(f"{subject} is not valid JSON (it is not UTF-8 text)") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise BadJson(f"{subject} is not valid JSON") from None
    except RecursionError:
        raise InvalidRequest(f"{subject} is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:  # an integer literal past Python's digit limit
        raise InvalidRequest(f"{subject} holds an integer out of range") from None


def check_json(value: Any, *, subject: str = "Request body") -> None:
    """Refuse what JSON decoders accept but we could not store or send back unchanged.

    That is: nesting deeper than :data:`MAX_JSON_DEPTH`, integers outside
    [:data:`MIN_INT`, :data:`MAX_INT`], ``NaN``/``Infinity`` (and overflowing numbers such
    as ``1e999``, which decode to infinity), and strings or keys holding a lone surrogate
    (``"\\ud800"``, which is not Unicode text).

    Raises:
        InvalidRequest: ``"<path>: <what is wrong>"``, the path dotted as in 422 details.
    """
    try:
        _check(value, 1)
    except _Refused as refused:
        path = refused.path[::-1]
        shown = ".".join(_segment(p) for p in path[:_SHOWN_PATH])
        if len(path) > _SHOWN_PATH:
            shown += ".…"
        raise InvalidRequest(f"{shown or subject}: {refused.reason}") from None


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.path: list[str | int] = []  # innermost first, appended while unwinding


def _check(value: Any, depth: int) -> None:
    if isinstance(value, str):
        _check_text(value, "contains a lone surrogate (not Unicode text)")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            raise _Refused(f"integer out of range (allowed: {MIN_INT} to {MAX_INT})")
    elif isinstance(value, float):
        if not math.isfinite(value):
            shown = "NaN" if math.isnan(value) else "Infinity (or a number that overflows to it)"
            raise _Refused(f"must be a finite number, not {shown}")
    elif isinstance(value, (dict, list)):
        if depth > MAX_JSON_DEPTH:
            raise _Refused(f"nested deeper than {MAX_JSON_DEPTH} levels")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                _check_text(key, "has a key with a lone surrogate (not Unicode text)")
            try:
                _check(item, depth + 1)
            except _Refused as refused:
                refused.path.append(key)
                raise


def _check_text(text: str, reason: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused(reason) from None


def _segment(key: str | int) -> str:
    text = str(key)
    text = text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    return text if len(text) <= 40 else text[:39] + "…"
