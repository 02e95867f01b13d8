"""JSON encoding, defined once: SSE frames, WebSocket messages, worker payloads, stored items.

A value JSON cannot represent is an error, never a silent ``repr()``: what a client reads back
from the store is exactly what it would have received live.
"""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    """Serialise what orjson does not know: pydantic models, LangChain messages, sets."""
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
