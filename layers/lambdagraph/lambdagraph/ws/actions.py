"""Client → server frames: parse and validate them into typed actions.

API Gateway routes on ``$request.body.action``; a frame that is not JSON, or whose action
has no route, reaches ``$default``. Either way the body is parsed here, and anything wrong
becomes an :class:`~lambdagraph.ws.errors.ActionError` with a code the client can act on.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lambdagraph.engine.graph_call import check_config, check_goto
from lambdagraph.engine.timeouts import TimeoutSeconds
from lambdagraph.protocol.events import StreamMode
from lambdagraph.store.records import MultitaskStrategy
from lambdagraph.ws.errors import ActionError

ActionName = Literal["run", "cancel", "subscribe", "ping"]
ACTIONS = frozenset(get_args(ActionName))

DEFAULT_STREAM_MODE: list[StreamMode] = ["messages-tuple", "updates"]
"""What a WebSocket run streams unless it asks otherwise: tokens, then each step's update."""

_ID = Field(min_length=1, max_length=200)


class _Action(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RunAction(_Action):
    """``run``: start a run on a thread (a new one when ``thread_id`` is omitted)."""

    action: Literal["run"]
    request_id: str = _ID
    assistant_id: str = _ID
    thread_id: str | None = Field(default=None, min_length=1, max_length=200)
    input: Any = None
    command: dict[str, Any] | None = None
    stream_mode: list[StreamMode] | StreamMode | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    multitask_strategy: MultitaskStrategy = "enqueue"
    timeout_seconds: TimeoutSeconds | None = None

    @field_validator("command")
    @classmethod
    def _command_targets(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            check_goto(value.get("goto"))
        return value

    @field_validator("config")
    @classmethod
    def _config_refs(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_config(value)
        return value

    def stream_modes(self) -> list[str]:
        """The requested stream modes as a list (the default when none were asked for)."""
        if self.stream_mode is None:
            return list(DEFAULT_STREAM_MODE)
        return [self.stream_mode] if isinstance(self.stream_mode, str) else list(self.stream_mode)


class CancelAction(_Action):
    """``cancel``: stop a run; it ends ``interrupted`` with its checkpoint intact."""

    action: Literal["cancel"]
    run_id: str = _ID


class SubscribeAction(_Action):
    """``subscribe``: every event after ``after`` (all when omitted), then live ones."""

    action: Literal["subscribe"]
    run_id: str = _ID
    after: str | int | None = None


class PingAction(_Action):
    """``ping``: answered with ``pong`` (keeps idle connections open past 10 minutes)."""

    action: Literal["ping"]


Action = RunAction | CancelAction | SubscribeAction | PingAction

_MODELS: dict[str, type[_Action]] = {
    "run": RunAction,
    "cancel": CancelAction,
    "subscribe": SubscribeAction,
    "ping": PingAction,
}


def parse_body(body: str | None) -> dict[str, Any]:
    """The frame as a JSON object, or ``bad_json``."""
    try:
        data = orjson.loads(body or b"")
    except orjson.JSONDecodeError:
        raise ActionError("bad_json", "The frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ActionError("bad_json", "The frame must be a JSON object with an `action`")
    return data


def request_id_of(data: dict[str, Any]) -> str | None:
    """The client's ``request_id`` if the frame carries a usable one (echoed in errors)."""
    value = data.get("request_id")
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def parse_action(data: dict[str, Any]) -> Action:
    """Validate a frame's fields for its action.

    Raises:
        ActionError: ``unknown_action`` or ``invalid_request`` (naming the first bad field).
    """
    name = data.get("action")
    model = _MODELS.get(name) if isinstance(name, str) else None
    if model is None:
        known = ", ".join(sorted(ACTIONS))
        raise ActionError("unknown_action", f"Unknown action {name!r}; expected one of {known}")
    try:
        return model.model_validate(data)  # type: ignore[return-value]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        message = first["msg"].removeprefix("Value error, ")
        raise ActionError("invalid_request", f"{name}: {where}: {message}") from None
