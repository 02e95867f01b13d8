"""The composition root: every collaborator built from ``Settings``, once per process.

Only ``functions/*`` and the local stack import this module; everything below it receives
its collaborators as arguments. Each ``build_*`` function gives one process what it needs,
and nothing more: the ``ws`` function, which never executes a run, builds no executor and
no checkpoint saver.

Each ``build_*`` imports its transport's modules itself (the HTTP app, the WebSocket API, the
fan-out): a function's init phase imports only what that function serves (FastAPI and every
route are no part of the ``ws`` and ``worker`` cold starts).

Example:
    >>> app = build_http_app(Settings.from_env())        # the stream and api functions
    >>> worker = build_worker(Settings.from_env())       # the worker function
    >>> api = build_ws_api(Settings.from_env())          # the ws function
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambdagraph.agents.loader import GraphRegistry
from lambdagraph.auth import Authenticator, authenticator_from_settings
from lambdagraph.auth.policy import authorizer_from_settings
from lambdagraph.engine import (
    COMMANDS,
    DurableRuns,
    Invoker,
    LambdaInvoker,
    RunExecutor,
    RunService,
    Sink,
    ThreadEraser,
    ThreadStreams,
)
from lambdagraph.engine.webhooks import WebhookPolicy, WebhookSender
from lambdagraph.engine.worker import WorkerHandler, WorkerSinks, handle_worker_event
from lambdagraph.errors import ConfigurationError
from lambdagraph.pricing import PriceTable
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore
from lambdagraph.store.connections import ConnectionStore
from lambdagraph.store.events import EventLog
from lambdagraph.store.leases import RunLeases
from lambdagraph.store.records import Run

if TYPE_CHECKING:
    from fastapi import FastAPI
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.store.base import BaseStore

    from lambdagraph.ws.api import WebSocketApi
    from lambdagraph.ws.sender import ManagementClient

InvokerFactory = Callable[[WorkerHandler], Invoker]
"""Builds the worker invoker from the worker's handler (the local stack's in-process one)."""


@dataclass(frozen=True)
class Core:
    """What every process shares: the settings, the app store and the graphs."""

    settings: Settings
    store: AppStore
    graphs: GraphRegistry

    @classmethod
    def from_settings(cls, settings: Settings) -> Core:
        """The store on ``settings.app_table`` and the graphs ``settings`` names."""
        store = AppStore.from_settings(settings)
        return cls(settings, store, GraphRegistry.from_settings(settings))

    def connections(self) -> ConnectionStore:
        """The WebSocket connection items, on the store's client."""
        return ConnectionStore(
            self.settings.app_table,
            client=self.store.client,
            index_ttl_seconds=self.settings.event_log_ttl_seconds,
        )

    def durable(
        self,
        executor: RunExecutor | None,
        invoker: Invoker | None,
        worker_sinks: WorkerSinks | None = None,
        eraser: ThreadEraser | None = None,
    ) -> DurableRuns:
        """The durable-run machinery over this store, tuned by the settings.

        ``eraser`` handles the worker's ``erase`` payloads (see :meth:`eraser`).
        """
        settings = self.settings
        return DurableRuns(
            self.store,
            executor,
            EventLog(
                settings.app_table,
                client=self.store.client,
                ttl_seconds=settings.event_log_ttl_seconds,
            ),
            RunLeases(
                settings.app_table,
                client=self.store.client,
                lease_seconds=settings.run_lease_seconds,
            ),
            invoker,
            flush_interval=settings.event_log_flush_ms / 1000,
            deadline_margin=settings.deadline_margin_ms / 1000,
            worker_sinks=worker_sinks,
            eraser=eraser,
        )

    def eraser(
        self, checkpointer: BaseCheckpointSaver[Any], invoker: Invoker | None
    ) -> ThreadEraser:
        """The thread eraser over this store and ``checkpointer``.

        It hands each erasure to a worker invocation through ``invoker``; with ``None`` (no
        worker configured) it erases in this process.
        """
        return ThreadEraser.from_settings(
            self.settings, store=self.store, checkpointer=checkpointer, invoker=invoker
        )

    def service(self, durable: DurableRuns) -> RunService:
        """The run service over ``durable``."""
        return RunService(
            durable,
            self.graphs,
            cancel_wait_seconds=self.settings.cancel_wait_seconds,
            webhooks=webhook_policy(self.settings),
        )

    def executor(self, checkpointer: BaseCheckpointSaver[Any] | None = None) -> RunExecutor:
        """The run executor, on ``checkpointer`` or the DynamoDB saver of the settings."""
        return RunExecutor(
            self.store,
            self.graphs,
            checkpointer if checkpointer is not None else default_checkpointer(self.settings),
            cancel_poll_interval=self.settings.cancel_poll_interval,
            run_timeout=self.settings.run_timeout_seconds,
            webhooks=WebhookSender(
                webhook_policy(self.settings),
                timeout=self.settings.webhook_timeout_seconds,
                attempts=self.settings.webhook_attempts,
            ),
            memory=self.memory,
            prices=PriceTable.load(self.settings.prices_file or None),
        )

    def memory(self, owner: str) -> BaseStore:
        """``owner``'s long-term memory store, with the settings' TTL policy (graphs and the
        Store API routes reach the same one)."""
        from lambdagraph.store.kv import DynamoDBStore, store_ttl  # lazy: cold start

        return DynamoDBStore(
            self.settings.app_table, owner, client=self.store.client, ttl=store_ttl(self.settings)
        )

    def websocket_sinks(self, client: ManagementClient | None = None) -> WorkerSinks | None:
        """The worker's extra sinks: a WebSocket fan-out for every run it executes.

        Any run may have WebSocket subscribers (a ``subscribe`` with the run's thread works
        for runs started over HTTP too); a fan-out without subscribers posts nothing.
        Reads ``LAMBDAGRAPH_WS_ENDPOINT``; without it the worker has nowhere to post.
        """
        settings = self.settings
        if not settings.ws_endpoint:
            return None
        from lambdagraph.ws.fanout import WebSocketFanout  # lazy: only the worker posts
        from lambdagraph.ws.sender import management_client
        from lambdagraph.ws.thread_fanout import ThreadFanout

        client = client or management_client(settings.ws_endpoint)
        connections = self.connections()
        log = EventLog(settings.app_table, client=self.store.client)

        async def build(run: Run) -> list[Sink]:
            if run.get("temporary"):
                return []  # a stateless run's thread is gone with it: nobody can subscribe
            streams: list[Sink] = []
            if run["kwargs"].get("protocol") == "v2":
                subscriptions = await connections.stream_subscriptions(run["thread_id"])
                streams.append(
                    ThreadFanout(
                        run,
                        client,
                        store=self.store,
                        connections=connections,
                        log=log.for_threads(),
                        subscriptions=subscriptions,
                        max_queued_bytes=settings.ws_send_queue_bytes,
                        max_wait=settings.ws_slow_consumer_seconds,
                    )
                )
            return [
                *streams,
                WebSocketFanout(
                    run,
                    client,
                    store=self.store,
                    connections=connections,
                    log=log,
                    window=settings.ws_batch_window_ms / 1000,
                    batch_bytes=settings.ws_batch_bytes,
                    max_queued_bytes=settings.ws_send_queue_bytes,
                    max_wait=settings.ws_slow_consumer_seconds,
                ),
            ]

        return build


def webhook_policy(settings: Settings) -> WebhookPolicy:
    """The webhook URL policy of ``settings`` (unset choices refuse: the cloud's default)."""
    domains = tuple(d.strip() for d in settings.webhook_allowed_domains.split(",") if d.strip())
    return WebhookPolicy(
        allow_http=bool(settings.webhook_allow_http),
        allow_private=bool(settings.webhook_allow_private_hosts),
        allowed_domains=domains,
    )


def default_checkpointer(settings: Settings) -> BaseCheckpointSaver[Any]:
    """The DynamoDB saver on ``settings.checkpoint_table`` (S3 offload to its bucket, TTL)."""
    from lambdagraph.store.checkpoint import AsyncDynamoDBSaver  # lazy: cold start

    saver: BaseCheckpointSaver[Any] = AsyncDynamoDBSaver.from_settings(settings)
    return saver


def _lambda_invoker(settings: Settings) -> LambdaInvoker:
    if not settings.worker_function:
        raise ConfigurationError("LAMBDAGRAPH_WORKER_FUNCTION is not set")
    return LambdaInvoker(settings.worker_function)


def _durable_with_worker(
    core: Core,
    executor: RunExecutor,
    worker_invoker: InvokerFactory | None,
    worker_sinks: WorkerSinks | None,
) -> tuple[DurableRuns, ThreadEraser]:
    """Durable runs and the thread eraser on the deployed worker
    (``LAMBDAGRAPH_WORKER_FUNCTION``), else on ``worker_invoker(handler)`` running the
    worker in this process, else with no worker (resumable streams and joins work,
    background runs do not; deleted threads are erased in this process)."""
    box: list[DurableRuns] = []

    async def worker(event: dict[str, Any], context: Any) -> str:
        return await handle_worker_event(box[0], event, context)

    invoker: Invoker | None = None
    if core.settings.worker_function:
        invoker = _lambda_invoker(core.settings)
    elif worker_invoker is not None:
        invoker = worker_invoker(worker)
    # One eraser: the app's deletes dispatch through it, an in-process worker handles with it.
    eraser = core.eraser(executor.checkpointer, invoker)
    box.append(core.durable(executor, invoker, worker_sinks, eraser))
    return box[0], eraser


def build_http_app(
    settings: Settings,
    *,
    authenticator: Authenticator | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    worker_invoker: InvokerFactory | None = None,
    core: Core | None = None,
    worker_sinks: WorkerSinks | None = None,
) -> FastAPI:
    """The HTTP API (the ``stream`` and ``api`` functions, the local stack).

    Args:
        settings: the configuration.
        authenticator: overrides the one ``LAMBDAGRAPH_AUTH_MODE`` names (tests).
        checkpointer: overrides the DynamoDB saver on the checkpoints table.
        worker_invoker: runs the worker in this process when no
            ``LAMBDAGRAPH_WORKER_FUNCTION`` is set (the local stack).
        core: shared store and graphs (the local stack shares them with its ``ws`` API).
        worker_sinks: more sinks for runs this process executes (the WebSocket fan-out).
    """
    from lambdagraph.http.app import create_app  # lazy: the ws and worker functions serve no HTTP

    core = core or Core.from_settings(settings)
    executor = core.executor(checkpointer)
    durable, eraser = _durable_with_worker(core, executor, worker_invoker, worker_sinks)
    return create_app(
        store=core.store,
        runs=core.service(durable),
        graphs=core.graphs,
        authenticator=authenticator or authenticator_from_settings(settings),
        checkpointer=executor.checkpointer,
        settings=settings,
        eraser=eraser,
        authorizer=authorizer_from_settings(settings),
    )


def build_worker(
    settings: Settings,
    *,
    invoker: Invoker | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
) -> DurableRuns:
    """The worker function: durable runs whose WebSocket subscribers get their events, and
    the erasure of deleted threads.

    Reads ``LAMBDAGRAPH_WORKER_FUNCTION`` (continuations) unless an ``invoker`` is given.

    Raises:
        ConfigurationError: no invoker and no worker function name.
    """
    core = Core.from_settings(settings)
    executor = core.executor(checkpointer)
    invoker = invoker or _lambda_invoker(settings)
    return core.durable(
        executor,
        invoker,
        core.websocket_sinks(),
        core.eraser(executor.checkpointer, invoker),
    )


def build_ws_api(
    settings: Settings,
    *,
    core: Core | None = None,
    runs: RunService | None = None,
    client_factory: Callable[[str], ManagementClient] | None = None,
) -> WebSocketApi:
    """The ``ws`` function's API: records runs and hands them to the worker.

    Builds no executor and no saver at cold start: this process never executes a run; the
    in-band ``state.get`` / ``state.listCheckpoints`` commands build a saver on first use.

    Args:
        settings: the configuration (``LAMBDAGRAPH_WORKER_FUNCTION`` unless ``runs``).
        core: shared store and graphs (the local stack's).
        runs: the run service to use (the local stack shares its HTTP app's).
        client_factory: builds a management API client for an endpoint URL (default:
            :func:`lambdagraph.ws.sender.management_client`).

    Raises:
        ConfigurationError: no ``runs`` and no worker function is configured.
    """
    from lambdagraph.ws.api import WebSocketApi  # lazy: only the ws function and the local stack
    from lambdagraph.ws.sender import management_client

    core = core or Core.from_settings(settings)
    if runs is None:
        runs = core.service(core.durable(None, _lambda_invoker(settings)))
    return WebSocketApi(
        runs=runs,
        streams=thread_streams(runs, core.graphs, lambda: default_checkpointer(settings)),
        connections=core.connections(),
        settings=settings,
        client_factory=client_factory or management_client,
        authorizer=authorizer_from_settings(settings),
        # IAM auth on $connect runs no authorizer function: the ws function reads the caller.
        connect_authenticator=(
            authenticator_from_settings(settings) if settings.auth_mode == "iam" else None
        ),
    )


def thread_streams(
    runs: RunService, graphs: GraphRegistry, saver: Callable[[], BaseCheckpointSaver[Any]]
) -> ThreadStreams:
    """The Agent Streaming Protocol's service for the ``ws`` function's in-band commands.

    A WebSocket subscription never follows the log in the route handler (the worker posts
    live frames), so the idle end of :meth:`ThreadStreams.events` does not apply here.
    """
    return ThreadStreams(runs, graphs, handlers=COMMANDS, checkpointer_factory=saver)


@dataclass(frozen=True)
class LocalApps:
    """The local stack's two faces over one store, one run service and one worker."""

    http: FastAPI
    ws: WebSocketApi


def build_local(
    settings: Settings,
    *,
    worker_invoker: InvokerFactory,
    authenticator: Authenticator | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
) -> LocalApps:
    """The local stack: the HTTP app and the ``ws`` API, wired like the deployed functions.

    Raises:
        ConfigurationError: ``settings.ws_endpoint`` is not set (the worker posts there).
    """
    if not settings.ws_endpoint:
        raise ConfigurationError("The local WebSocket API needs ws_endpoint")
    core = Core.from_settings(settings)
    app = build_http_app(
        settings,
        authenticator=authenticator,
        checkpointer=checkpointer,
        worker_invoker=worker_invoker,
        core=core,
        worker_sinks=core.websocket_sinks(),
    )
    runs: RunService = app.state.context.runs
    return LocalApps(app, build_ws_api(settings, core=core, runs=runs))


__all__ = [
    "Core",
    "LocalApps",
    "build_http_app",
    "build_local",
    "build_worker",
    "build_ws_api",
    "default_checkpointer",
]
