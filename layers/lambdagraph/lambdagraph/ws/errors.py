"""WebSocket error codes: one table from exceptions to the ``error`` message a client gets.

Every failed action answers ``{"v": 1, "type": "error", "code", "message", "request_id"?}``
and the connection stays open. Our own errors carry their ``code``; anything unmapped is an
``internal_error`` whose text is withheld (and logged with its traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)

from lambdagraph.errors import LambdagraphError
from lambdagraph.protocol import ws

logger = logging.getLogger(__name__)

CODES: Final[Mapping[str, str]] = {
    "bad_json": "The frame is not a JSON object.",
    "unknown_action": "`action` is missing or not one of run, cancel, subscribe, ping.",
    "invalid_request": "A field is missing or has the wrong type (the message names it).",
    "unknown_route": "API Gateway delivered a route this function does not handle.",
    "run_not_found": "No such run for this user (another user's run looks the same).",
    "thread_not_found": "No such thread for this user.",
    "assistant_not_found": "No graph or assistant by that id.",
    "not_found": "No such resource for this user (a custom auth handler answered 404).",
    "thread_busy": "The thread has an active run and `multitask_strategy` is `reject`.",
    "conflict": "The thread or run changed concurrently; retry.",
    "invalid_input": "The request is well-formed but asks for something invalid.",
    "request_in_progress": "A `run` with this `request_id` is still being recorded; wait.",
    "unauthorized": "The connection carries no user (authorizer context missing).",
    "forbidden": "The auth handlers refused this action for this user.",
    "rate_limited": "A per-user limit is reached (active runs, requests per minute); retry later.",
    "unavailable": "A backing service is throttled or down; retry with backoff.",
    "event_too_large": "One event exceeds the 128 KB message limit; read the state over HTTP.",
    "slow_consumer": "The connection fell too far behind a run and was detached; subscribe again.",
    "internal_error": "Something failed on the server; the details are in its logs.",
}
"""Every code a client may receive, with what it means (the README's table)."""


class ActionError(LambdagraphError):
    """A frame the WebSocket API cannot act on; ``code`` is one of :data:`CODES`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def error_message(exc: BaseException, *, request_id: str | None = None) -> ws.ErrorMessage:
    """The ``error`` message for ``exc``; unexpected errors are logged and their text withheld."""
    if isinstance(exc, IdempotencyAlreadyInProgressError):
        return ws.error("request_in_progress", CODES["request_in_progress"], request_id=request_id)
    if isinstance(exc, LambdagraphError) and exc.code in CODES:
        return ws.error(exc.code, exc.message, request_id=request_id)
    if isinstance(exc, LambdagraphError):
        logger.warning("unmapped error code %s: %s", exc.code, exc.message)
        return ws.error("internal_error", exc.message, request_id=request_id)
    logger.error("WebSocket action failed", exc_info=exc)
    return ws.error("internal_error", CODES["internal_error"], request_id=request_id)
