"""Request bodies of the HTTP API, validated before anything touches the store (422 otherwise).

Field names and meanings follow LangGraph Server's OpenAPI schemas (``RunCreateStateful``,
``ThreadCreate``, ...), so ``langgraph-sdk`` requests validate unchanged. Fields the SDK may
send that we do not act on (``durability``, ``langsmith_tracer``, ...) are accepted and ignored;
fields we act on are checked strictly (no string-to-bool coercion).
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lambdagraph.engine.graph_call import check_checkpoint_ref, check_config, check_goto
from lambdagraph.engine.timeouts import TimeoutSeconds
from lambdagraph.protocol.events import STREAM_MODES
from lambdagraph.store.records import MultitaskStrategy, RunKwargs, ThreadStatus

_STRICT = ConfigDict(extra="ignore", strict=True)

class CommandBody(BaseModel):
    """``Command`` as the SDK sends it: resume an interrupt, update state, or go to nodes."""

    model_config = ConfigDict(extra="forbid")

    update: dict[str, Any] | list[Any] | None = None
    resume: Any = None
    goto: Any = None

    @field_validator("goto")
    @classmethod
    def _goto_targets(cls, value: Any) -> Any:
        check_goto(value)
        return value


class RunCreate(BaseModel):
    """Body of ``POST /threads/{tid}/runs/stream|wait`` and the stateless ``/runs/...``."""

    model_config = _STRICT

    assistant_id: str = Field(min_length=1, max_length=256)
    input: Any = None
    command: CommandBody | None = None
    stream_mode: list[str] = Field(default_factory=lambda: ["values"])
    """Stream modes, one name or a list (``messages-tuple`` yields events named ``messages``)."""
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    config: dict[str, Any] | None = None
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
        return list(dict.fromkeys(modes)) or ["values"]

    @field_validator("checkpoint")
    @classmethod
    def _checkpoint_ref(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_checkpoint_ref(value)
        return value

    @field_validator("config")
    @classmethod
    def _configurable_ref(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_config(value)
        return value

    @model_validator(mode="after")
    def _input_or_command(self) -> RunCreate:
        if self.input is not None and self.command is not None:
            raise ValueError("Provide either 'input' or 'command', not both")
        if self.config and self.config.get("configurable") and self.context:
            raise ValueError("Provide either 'config.configurable' or 'context', not both")
        return self

    @property
    def resumes(self) -> bool:
        """Whether the run answers an interrupt (needs a thread that has one)."""
        return self.command is not None and self.command.resume is not None

    def to_kwargs(self) -> RunKwargs:
        """The run's ``kwargs`` as the store and executor expect them."""
        checkpoint_id = self.checkpoint_id or (self.checkpoint or {}).get("checkpoint_id")
        kwargs: RunKwargs = {
            "input": self.input,
            "command": self.command.model_dump(exclude_none=True) if self.command else None,
            "stream_mode": self.stream_mode,
            "stream_subgraphs": self.stream_subgraphs,
            "config": self.config,
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


class ThreadCreate(BaseModel):
    """Body of ``POST /threads``."""

    model_config = _STRICT

    thread_id: str | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None

    @field_validator("thread_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        return None if value is None else parse_uuid(value, "thread_id")


class ThreadSearch(BaseModel):
    """Body of ``POST /threads/search``."""

    model_config = _STRICT

    metadata: dict[str, Any] | None = None
    status: ThreadStatus | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class HistoryRequest(BaseModel):
    """Body of ``POST /threads/{tid}/history``."""

    model_config = _STRICT

    limit: int = Field(default=10, ge=1, le=1000)
    before: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None

    @field_validator("before", mode="before")
    @classmethod
    def _checkpoint_id_alone(cls, value: Any) -> Any:
        # The SDK accepts a bare checkpoint id for ``before`` as well as a checkpoint dict.
        return {"checkpoint_id": value} if isinstance(value, str) else value

    @field_validator("before", "checkpoint")
    @classmethod
    def _checkpoint_refs(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_checkpoint_ref(value)
        return value


class AssistantSearch(BaseModel):
    """Body of ``POST /assistants/search``."""

    model_config = _STRICT

    graph_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


def parse_uuid(value: str, what: str) -> str:
    """``value`` in canonical UUID form, or ``ValueError`` naming the field."""
    try:
        return str(UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ValueError(f"Invalid {what}: must be a UUID") from None
