"""The one run request every transport validates: same fields, same rules, same messages.

Field names and meanings follow LangGraph Server's ``RunCreateStateful`` schema, so
``langgraph-sdk`` bodies validate unchanged. A transport's own model extends
:class:`RunRequest` with its addressing (the WebSocket ``action``, ``request_id`` and
``thread_id``); the HTTP API takes the thread from the path. A failed validation becomes one
readable line (:func:`describe_errors`): the HTTP 422 ``detail`` and the WebSocket
``invalid_request`` message are that same line.

Fields the SDK may send that we do not act on (``durability``, ``langsmith_tracer``, ...) are
accepted and ignored; fields we act on are checked strictly (no string-to-bool coercion).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lambdagraph.engine.graph_call import check_checkpoint_ref, check_config, check_goto
from lambdagraph.engine.timeouts import TimeoutSeconds
from lambdagraph.protocol.events import STREAM_MODES
from lambdagraph.store.records import MultitaskStrategy, RunKwargs

STRICT = ConfigDict(extra="ignore", strict=True)
"""Model config of request bodies: unknown fields ignored, known ones never coerced."""


class CommandRequest(BaseModel):
    """``Command`` as clients send it: resume an interrupt, update state, or go to nodes."""

    model_config = ConfigDict(extra="forbid")

    update: dict[str, Any] | list[Any] | None = None
    resume: Any = None
    goto: Any = None

    @field_validator("goto")
    @classmethod
    def _goto_targets(cls, value: Any) -> Any:
        check_goto(value)
        return value

    @field_validator("update")
    @classmethod
    def _update_pairs(cls, value: Any) -> Any:
        if isinstance(value, list) and not all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in value
        ):
            raise ValueError("must be an object or a list of [channel, value] pairs")
        return value

    @model_validator(mode="after")
    def _does_something(self) -> CommandRequest:
        # An empty command gives the graph no input at all: the run would fail at its start.
        if self.update is None and self.resume is None and self.goto is None:
            raise ValueError("a command needs at least one of resume, update, goto")
        return self


class RunConfig(BaseModel):
    """``config`` as LangGraph Server's ``Config`` schema has it; other keys pass through.

    The keys LangChain reads are checked here: a bad one would fail the run at its start.
    """

    model_config = ConfigDict(extra="allow", strict=True)

    tags: list[str] | None = None
    recursion_limit: int | None = Field(default=None, ge=1)
    configurable: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    run_name: str | None = None
    max_concurrency: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _configurable_ref(self) -> RunConfig:
        check_config({"configurable": self.configurable})
        return self

    def as_config(self) -> dict[str, Any]:
        """The config as the client meant it: a declared key left null is not passed on
        (LangGraph reads a null ``recursion_limit`` as a value, not as its default)."""
        declared = type(self).model_fields
        return {
            key: value
            for key, value in self.model_dump(exclude_unset=True).items()
            if value is not None or key not in declared
        }


class RunRequest(BaseModel):
    """What to run: the graph, its input or command, what to stream, how to share the thread.

    Subclasses may change :attr:`default_stream_mode` (the WebSocket streams tokens and
    updates unless asked otherwise; HTTP streams ``values``, as LangGraph Server does).
    """

    model_config = STRICT
    default_stream_mode: ClassVar[tuple[str, ...]] = ("values",)

    assistant_id: str = Field(min_length=1, max_length=256)
    input: Any = None
    command: CommandRequest | None = None
    stream_mode: list[str] = Field(default_factory=list, validate_default=True)
    """Stream modes, one name or a list (``messages-tuple`` yields events named ``messages``)."""
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    config: RunConfig | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    multitask_strategy: MultitaskStrategy | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    on_disconnect: Literal["cancel", "continue"] = "continue"
    on_completion: Literal["delete", "keep"] | None = None
    feedback_keys: list[str] | None = None
    webhook: str | None = None
    timeout_seconds: TimeoutSeconds | None = None
    """Ours, not LangGraph Server's: the run's time limit (see ``engine.timeouts``)."""

    @field_validator("stream_mode", mode="before")
    @classmethod
    def _known_modes(cls, value: Any) -> list[str]:
        modes = [value] if isinstance(value, str) else value
        if not isinstance(modes, list) or not all(isinstance(m, str) for m in modes):
            raise ValueError("must be a stream mode name or a list of them")
        for mode in modes:
            if mode not in STREAM_MODES:
                known = ", ".join(sorted(STREAM_MODES))
                raise ValueError(f"unknown stream mode {mode!r}; expected one of: {known}")
        return list(dict.fromkeys(modes)) or list(cls.default_stream_mode)

    @field_validator("checkpoint")
    @classmethod
    def _checkpoint_ref(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_checkpoint_ref(value)
        return value

    @model_validator(mode="before")
    @classmethod
    def _command_wins(cls, data: Any) -> Any:
        # LangGraph Server lets the command win over an input sent beside it (langgraph-api
        # stream.py), and @ag-ui/langgraph's LangGraphAgent resumes by sending both. Before
        # validation, so frozen subclasses (the WebSocket's RunAction) drop it the same way.
        if isinstance(data, dict) and data.get("command") is not None and "input" in data:
            return {key: value for key, value in data.items() if key != "input"}
        return data

    @model_validator(mode="after")
    def _config_or_context(self) -> RunRequest:
        if self.config and self.config.configurable and self.context:
            raise ValueError("Provide either 'config.configurable' or 'context', not both")
        return self

    @property
    def resumes(self) -> bool:
        """Whether the run answers an interrupt (needs a thread that has one)."""
        return self.command is not None and self.command.resume is not None

    @property
    def start_checkpoint_id(self) -> str | None:
        """The checkpoint the run starts from (``checkpoint_id`` or ``checkpoint``'s); None:
        the thread's latest."""
        return self.checkpoint_id or (self.checkpoint or {}).get("checkpoint_id")

    def to_kwargs(self) -> RunKwargs:
        """The run's ``kwargs`` as the store and executor expect them."""
        checkpoint_id = self.start_checkpoint_id
        kwargs: RunKwargs = {
            "input": self.input,
            "command": self.command.model_dump(exclude_none=True) if self.command else None,
            "stream_mode": self.stream_mode,
            "stream_subgraphs": self.stream_subgraphs,
            "config": self.config.as_config() if self.config else None,
            "context": self.context,
            "interrupt_before": self.interrupt_before,
            "interrupt_after": self.interrupt_after,
            "checkpoint_id": checkpoint_id,
            "on_disconnect": self.on_disconnect,
            "stream_resumable": self.stream_resumable,
            "feedback_keys": self.feedback_keys,
            "webhook": self.webhook,
            "timeout_seconds": self.timeout_seconds,
        }
        return kwargs


def parse_uuid(value: str, what: str) -> str:
    """``value`` in canonical UUID form, or ``ValueError`` naming the field."""
    try:
        return str(UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ValueError(f"Invalid {what}: must be a UUID") from None


_TRANSPORT_LOCATIONS = frozenset({"body", "query", "path"})
_OBJECT_EXPECTED = frozenset({"model_type", "model_attributes_type"})


def describe_errors(errors: Iterable[Any]) -> str:
    """One readable line from pydantic errors: ``field.path: message; ...``.

    Every transport reports a rejected request with this line (HTTP ``detail``, WebSocket
    ``invalid_request`` message), so a client sees the same words for the same mistake.
    """
    parts: list[str] = []
    for error in errors:
        if error.get("type") == "json_invalid":
            return "Request body is not valid JSON"
        # Union members show up in the location as type names ("list[str]"); drop them.
        loc = [
            str(p)
            for p in error.get("loc", ())
            if p not in _TRANSPORT_LOCATIONS and not (isinstance(p, str) and "[" in p)
        ]
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        if error.get("type") in _OBJECT_EXPECTED:
            # Pydantic words it differently per input mode and names our model classes.
            message = "Input should be a valid dictionary"
        if not loc and error.get("type") == "missing":
            parts.append("Request body is required")
        elif error.get("type") == "model_attributes_type" and not loc:
            parts.append("Request body must be a JSON object")
        else:
            parts.append(f"{'.'.join(loc)}: {message}" if loc else message)
    return "; ".join(dict.fromkeys(parts)) or "Invalid request"
