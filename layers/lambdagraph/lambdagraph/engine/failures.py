"""Exceptions from a run → the ``error`` event, without leaking internal text."""

from __future__ import annotations

from typing import Final

from langgraph.errors import EmptyInputError, GraphRecursionError, InvalidUpdateError

from lambdagraph.errors import LambdagraphError
from lambdagraph.protocol.events import Event

GENERIC_MESSAGE: Final = "An internal error occurred"

# Errors whose text is written by LangGraph or by us, never by user code or a library's
# internals, and helps the client fix the request (recursion limit, bad input).
_SAFE_TEXT: Final = (LambdagraphError, GraphRecursionError, InvalidUpdateError, EmptyInputError)


def error_event(exc: BaseException) -> Event:
    """``event: error`` with ``{"error": "<Type>", "message": "<text>"}``.

    The type name is always shown (as LangGraph Server does); the text only for errors in
    :data:`_SAFE_TEXT`. Anything else gets a generic message; the caller logs the details.
    """
    if isinstance(exc, LambdagraphError):
        message = exc.message
    elif isinstance(exc, _SAFE_TEXT):
        message = str(exc)
    else:
        message = GENERIC_MESSAGE
    return Event("error", {"error": type(exc).__name__, "message": message})


def is_expected(exc: BaseException) -> bool:
    """Whether the error is a known kind (logged briefly, without a traceback)."""
    return isinstance(exc, _SAFE_TEXT)
