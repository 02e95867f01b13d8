"""Every environment variable lambdagraph reads, with its default, in one place.

``Settings.from_env()`` is called once per cold start (entry points, the local stack); code
below the entry points receives the values it needs as arguments. ``Settings`` is a frozen
``pydantic-settings`` model: a bad value (not a number, negative where that means nothing,
an unknown choice, a malformed ``LAMBDAGRAPH_GRAPHS``) fails right there with a
``ConfigurationError`` that names the variable, e.g.
``LAMBDAGRAPH_RUN_LEASE_SECONDS='x' is not a number``.

Variables:
    LAMBDAGRAPH_CHECKPOINT_TABLE: checkpoints table name (``lambdagraph-checkpoints``).
    LAMBDAGRAPH_APP_TABLE: app table name (``lambdagraph-app``).
    LAMBDAGRAPH_CHECKPOINT_BUCKET: S3 bucket for checkpoint items over the size threshold
        (unset: no offload; oversized items then raise ``ConfigurationError``).
    LAMBDAGRAPH_CHECKPOINT_TTL_SECONDS: checkpoint lifetime; 0 keeps them forever (``0``).
    LAMBDAGRAPH_LOG_LEVEL: log level, ``DEBUG``, ``INFO``, ``WARNING``, ``ERROR`` or ``CRITICAL``
        (``INFO``).
    LAMBDAGRAPH_AUTH_MODE: how requests are authenticated: ``none`` (every request is the
        local user), ``jwt`` (OIDC bearer tokens), ``iam`` (the caller's IAM principal) or
        ``custom`` (a ``langgraph_sdk.Auth`` object) (``none``).
    LAMBDAGRAPH_JWT_ISSUER: OIDC issuer whose tokens ``jwt`` mode accepts, e.g. a Cognito user
        pool URL; its JWKS is read from the issuer's discovery document (empty).
    LAMBDAGRAPH_JWT_AUDIENCE: audience (``aud``/``client_id``) those tokens must carry (empty).
    LAMBDAGRAPH_JWT_JWKS_URL: the issuer's JWKS, when it is not the discovery document's
        ``jwks_uri`` (empty).
    LAMBDAGRAPH_AUTH_PATH: ``custom`` mode's ``module.path:auth``, naming a
        ``langgraph_sdk.Auth`` instance, as a LangGraph Server deployment's ``auth.path``
        (empty).
    LAMBDAGRAPH_MAX_ACTIVE_RUNS_PER_USER: runs one user may have running or pending at once;
        more answer 429. 0: no limit (``0``).
    LAMBDAGRAPH_REQUESTS_PER_MINUTE_PER_USER: HTTP requests and WebSocket actions one user may
        make in a minute; more answer 429 / ``rate_limited``. 0: no limit (``0``).
    LAMBDAGRAPH_CANCEL_POLL_INTERVAL: seconds between the executor's reads of a run's cancel
        flag (``0.25``).
    LAMBDAGRAPH_CANCEL_WAIT_SECONDS: how long a cancel that waits (HTTP ``cancel?wait=1``, a
        WebSocket ``cancel`` from a connection not subscribed to the run) waits for the run
        to stop before answering with its current status (``20``: below API Gateway's 29 s
        route and 30 s HTTP API limits, far above the cancel poll of a healthy run).
    LAMBDAGRAPH_HEARTBEAT_SECONDS: longest silence on a long response (SSE streams, ``/wait``,
        ``/join``) before a heartbeat (``: heartbeat`` comment, or a newline before JSON);
        proxies drop idle connections at 30 s (``10``).
    LAMBDAGRAPH_AGENT_STREAM_IDLE_SECONDS: how long an Agent Streaming Protocol event stream
        (``POST /threads/{tid}/stream/events``) stays open while its thread has no run and
        no new event; an open stream is a billed invocation on a function URL. 0: never
        end (``20``).
    LAMBDAGRAPH_STREAM_QUEUE_EVENTS: how many events may wait for a streaming or waiting
        HTTP client before the run waits for it (``1000``).
    LAMBDAGRAPH_SLOW_CONSUMER_SECONDS: how long a run waits for such a client to make room
        before it detaches the client with a ``SlowConsumer`` error event (``5``).
    LAMBDAGRAPH_RUN_TIMEOUT_SECONDS: longest a run may execute, counted from its start
        across worker invocations; it then ends with status ``timeout``. 0: no limit; a run
        request's ``timeout_seconds`` overrides it (``0``).
    LAMBDAGRAPH_MAX_BODY_BYTES: largest request body the HTTP API accepts, 413 above it; Lambda
        caps payloads at 6 MB (``6291456``).
    LAMBDAGRAPH_CORS_ALLOW_ORIGINS: comma-separated origins allowed by CORS (``*``).
    LAMBDAGRAPH_MODEL: chat model of the demo graph, ``scripted`` or ``bedrock`` (``scripted``).
    LAMBDAGRAPH_BEDROCK_MODEL_ID: Bedrock model or inference profile id when the model is
        ``bedrock`` (``us.anthropic.claude-haiku-4-5-20251001-v1:0``).
    LAMBDAGRAPH_SCRIPTED_DELAY_MS: pause between the scripted model's chunks; 0 streams as
        fast as possible (``20``).
    LAMBDAGRAPH_PRICES_FILE: a JSON price table (``{"models": {id: {input, output,
        cache_read, cache_write}}}``, USD per million tokens) whose entries add to or replace
        the shipped Bedrock prices (``lambdagraph/pricing/prices.json``) (empty).
    LAMBDAGRAPH_GRAPHS: extra graphs, ``name=module.path:attr,other=pkg.mod:graph`` (empty).
    LAMBDAGRAPH_EVENT_LOG_TTL_SECONDS: how long logged run events stay joinable (``86400``).
    LAMBDAGRAPH_EVENT_LOG_FLUSH_MS: how long events wait in the buffer before one batched
        write to the event log (``100``).
    LAMBDAGRAPH_WORKER_FUNCTION: name of the deployed worker function background runs and
        continuations are invoked on (empty: the local stack's in-process invoker).
    LAMBDAGRAPH_DEADLINE_MARGIN_MS: a worker stops at the next checkpoint once less than this
        is left before its Lambda timeout, and continues in a new invocation (``60000``).
    LAMBDAGRAPH_RUN_LEASE_SECONDS: a worker renews its lease on a run every third of this; a
        run whose lease is older is treated as crashed (``30``).
    LAMBDAGRAPH_LOCAL_WORKER_TIMEOUT_SECONDS: the local stack's worker timeout; 0 takes the
        ``WorkerFunction``'s ``Timeout`` from ``template.yaml`` (``0``).
    LAMBDAGRAPH_CRON_SCHEDULE_GROUP, LAMBDAGRAPH_CRON_TARGET_ARN, LAMBDAGRAPH_CRON_ROLE_ARN:
        the EventBridge Scheduler group crons' schedules live in, the function they invoke
        (the worker) and the role they assume; set by ``template.yaml`` (empty: the local
        stack's scheduler fires crons).
    LAMBDAGRAPH_LOCAL_CRON_TICK_SECONDS: how often the local stack's scheduler looks for
        due crons (``60``: on each minute, a crontab's resolution; each look scans the table).
    LAMBDAGRAPH_WEB_LOGIN_URL: the chat page's sign-in (an OAuth 2.0 authorize endpoint that
        answers the implicit flow, e.g. Cognito's ``https://{domain}/oauth2/authorize``); the
        page asks it with ``client_id`` = ``LAMBDAGRAPH_JWT_AUDIENCE`` (empty: no sign-in).
    LAMBDAGRAPH_WEB_WS_URL: the WebSocket URL the chat page may stream over
        (``wss://…/{stage}``; empty: SSE only).
    LAMBDAGRAPH_WS_ENDPOINT: the WebSocket API's management endpoint,
        ``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`` (the local stack sets
        ``http://127.0.0.1:8000/ws``); empty: the worker posts nowhere and the ``ws``
        function builds it from each event's ``domainName`` and ``stage``.
    LAMBDAGRAPH_WS_BATCH_WINDOW_MS: how long the WebSocket sender waits to batch events into
        one message (``50``).
    LAMBDAGRAPH_WS_BATCH_BYTES: the sender cuts batches before this size (``32000``, one
        32 KB API Gateway frame).
    LAMBDAGRAPH_WS_SEND_QUEUE_BYTES: bytes of messages one WebSocket connection may have
        waiting to be posted before the run waits for it (``1048576``).
    LAMBDAGRAPH_WS_SLOW_CONSUMER_SECONDS: how long the run waits for such a connection
        before detaching it with a ``slow_consumer`` error (``5``).
    LAMBDAGRAPH_WS_IDEMPOTENCY_SECONDS: how long a WebSocket ``run``'s ``request_id`` is
        remembered (``3600``).
    LAMBDAGRAPH_WEBHOOK_ALLOW_HTTP: run ``webhook`` URLs may be plain ``http`` (unset: yes on
        the local stack, no elsewhere).
    LAMBDAGRAPH_WEBHOOK_ALLOW_PRIVATE_HOSTS: webhook hosts may resolve to private, loopback or
        link-local addresses (unset: yes on the local stack, no elsewhere).
    LAMBDAGRAPH_WEBHOOK_ALLOWED_DOMAINS: comma-separated hosts webhooks may name,
        ``*.example.com`` for subdomains (empty: any host the rules above allow).
    LAMBDAGRAPH_WEBHOOK_TIMEOUT_SECONDS: how long one webhook post may take (``10``).
    LAMBDAGRAPH_WEBHOOK_ATTEMPTS: how many times a failing webhook post is tried (``3``).
    LAMBDAGRAPH_THREAD_SWEEP_SECONDS: how often the local stack sweeps the threads whose TTL
        ran out (``60``); deployed, a schedule in ``template.yaml`` does it every 5 minutes.
    LAMBDAGRAPH_STORE_DEFAULT_TTL_MINUTES: minutes a store item lives after its last write
        (or read, with refresh on read) when its put gives no ``ttl`` (``0``: forever).
    LAMBDAGRAPH_STORE_REFRESH_ON_READ: whether reads push a store item's expiry forward when
        the request does not say (``true``, as LangGraph's default).
    LAMBDAGRAPH_METRICS_NAMESPACE: the CloudWatch namespace of the EMF metrics
        (``lambdagraph``; ``template.yaml`` sets the stack's name).
    LAMBDAGRAPH_TRACING: trace with X-Ray through Powertools' Tracer (``false``; the
        template's ``Tracing`` parameter sets it). Off, nothing of X-Ray is imported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import Field, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from lambdagraph.errors import ConfigurationError

#: Prefix of every variable; the rest of a variable's name is its field's, upper-cased.
ENV_PREFIX = "LAMBDAGRAPH_"

ModelName = Literal["scripted", "bedrock"]
AuthMode = Literal["none", "jwt", "iam", "custom"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

#: A graph name in ``LAMBDAGRAPH_GRAPHS`` (it becomes an assistant id).
GRAPH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: An import path ``module.path:attr`` naming a graph.
GRAPH_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class Settings(BaseSettings):
    """lambdagraph configuration, validated once per cold start.

    ``Settings(**values)`` takes field values and reads no environment (tests build it so);
    :meth:`from_env` reads the ``LAMBDAGRAPH_*`` variables. Either raises
    ``ConfigurationError`` naming each bad variable and its value.

    Example:
        >>> Settings.from_env({"LAMBDAGRAPH_MODEL": "bedrock"}).model
        'bedrock'
        >>> Settings(scripted_delay_ms=0).replace(app_table="dev-app").app_table
        'dev-app'
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
    )

    checkpoint_table: str = "lambdagraph-checkpoints"
    app_table: str = "lambdagraph-app"
    checkpoint_bucket: str | None = None
    checkpoint_ttl_seconds: int = Field(0, ge=0)
    log_level: LogLevel = "INFO"
    auth_mode: AuthMode = "none"
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_jwks_url: str = ""
    auth_path: str = ""
    # Per-user limits (DynamoDB counters, so they hold across instances).
    max_active_runs_per_user: int = Field(0, ge=0)
    requests_per_minute_per_user: int = Field(0, ge=0)
    cancel_poll_interval: float = Field(0.25, gt=0)
    cancel_wait_seconds: float = Field(20.0, gt=0)
    heartbeat_seconds: float = Field(10.0, gt=0)
    agent_stream_idle_seconds: float = Field(20.0, ge=0)
    stream_queue_events: int = Field(1000, gt=0)
    slow_consumer_seconds: float = Field(5.0, gt=0)
    run_timeout_seconds: float = Field(0.0, ge=0)
    max_body_bytes: int = Field(6 * 1024 * 1024, gt=0)
    cors_allow_origins: str = "*"
    model: ModelName = "scripted"
    bedrock_model_id: str = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    scripted_delay_ms: int = Field(20, ge=0)
    prices_file: str = ""
    graphs: str = ""
    # Durable runs (event log, worker, continuations).
    event_log_ttl_seconds: int = Field(86_400, gt=0)
    event_log_flush_ms: int = Field(100, ge=0)
    worker_function: str = ""
    deadline_margin_ms: int = Field(60_000, ge=0)
    run_lease_seconds: float = Field(30.0, gt=0)
    local_worker_timeout_seconds: float = Field(0.0, ge=0)
    # The chat page (http/chat_page.py).
    web_login_url: str = ""
    web_ws_url: str = ""
    # WebSocket API.
    ws_endpoint: str = ""
    ws_batch_window_ms: int = Field(50, ge=0)
    ws_batch_bytes: int = Field(32_000, gt=0)
    ws_send_queue_bytes: int = Field(1024 * 1024, gt=0)
    ws_slow_consumer_seconds: float = Field(5.0, gt=0)
    ws_idempotency_seconds: int = Field(3600, gt=0)
    # Webhooks (engine/webhooks.py). None: the local stack allows, deployments refuse.
    webhook_allow_http: bool | None = None
    webhook_allow_private_hosts: bool | None = None
    webhook_allowed_domains: str = ""
    webhook_timeout_seconds: float = Field(10.0, gt=0)
    webhook_attempts: int = Field(3, ge=1, le=10)
    # Crons: EventBridge Scheduler in the cloud (all three set by template.yaml); without a
    # group the local stack's scheduler fires them, checking the table every tick.
    cron_schedule_group: str = ""
    cron_target_arn: str = ""
    cron_role_arn: str = ""
    local_cron_tick_seconds: float = Field(60.0, gt=0)
    # Thread TTL.
    thread_sweep_seconds: float = Field(60.0, gt=0)
    # Long-term memory store (LangGraph's BaseStore; langgraph.json's store.ttl).
    store_default_ttl_minutes: float = Field(0.0, ge=0)
    store_refresh_on_read: bool = True
    # Observability (lambdagraph.observability).
    metrics_namespace: str = Field("lambdagraph", min_length=1, max_length=255)
    tracing: bool = False

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigurationError(describe_errors(exc)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only the given values: the environment is read by `from_env` alone, so a test's
        # `Settings(...)` never picks up a developer's LAMBDAGRAPH_* variables.
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``LAMBDAGRAPH_*`` variables; unset or empty ones keep their default.

        Args:
            environ: the variables to read; ``os.environ`` when None.

        Raises:
            ConfigurationError: a value does not validate; the message names the variable.
        """
        source = _MappingEnvSource(cls, os.environ if environ is None else environ)
        return cls(**source())

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied, validated like the original.

        Raises:
            ConfigurationError: a changed value does not validate.
        """
        return type(self)(**{**self.model_dump(), **changes})

    @field_validator("model", "auth_mode", mode="before")
    @classmethod
    def _fold_choice(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _fold_log_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("graphs")
    @classmethod
    def _check_graphs(cls, value: str) -> str:
        try:
            parse_graph_specs(value)
        except ConfigurationError as exc:
            raise ValueError(exc.message) from exc
        return value


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # Matching is case-insensitive (the source lower-cases names), and an empty value
        # means unset, as the model's config says.
        return {name.lower(): value for name, value in self._environ.items() if value != ""}


def parse_graph_specs(value: str) -> dict[str, str]:
    """Parse ``LAMBDAGRAPH_GRAPHS`` (``name=module:attr,other=pkg.mod:graph``).

    Args:
        value: the variable's value; empty means no extra graphs.

    Returns:
        Graph name → import spec, in the order given.

    Raises:
        ConfigurationError: an entry without ``=``, a bad name or spec, or a duplicate name.
    """
    specs: dict[str, str] = {}
    for entry in value.split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, spec = (part.strip() for part in entry.partition("="))
        if not sep or not GRAPH_NAME.match(name) or not GRAPH_SPEC.match(spec):
            raise ConfigurationError(
                f"{ENV_PREFIX}GRAPHS entry {entry!r} is not of the form 'name=module.path:attr'"
            )
        if name in specs:
            raise ConfigurationError(f"{ENV_PREFIX}GRAPHS names graph {name!r} twice")
        specs[name] = spec
    return specs


_PROBLEMS = {
    "int_parsing": "is not an integer",
    "int_type": "is not an integer",
    "int_from_float": "is not an integer",
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "finite_number": "is not a finite number",
    "string_type": "is not a string",
}


def describe_errors(exc: ValidationError) -> str:
    """One line per bad value of ``exc``, each naming its variable, joined by ``; ``."""
    return "; ".join(_describe(error) for error in exc.errors())


def _describe(error: ErrorDetails) -> str:
    field = str(error["loc"][0]) if error["loc"] else "?"
    variable = f"{ENV_PREFIX}{field.upper()}"
    shown = f"{variable}={error['input']!r}"
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "extra_forbidden":
        return f"{field!r} is not a setting (no variable {variable})"
    if kind == "literal_error":
        choices = ", ".join(get_args(Settings.model_fields[field].annotation))
        return f"Unknown {field}: {shown} is not one of: {choices}"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        if bound == 0:
            return f"{shown} is {'negative' if kind == 'greater_than_equal' else 'not positive'}"
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        return message if message.startswith(variable) else f"{shown} {message}"
    return f"{shown} {_PROBLEMS.get(kind, error['msg'])}"
