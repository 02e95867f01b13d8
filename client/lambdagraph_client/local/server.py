"""The local stack: DynamoDB (embedded moto or a given endpoint) and the app.

``lambdagraph dev`` runs :func:`serve` in the foreground, with the embedded moto in a child
process of its own (``local.dynamo.moto_process``); tests use :func:`running_stack`, which
serves on a free port from a background thread, moto in the same process, and shuts down
cleanly. Nothing lives
only in memory: a second stack on the same DynamoDB endpoint sees every thread, run and
checkpoint of the first.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import uvicorn
from botocore.exceptions import ClientError

from lambdagraph import observability
from lambdagraph.auth import Authenticator, authenticator_from_settings
from lambdagraph.errors import ConfigurationError
from lambdagraph.settings import Settings
from lambdagraph.store.bucket import OFFLOAD_THRESHOLD_BYTES
from lambdagraph.wiring import LocalApps, build_local
from lambdagraph_client.local.crons import Clock, with_cron_scheduler
from lambdagraph_client.local.dynamo import embedded_aws, moto_process, use_fake_credentials
from lambdagraph_client.local.frames import FrameLimitedProtocol
from lambdagraph_client.local.gateway import PATH as WS_PATH
from lambdagraph_client.local.gateway import build_gateway
from lambdagraph_client.local.invoker import local_worker_invoker
from lambdagraph_client.local.metrics import MetricsRoute, PrometheusCollector
from lambdagraph_client.local.oidc import LOCAL_AUDIENCE, LocalIssuer, WithIssuer
from lambdagraph_client.local.oidc import PATH as ISSUER_PATH
from lambdagraph_client.local.sweeper import ThreadSweeper
from lambdagraph_client.local.tables import ensure_tables

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

_STARTUP_TIMEOUT = 30.0
_SHUTDOWN_TIMEOUT = 15.0

DEFAULT_URL = "http://127.0.0.1:8000"
"""Where ``lambdagraph dev`` serves, and where ``lambdagraph chat`` connects, by default."""

LOCAL_CHECKPOINT_BUCKET = "lambdagraph-checkpoints"
"""The checkpoint bucket the local stack uses on its S3 when none is configured."""


@dataclass
class LocalStack:
    """What a running local stack serves.

    Attributes:
        url: base URL of the HTTP API, e.g. ``http://127.0.0.1:8000``.
        dynamodb_endpoint: the DynamoDB endpoint the stack uses.
        embedded: whether that endpoint is the stack's own moto server.
        settings: the configuration the app was built from.
        created_tables: tables this stack had to create (existing ones are reused).
        issuer: the local OIDC issuer whose tokens the stack accepts (``jwt`` mode without
            ``LAMBDAGRAPH_JWT_ISSUER``), if it runs one.
    """

    url: str
    dynamodb_endpoint: str
    embedded: bool
    settings: Settings
    created_tables: list[str] = field(default_factory=list)
    issuer: LocalIssuer | None = None

    @property
    def ws_url(self) -> str:
        """The WebSocket API, e.g. ``ws://127.0.0.1:8000/ws``."""
        return "ws" + self.url.removeprefix("http") + WS_PATH

    def describe(self) -> str:
        """A few lines for the terminal: what is served where."""
        origin = "embedded moto" if self.embedded else "external"
        tables = f"{self.settings.app_table}, {self.settings.checkpoint_table}"
        created = ", ".join(self.created_tables) or "none"
        model: str = self.settings.model
        if model == "scripted":
            model += f" (delay {self.settings.scripted_delay_ms} ms per chunk)"
        bucket = self.settings.checkpoint_bucket
        offload = (
            f"s3://{bucket}  (checkpoints and run input over "
            f"{OFFLOAD_THRESHOLD_BYTES // 1024} KB)"
            if bucket
            else "none: set LAMBDAGRAPH_CHECKPOINT_BUCKET and AWS_ENDPOINT_URL_S3 for large state"
        )
        chat = _chat_command(self.url)
        if self.settings.auth_mode == "jwt":
            chat += ' --token "$(' + _command("token", self.url) + ' --user alice)"'
        return "\n".join(
            [
                f"HTTP API   {self.url}  (LangGraph Server protocol; health: {self.url}/ok)",
                f"DynamoDB   {self.dynamodb_endpoint}  ({origin}; created: {created})",
                f"Tables     {tables}",
                f"Offload    {offload}",
                f"Model      {model}",
                *self._auth_lines(),
                f"WebSocket  {self.ws_url}  "
                f"(API Gateway emulator; @connections at {self.url}{WS_PATH})",
                f"Docs       {self.url}/docs  (OpenAPI: {self.url}/openapi.json)",
                f"Chat page  {self.url}/  (open it in a browser)",
                f"Metrics    {self.url}/metrics  (Prometheus text of the EMF metrics)",
                f"Try        {chat} \"weather in Paris\"",
                f"           {chat} --ws \"send an email to bob@example.com\"",
            ]
        )

    def _auth_lines(self) -> list[str]:
        settings = self.settings
        if settings.auth_mode != "jwt":
            note = "  (every request is the user 'local')" if settings.auth_mode == "none" else ""
            return [f"Auth       {settings.auth_mode}{note}"]
        if self.issuer is None:
            issuer, audience = settings.jwt_issuer, settings.jwt_audience
            return [f"Auth       jwt: issuer {issuer}, audience {audience}"]
        return [
            f"Auth       jwt: local issuer {self.issuer.url}  (audience {self.issuer.audience})",
            f"Tokens     {_command('token', self.url)} --user alice",
        ]


def _chat_command(url: str) -> str:
    """How to run ``lambdagraph chat`` from here."""
    return _command("chat", url)


def _command(name: str, url: str) -> str:
    """How to run ``lambdagraph NAME`` from here: the console script sits in the venv's bin,
    which is on PATH only while the venv is activated."""
    script = Path(sys.executable).parent / "lambdagraph"
    if shutil.which("lambdagraph") == str(script):
        shown = "lambdagraph"
    elif script.is_relative_to(Path.cwd()):
        shown = str(script.relative_to(Path.cwd()))
    else:
        shown = str(script)
    command = f"{shown} {name}"
    return command if url == DEFAULT_URL else f"{command} --url {url}"


def with_local_bucket(settings: Settings) -> Settings:
    """``settings`` with the local checkpoint bucket when none is set and S3 is local.

    The embedded moto serves S3 too, so large state (checkpoint items past DynamoDB's 400 KB)
    is offloaded as in the cloud, where ``template.yaml`` always sets a bucket. An external
    DynamoDB without ``AWS_ENDPOINT_URL_S3`` keeps the setting unset: that S3 would be AWS.
    """
    if settings.checkpoint_bucket or not os.environ.get("AWS_ENDPOINT_URL_S3"):
        return settings
    return settings.replace(checkpoint_bucket=LOCAL_CHECKPOINT_BUCKET)


def with_local_webhooks(settings: Settings) -> Settings:
    """``settings`` letting webhooks reach ``http://localhost`` and the local network, unless
    they say otherwise: a local receiver is how webhooks are tried out and tested."""
    changes = {
        name: True
        for name in ("webhook_allow_http", "webhook_allow_private_hosts")
        if getattr(settings, name) is None
    }
    return settings.replace(**changes) if changes else settings


def prepare_storage(settings: Settings) -> list[str]:
    """Create the template's tables (and the checkpoint bucket, if set) where missing."""
    created = ensure_tables(
        boto3.client("dynamodb"),
        {"CheckpointsTable": settings.checkpoint_table, "AppTable": settings.app_table},
    )
    if settings.checkpoint_bucket:
        s3 = boto3.client("s3")
        try:
            s3.head_bucket(Bucket=settings.checkpoint_bucket)
        except ClientError:
            s3.create_bucket(Bucket=settings.checkpoint_bucket)
    return created


@contextmanager
def _storage(
    embedded: bool | None, host: str, port: int = 0, *, own_process: bool = False
) -> Iterator[tuple[str, bool]]:
    """The DynamoDB endpoint to use: the configured one, or an embedded moto server (in a
    child process of its own when ``own_process``: see ``local.dynamo.moto_process``)."""
    configured = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if configured and not embedded:
        yield configured, False
        return
    # moto's server logs every DynamoDB call at INFO; the terminal is for what the user runs.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with (moto_process if own_process else embedded_aws)(host=host, port=port) as endpoint:
        yield endpoint, True


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it each small SSE frame waits out the client's delayed ACK (~40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening now, not when uvicorn starts: a client that read the printed URL early
        # waits in the backlog instead of being refused.
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"Cannot listen on {host}:{port}: {exc.strerror}; pick another port with "
            f"`make dev PORT={port + 1}` or `lambdagraph dev --port {port + 1}`"
        ) from exc
    return sock


def _with_ws_endpoint(settings: Settings, sock: socket.socket) -> Settings:
    """Point the worker's WebSocket posts at this stack's gateway (unless configured)."""
    if settings.ws_endpoint:
        return settings
    bound_host, bound_port = sock.getsockname()[:2]
    # The chat page may stream over the emulated WebSocket API too (its switch).
    web_ws_url = settings.web_ws_url or f"ws://{bound_host}:{bound_port}{WS_PATH}"
    return settings.replace(
        ws_endpoint=f"http://{bound_host}:{bound_port}{WS_PATH}", web_ws_url=web_ws_url
    )


def _with_local_issuer(
    settings: Settings, sock: socket.socket, wanted: bool
) -> tuple[Settings, LocalIssuer | None]:
    """Run a local OIDC issuer on this stack's port and accept its tokens, when ``wanted``
    and no ``LAMBDAGRAPH_JWT_ISSUER`` is configured (an explicit issuer wins)."""
    if not wanted or settings.jwt_issuer:
        return settings, None
    bound_host, bound_port = sock.getsockname()[:2]
    issuer = LocalIssuer(
        f"http://{bound_host}:{bound_port}{ISSUER_PATH}",
        audience=settings.jwt_audience or LOCAL_AUDIENCE,
    )
    # A configured JWKS URL belongs to some other issuer: the local one's comes from its
    # discovery document, as a real provider's does.
    local = settings.replace(
        auth_mode="jwt",
        jwt_issuer=issuer.url,
        jwt_audience=issuer.audience,
        jwt_jwks_url="",
        web_login_url=settings.web_login_url or f"{issuer.url}/authorize",
    )
    return local, issuer


def _server(app: Any) -> uvicorn.Server:
    # No uvicorn access log: the app logs what matters, and tests stay quiet. The WebSocket
    # protocol enforces API Gateway's 32 KB frame limit, which ASGI cannot see.
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", ws=FrameLimitedProtocol
    )
    return uvicorn.Server(config)


@contextmanager
def running_stack(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    settings: Settings | None = None,
    authenticator: Authenticator | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    embedded: bool | None = None,
    local_issuer: bool = False,
    cron_clock: Clock | None = None,
) -> Iterator[LocalStack]:
    """Serve the whole stack from a background thread for the duration of the block.

    Args:
        host: interface to listen on.
        port: port to listen on; 0 picks a free one (see ``LocalStack.url``).
        settings: configuration; ``Settings.from_env()`` when omitted.
        authenticator: overrides ``LAMBDAGRAPH_AUTH_MODE`` (tests inject identities).
        checkpointer: overrides the DynamoDB saver.
        embedded: True forces an embedded moto server even when
            ``AWS_ENDPOINT_URL_DYNAMODB`` is set; None uses the variable when present.
        local_issuer: serve a local OIDC issuer (``LocalStack.issuer``) and run in ``jwt``
            mode against it, unless ``settings.jwt_issuer`` names another issuer.
        cron_clock: the local cron scheduler's clock (tests make time pass at once).

    Yields:
        The running stack. On exit the server stops and the embedded moto server with it.
    """
    use_fake_credentials()
    settings = settings or Settings.from_env()
    with ExitStack() as stack:
        endpoint, is_embedded = stack.enter_context(_storage(embedded, host))
        settings = with_local_webhooks(with_local_bucket(settings))
        created = prepare_storage(settings)
        sock = stack.enter_context(_bind(host, port))
        settings = _with_ws_endpoint(settings, sock)
        settings, issuer = _with_local_issuer(settings, sock, local_issuer)
        # One authenticator for HTTP and the WebSocket authorizer: one JWKS cache.
        authenticator = authenticator or authenticator_from_settings(settings)
        apps = build_local(
            settings,
            authenticator=authenticator,
            checkpointer=checkpointer,
            worker_invoker=local_worker_invoker(settings),
        )
        app: Any = _with_sweeper(build_gateway(apps, settings, authenticator), apps, settings)
        app = with_cron_scheduler(app, apps, settings, cron_clock)
        app = _with_metrics(app, settings, stack)
        server = _server(WithIssuer(app, issuer) if issuer else app)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="lambdagraph-http", daemon=True
        )
        thread.start()
        stack.callback(_stop, server, thread)
        _wait_started(server, thread)
        bound_host, bound_port = sock.getsockname()[:2]
        yield LocalStack(
            url=f"http://{bound_host}:{bound_port}",
            dynamodb_endpoint=endpoint,
            embedded=is_embedded,
            settings=settings,
            created_tables=created,
            issuer=issuer,
        )


def _with_metrics(app: Any, settings: Settings, stack: ExitStack) -> MetricsRoute:
    """Serve the app's EMF metrics at ``GET /metrics`` (Prometheus text) until ``stack`` ends.

    Nothing goes to stdout: the terminal is for what the user runs, not JSON documents.
    """
    emitter = observability.configure(settings.metrics_namespace, "lambdagraph-local", stdout=False)
    collector = PrometheusCollector()
    emitter.listeners.append(collector.take)
    stack.callback(_forget, collector)
    return MetricsRoute(app, collector)


def _forget(collector: PrometheusCollector) -> None:
    listeners = observability.metrics().listeners
    if collector.take in listeners:
        listeners.remove(collector.take)


def _with_sweeper(app: Any, apps: LocalApps, settings: Settings) -> ThreadSweeper:
    # What the deployed schedule does (template.yaml): sweep threads whose TTL ran out.
    eraser = apps.http.state.context.eraser
    return ThreadSweeper(app, eraser.sweep_expired, settings.thread_sweep_seconds)


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    ready = threading.Event()
    deadline = _STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise ConfigurationError("The HTTP server failed to start; see the log above")
        if deadline <= 0:
            raise ConfigurationError(f"The HTTP server did not start in {_STARTUP_TIMEOUT} s")
        ready.wait(0.05)
        deadline -= 0.05


def _stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(_SHUTDOWN_TIMEOUT)
    if thread.is_alive():
        server.force_exit = True
        thread.join(_SHUTDOWN_TIMEOUT)


def _import_from_cwd() -> None:
    """Let ``LAMBDAGRAPH_GRAPHS`` name modules in the current directory, as ``langgraph dev``
    does: a console script's ``sys.path`` starts at its own bin directory, not the cwd."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    dynamodb_port: int = 0,
    settings: Settings | None = None,
) -> LocalStack:
    """Run the stack in the foreground until Ctrl-C (``lambdagraph dev``).

    Uses ``AWS_ENDPOINT_URL_DYNAMODB`` when set (creating missing tables there), else an
    embedded moto server on ``dynamodb_port`` (0: a free port). In ``jwt`` mode without
    ``LAMBDAGRAPH_JWT_ISSUER`` it serves a local OIDC issuer (:mod:`.oidc`) and accepts its
    tokens.
    """
    use_fake_credentials()
    settings = settings or Settings.from_env()
    _import_from_cwd()
    # moto in a process of its own: its request handling would otherwise take the GIL from
    # the event loop (DynamoDB never runs inside a Lambda instance either).
    with _storage(None, host, dynamodb_port, own_process=True) as (endpoint, is_embedded):
        settings = with_local_webhooks(with_local_bucket(settings))
        created = prepare_storage(settings)
        sock = _bind(host, port)
        settings = _with_ws_endpoint(settings, sock)
        settings, issuer = _with_local_issuer(settings, sock, settings.auth_mode == "jwt")
        authenticator = authenticator_from_settings(settings)
        apps = build_local(
            settings, authenticator=authenticator, worker_invoker=local_worker_invoker(settings)
        )
        bound_host, bound_port = sock.getsockname()[:2]
        stack = LocalStack(
            url=f"http://{bound_host}:{bound_port}",
            dynamodb_endpoint=endpoint,
            embedded=is_embedded,
            settings=settings,
            created_tables=created,
            issuer=issuer,
        )
        print(stack.describe(), flush=True)
        gateway: Any = _with_sweeper(build_gateway(apps, settings, authenticator), apps, settings)
        gateway = with_cron_scheduler(gateway, apps, settings, None)
        gateway = _with_metrics(gateway, settings, ExitStack())
        if issuer is not None:
            gateway = WithIssuer(gateway, issuer)
        # What exists now (libraries, the app) lives as long as the process. Freezing it keeps
        # full collections from walking it mid-stream: they halved tokens/s in `make bench`.
        gc.freeze()
        with sock:
            _server(gateway).run(sockets=[sock])
    return stack


def serve_dynamodb(
    *, host: str = "127.0.0.1", port: int = 8001, settings: Settings | None = None
) -> None:
    """Run only the embedded DynamoDB (and S3), with the template's tables, until Ctrl-C.

    ``lambdagraph dynamodb``: point ``lambdagraph dev`` at it with ``AWS_ENDPOINT_URL_DYNAMODB``
    and the API server can restart without losing threads, checkpoints or event logs.
    """
    use_fake_credentials()
    settings = settings or Settings.from_env()
    with _storage(True, host, port) as (endpoint, _):
        settings = with_local_bucket(settings)
        created = prepare_storage(settings)
        tables = ", ".join(created) or "already there"
        bucket = f"; bucket: {settings.checkpoint_bucket}" if settings.checkpoint_bucket else ""
        print(f"DynamoDB   {endpoint}  (embedded moto; tables: {tables}{bucket})", flush=True)
        use = f"AWS_ENDPOINT_URL_DYNAMODB={endpoint} AWS_ENDPOINT_URL_S3={endpoint} make dev"
        print(f"Use it     {use}", flush=True)
        threading.Event().wait()
