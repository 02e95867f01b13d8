"""App-table records as the routes see them: TypedDicts shaped like LangGraph Server's JSON.

``Thread`` and ``Run`` carry LangGraph Server's fields (so routes return them almost as-is)
plus our own (``owner``, ``cancel``, ``usage``, ``active_run_id``) that :func:`public_thread`
and :func:`public_run` strip before a record leaves the server.
"""

from __future__ import annotations

from typing import Any, Final, Literal, NotRequired, TypedDict

RunStatus = Literal["pending", "running", "success", "error", "timeout", "interrupted"]
"""A run's lifecycle; ``pending``/``running`` are active, the rest final."""

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
"""``busy`` while a run is active; ``interrupted`` when the graph stopped at an interrupt."""

MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
"""What a new run gets on a busy thread (``enqueue`` is the server default)."""

ThreadSortBy = Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"]
"""What ``POST /threads/search`` sorts by (langgraph-sdk 0.4.14's ``ThreadSortBy``)."""

ThreadField = Literal[
    "thread_id", "created_at", "updated_at", "metadata", "config", "context", "status",
    "values", "interrupts",
]
"""What ``select`` may name (langgraph-sdk 0.4.14's ``ThreadSelectField``)."""

ThreadTtlStrategy = Literal["delete", "keep_latest"]
"""What happens to a thread when its TTL runs out (LangGraph Server 0.16.7's two)."""

OnDisconnect = Literal["cancel", "continue"]
Durability = Literal["sync", "async", "exit"]
CancelAction = Literal["interrupt", "rollback"]

FINAL_RUN_STATUSES: Final[frozenset[str]] = frozenset(
    {"success", "error", "timeout", "interrupted"}
)
ACTIVE_RUN_STATUSES: Final[frozenset[str]] = frozenset({"pending", "running"})


class RunKwargs(TypedDict, total=False):
    """The run request body as the SDK sends it (validated by the HTTP layer)."""

    input: Any
    command: dict[str, Any] | None
    stream_mode: list[str]
    stream_subgraphs: bool
    config: dict[str, Any] | None
    context: dict[str, Any] | None
    interrupt_before: list[str] | Literal["*"] | None
    interrupt_after: list[str] | Literal["*"] | None
    checkpoint_id: str | None
    on_disconnect: OnDisconnect
    stream_resumable: bool
    feedback_keys: list[str] | None
    webhook: str | None
    durability: Durability | None
    timeout_seconds: float | None
    protocol: Literal["v2"]
    """A run of the Agent Streaming Protocol: its frames go to the thread log."""


class Usage(TypedDict):
    """Token counts summed over a run's model messages (from ``usage_metadata``) and their
    cost (``None`` when a model has no price; see ``lambdagraph.pricing``)."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float | None


class Thread(TypedDict):
    """A thread as LangGraph Server returns it, plus ``owner`` and ``active_run_id``."""

    thread_id: str
    created_at: str
    updated_at: str
    metadata: dict[str, Any]
    status: ThreadStatus
    values: NotRequired[Any]
    interrupts: NotRequired[dict[str, Any]]
    owner: str
    active_run_id: NotRequired[str | None]
    ttl: NotRequired[ThreadTtlInfo | None]
    usage: NotRequired[Usage]
    """The cumulative totals of the thread's finished runs."""


class ThreadTtlInfo(TypedDict):
    """A thread's TTL as ``GET /threads/{tid}?include=ttl`` shows it (LangGraph's shape)."""

    strategy: ThreadTtlStrategy
    ttl_minutes: float
    expires_at: str


class Run(TypedDict):
    """A run as LangGraph Server returns it, plus ``owner``, ``cancel`` and ``usage``."""

    run_id: str
    thread_id: str
    assistant_id: str
    graph_id: NotRequired[str]
    """The graph the assistant ran (older records named it in ``assistant_id``)."""
    created_at: str
    updated_at: str
    status: RunStatus
    metadata: dict[str, Any]
    multitask_strategy: MultitaskStrategy
    kwargs: RunKwargs
    owner: str
    cancel: NotRequired[CancelAction | None]
    usage: NotRequired[Usage | None]
    aws: NotRequired[dict[str, Any] | None]
    """The run's AWS resource use (``lambdagraph.pricing.aws_meter.AwsUse.snapshot``)."""
    temporary: NotRequired[bool]
    subscribers: NotRequired[list[str]]


_PRIVATE_THREAD_FIELDS: Final = frozenset({"owner", "active_run_id", "ttl"})
_PRIVATE_RUN_FIELDS: Final = frozenset({"owner", "cancel", "temporary", "subscribers", "graph_id"})


class Assistant(TypedDict):
    """An assistant as LangGraph Server returns it, plus ``owner`` (``None``: a graph's
    default assistant, visible to every user)."""

    assistant_id: str
    graph_id: str
    name: str
    description: str | None
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    version: int
    created_at: str
    updated_at: str
    owner: str | None


def run_graph_id(run: Run) -> str:
    """The graph a run executes (records written before assistants named it in
    ``assistant_id``)."""
    return run.get("graph_id") or run["assistant_id"]


def public_assistant(assistant: Assistant) -> dict[str, Any]:
    """The assistant as a client sees it: ``owner`` removed."""
    return {k: v for k, v in assistant.items() if k != "owner"}


def public_thread(thread: Thread, *, include_ttl: bool = False) -> dict[str, Any]:
    """The thread as a client sees it: our private fields removed (its TTL shown only when
    asked for and set, as ``GET /threads/{tid}?include=ttl`` does)."""
    public = {k: v for k, v in thread.items() if k not in _PRIVATE_THREAD_FIELDS}
    if include_ttl and thread.get("ttl"):
        public["ttl"] = thread["ttl"]
    return public


def public_run(run: Run) -> dict[str, Any]:
    """The run as a client sees it: our private fields removed.

    A running run flagged for cancellation reads ``interrupted`` at once, as on LangGraph
    Server (whose cancel sets the status before it answers); its executor still stops the
    graph and records the final status, which later reads show.
    """
    public = {k: v for k, v in run.items() if k not in _PRIVATE_RUN_FIELDS}
    if run["status"] == "running" and run.get("cancel"):
        public["status"] = "interrupted"
    return public
