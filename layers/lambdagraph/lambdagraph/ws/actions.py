"""Client → server frames: parse and validate them into typed actions.

API Gateway routes on ``$request.body.action``; a frame that is not JSON, or whose action
has no route, reaches ``$default``. Either way the body is parsed here, and anything wrong
becomes an :class:`~lambdagraph.ws.errors.ActionError` with a code the client can act on.
A ``run`` frame is the shared :class:`~lambdagraph.engine.RunRequest` plus the WebSocket's
addressing, so it is accepted or rejected exactly like an HTTP body, with the same message.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lambdagraph.engine import RunRequest, describe_errors, parse_uuid
from lambdagraph.errors import BadJson, InvalidInput
from lambdagraph.protocol.codec import check_json, parse_json
from lambdagraph.store.records import MultitaskStrategy
from lambdagraph.ws.errors import ActionError

ActionName = Literal["run", "cancel", "subscribe", "ping"]
ACTIONS = frozenset(get_args(ActionName))

DEFAULT_STREAM_MODE: Final[list[str]] = ["messages-tuple", "updates"]
"""What a WebSocket run streams unless it asks otherwise: tokens, then each step's update
(HTTP streams ``values``, as LangGraph Server does: a chat client wants tokens)."""

_ID = Field(min_length=1, max_length=200)


def _thread_uuid(value: str | None) -> str | None:
    # Worded like the HTTP API's 422 for a thread id in the path.
    return None if value is None else parse_uuid(value, "thread ID")


class _Action(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class RunAction(RunRequest):
    """``run``: start a run on a thread (a new one when ``thread_id`` is omitted)."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)
    default_stream_mode: ClassVar[tuple[str, ...]] = tuple(DEFAULT_STREAM_MODE)

    action: Literal["run"]
    request_id: str = _ID
    thread_id: str | None = None
    multitask_strategy: MultitaskStrategy | None = "enqueue"  # the service's default, shown

    _thread_id = field_validator("thread_id")(_thread_uuid)

    def stream_modes(self) -> list[str]:
        """The requested stream modes (the WebSocket default when none were asked for)."""
        return list(self.stream_mode)


class CancelAction(_Action):
    """``cancel``: stop a run; it ends ``interrupted`` with its checkpoint intact.

    ``thread_id`` is needed only for a run started elsewhere (over HTTP).
    """

    action: Literal["cancel"]
    run_id: str = _ID
    thread_id: str | None = None

    _thread_id = field_validator("thread_id")(_thread_uuid)


class SubscribeAction(_Action):
    """``subscribe``: every event after ``after`` (all when omitted), then live ones.

    ``thread_id`` is needed only for a run started elsewhere (over HTTP).
    """

    action: Literal["subscribe"]
    run_id: str = _ID
    thread_id: str | None = None
    after: str | int | None = None

    _thread_id = field_validator("thread_id")(_thread_uuid)


class PingAction(_Action):
    """``ping``: answered with ``pong`` (keeps idle connections open past 10 minutes)."""

    action: Literal["ping"]


Action = RunAction | CancelAction | SubscribeAction | PingAction

_MODELS: dict[str, type[BaseModel]] = {
    "run": RunAction,
    "cancel": CancelAction,
    "subscribe": SubscribeAction,
    "ping": PingAction,
}


def parse_body(body: str | bytes | None) -> dict[str, Any]:
    """The frame as a JSON object (its values not yet checked), or ``bad_json``."""
    try:
        data = parse_json(body or b"", subject="The frame")
    except BadJson as exc:
        raise ActionError("bad_json", exc.message) from None
    if not isinstance(data, dict):
        raise ActionError("bad_json", "The frame must be a JSON object with an `action`")
    return data


def request_id_of(data: dict[str, Any]) -> str | None:
    """The client's ``request_id`` if the frame carries a usable one (echoed in errors)."""
    value = data.get("request_id")
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        return None
    try:
        check_json(value)  # a lone surrogate could not be echoed back
    except InvalidInput:
        return None
    return value


def parse_action(data: dict[str, Any]) -> Action:
    """Validate a frame's fields for its action.

    Raises:
        ActionError: ``unknown_action``, or ``invalid_request`` with the message the HTTP
            API gives as its 422 ``detail`` for the same fields.
        InvalidRequest: a value the HTTP API refuses too (``invalid_request``; see
            :func:`lambdagraph.protocol.codec.check_json`).
    """
    check_json(data, subject="The frame")  # InvalidRequest: invalid_request, named
    name = data.get("action")
    model = _MODELS.get(name) if isinstance(name, str) else None
    if model is None:
        known = ", ".join(sorted(ACTIONS))
        raise ActionError("unknown_action", f"Unknown action {name!r}; expected one of {known}")
    try:
        return model.model_validate(data)  # type: ignore[return-value]
    except ValidationError as exc:
        raise ActionError("invalid_request", describe_errors(exc.errors())) from None
