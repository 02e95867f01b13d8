"""Request bodies of the HTTP API, validated before anything touches the store (422 otherwise).

Field names and meanings follow LangGraph Server's OpenAPI schemas (``RunCreateStateful``,
``ThreadCreate``, ...), so ``langgraph-sdk`` requests validate unchanged. Fields the SDK may
send that we do not act on (``durability``, ``langsmith_tracer``, ...) are accepted and ignored;
fields we act on are checked strictly (no string-to-bool coercion).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, Field, field_validator

from lambdagraph.engine import (
    STRICT,
    CommandRequest,
    RunRequest,
    check_checkpoint_ref,
    parse_uuid,
)
from lambdagraph.store.records import (
    ThreadField,
    ThreadSortBy,
    ThreadStatus,
    ThreadTtlStrategy,
)

RunCreate = RunRequest
"""Body of ``POST /threads/{tid}/runs``, ``.../runs/stream|wait`` and the stateless
``/runs/...``: the shared run request (the thread comes from the path)."""

CommandBody = CommandRequest


MAX_TTL_MINUTES: Final = 100 * 365 * 24 * 60
"""A century: longer TTLs are refused (422) before their expiry overflows a timestamp."""
MIN_TTL_MINUTES: Final = 0.001
"""60 ms: shorter is meaningless (expiry is kept in whole seconds), and a subnormal float
such as 5e-324 is beyond what a DynamoDB number can hold (422 instead of a 500)."""


class ThreadTtl(BaseModel):
    """A thread's time to live, as the SDK sends it (``{"ttl": minutes, "strategy": ...}``).

    ``delete`` erases the thread when it expires; ``keep_latest`` keeps the thread and its
    latest checkpoint and erases older ones (LangGraph Server 0.16.7's two strategies).
    """

    model_config = STRICT

    ttl: float = Field(
        ge=MIN_TTL_MINUTES,
        le=MAX_TTL_MINUTES,
        description="Minutes from now (from the create or update).",
    )
    strategy: ThreadTtlStrategy = "delete"


class ThreadCreate(BaseModel):
    """Body of ``POST /threads``."""

    model_config = STRICT

    thread_id: str | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    ttl: ThreadTtl | None = None

    @field_validator("thread_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        return None if value is None else parse_uuid(value, "thread_id")


class ThreadPatch(BaseModel):
    """Body of ``PATCH /threads/{tid}``: metadata merged key by key into the thread's."""

    model_config = STRICT

    metadata: dict[str, Any] | None = None
    ttl: ThreadTtl | None = None


class ThreadCount(BaseModel):
    """Body of ``POST /threads/count``."""

    model_config = STRICT

    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    status: ThreadStatus | None = None


class ThreadSearch(ThreadCount):
    """Body of ``POST /threads/search``."""

    ids: list[str] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: ThreadSortBy | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[ThreadField] | None = None
    extract: dict[str, str] | None = None

    @field_validator("ids")
    @classmethod
    def _uuids(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [parse_uuid(v, "thread ID") for v in value]


class StateUpdate(BaseModel):
    """Body of ``POST /threads/{tid}/state`` (``client.threads.update_state``)."""

    model_config = STRICT

    values: dict[str, Any] | list[dict[str, Any]] | None = None
    as_node: str | None = None
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = None

    @field_validator("checkpoint")
    @classmethod
    def _checkpoint_ref(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_checkpoint_ref(value)
        return value


class StateAtCheckpoint(BaseModel):
    """Body of ``POST /threads/{tid}/state/checkpoint`` (``get_state(checkpoint=...)``)."""

    model_config = STRICT

    checkpoint: dict[str, Any]
    subgraphs: bool = False

    @field_validator("checkpoint")
    @classmethod
    def _checkpoint_ref(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_checkpoint_ref(value)
        return value


class HistoryRequest(BaseModel):
    """Body of ``POST /threads/{tid}/history``."""

    model_config = STRICT

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


class AssistantCount(BaseModel):
    """Body of ``POST /assistants/count`` (and the filters of a search)."""

    model_config = STRICT

    graph_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None


AssistantField = Literal[
    "assistant_id", "graph_id", "name", "description", "config", "context",
    "created_at", "updated_at", "metadata", "version",
]
"""What ``select`` may name (LangGraph Server's ``AssistantSelectField``)."""


class AssistantSearch(AssistantCount):
    """Body of ``POST /assistants/search``."""

    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[AssistantField] | None = None


class AssistantPatch(BaseModel):
    """Body of ``PATCH /assistants/{aid}``: the fields to change (metadata is merged)."""

    model_config = STRICT

    graph_id: str | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = Field(default=None, max_length=256)
    description: str | None = None


class AssistantCreate(AssistantPatch):
    """Body of ``POST /assistants``."""

    graph_id: str = Field(min_length=1, max_length=256)
    assistant_id: str | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None

    @field_validator("assistant_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        return None if value is None else parse_uuid(value, "assistant_id")


class AssistantVersions(BaseModel):
    """Body of ``POST /assistants/{aid}/versions``."""

    model_config = STRICT

    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class AssistantLatest(BaseModel):
    """Body of ``POST /assistants/{aid}/latest``."""

    model_config = STRICT

    version: int = Field(ge=1)


__all__ = [
    "AssistantCount",
    "AssistantCreate",
    "AssistantLatest",
    "AssistantPatch",
    "AssistantSearch",
    "AssistantVersions",
    "CommandBody",
    "HistoryRequest",
    "RunCreate",
    "StateAtCheckpoint",
    "StateUpdate",
    "ThreadCount",
    "ThreadCreate",
    "ThreadPatch",
    "ThreadSearch",
    "ThreadTtl",
    "parse_uuid",
]
