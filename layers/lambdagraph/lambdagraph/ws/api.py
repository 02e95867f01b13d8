"""The ``ws`` function's logic: one object holding the collaborators, one ``handle`` per event.

``functions/ws/app.py`` builds a :class:`WebSocketApi` at cold start and calls
:meth:`WebSocketApi.handle` per event; the local gateway emulator calls the same method with
events of the same shape, so only the management endpoint differs between the two.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from botocore.exceptions import ClientError

from lambdagraph.engine.assistants import resolve_graph
from lambdagraph.errors import ConfigurationError
from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event
from lambdagraph.settings import Settings
from lambdagraph.store import schema
from lambdagraph.store.app import AppStore
from lambdagraph.store.connections import ConnectionStore, RunRef
from lambdagraph.store.dynamo import error_code
from lambdagraph.store.events import EventLog
from lambdagraph.store.records import Run, RunKwargs
from lambdagraph.ws.actions import RunAction
from lambdagraph.ws.routes import ROUTES, Request, unknown_route
from lambdagraph.ws.sender import ConnectionSender, ManagementClient, management_client

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from lambdagraph.engine.executor import GraphRegistry

logger = logging.getLogger(__name__)

_REPLAY_POLL = 0.1


class _RouteDeadline:
    """A stand-in Lambda context: API Gateway gives a route at most 29 seconds."""

    def __init__(self, seconds: float = 29.0) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class RunStarter(Protocol):
    """Hands a recorded run to a worker invocation (``DurableRuns`` fits)."""

    async def start_background(self, run: Run) -> None:
        """Start the worker for ``run`` without waiting for it."""
        ...


@dataclass(frozen=True)
class Accepted:
    """A recorded ``run``: ``run`` is set only when this request created it."""

    run_id: str
    thread_id: str
    run: Run | None


class WebSocketApi:
    """Handles API Gateway WebSocket events for lambdagraph.

    Args:
        store: threads and runs.
        connections: connection, run index and subscriber items.
        starter: invokes the worker for a new run.
        log: the event log (replaying finished runs to late subscribers).
        graphs: validates ``assistant_id`` before a run is recorded.
        settings: table name, batching window and size, idempotency lifetime, endpoint.
        client_factory: builds a management API client for an endpoint URL.

    Example:
        >>> api = WebSocketApi.from_settings(Settings.from_env(), starter=durable)
        >>> await api.handle(event, context)
        {'statusCode': 200}
    """

    def __init__(
        self,
        *,
        store: AppStore,
        connections: ConnectionStore,
        starter: RunStarter,
        log: EventLog,
        graphs: GraphRegistry,
        settings: Settings,
        client_factory: Callable[[str], ManagementClient] = management_client,
    ) -> None:
        self.store = store
        self.connections = connections
        self.starter = starter
        self.log = log
        self.graphs = graphs
        self.settings = settings
        self.client_factory = client_factory
        self.cancel_wait_seconds = 10.0
        self._clients: dict[str, ManagementClient] = {}
        persistence = DynamoDBPersistenceLayer(
            settings.app_table,
            key_attr="PK",
            sort_key_attr="SK",
            static_pk_value=schema.IDEMPOTENCY_PK,
            expiry_attr=schema.TTL_ATTRIBUTE,
            boto3_client=store.client,
        )
        self._idempotency = config = IdempotencyConfig(
            event_key_jmespath="[user_id, request_id]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=settings.ws_idempotency_seconds,
        )
        self._bridge = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ws-idempotency")
        self._record_once = idempotent_function(
            data_keyword_argument="request", persistence_store=persistence, config=config
        )(self._record_in_loop)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        starter: RunStarter,
        graphs: GraphRegistry | None = None,
        store: AppStore | None = None,
    ) -> WebSocketApi:
        """An API over ``settings.app_table`` with default clients."""
        from lambdagraph.agents import GraphRegistry as Registry  # lazy: cold start

        store = store or AppStore.from_settings(settings)
        return cls(
            store=store,
            connections=ConnectionStore(
                settings.app_table,
                client=store.client,
                index_ttl_seconds=settings.event_log_ttl_seconds,
            ),
            starter=starter,
            log=EventLog(settings.app_table, client=store.client),
            graphs=graphs or Registry.from_settings(settings),
            settings=settings,
        )

    async def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Handle one WebSocket event; returns the integration response for API Gateway."""
        # In-progress idempotency records expire with the invocation's deadline.
        deadline = cast("LambdaContext", context or _RouteDeadline())  # duck-typed locally
        self._idempotency.register_lambda_context(deadline)
        view = APIGatewayWebSocketEvent(event)
        authorizer = view.request_context.get("authorizer") or {}
        user_id = authorizer.get("user_id") or authorizer.get("principalId")
        request = Request(view, view.request_context.connection_id, user_id)
        route = ROUTES.get(view.request_context.route_key, unknown_route)
        try:
            return await route(self, request)
        except Exception:
            logger.exception("WebSocket route %s failed", view.request_context.route_key)
            return {"statusCode": 500}

    async def reply(self, request: Request, message: Any) -> None:
        """Post one message to the requesting connection (a client that left is ignored)."""
        client = self.client_for(request)
        try:
            await asyncio.to_thread(
                client.post_to_connection,
                ConnectionId=request.connection_id,
                Data=ws.encode(message),
            )
        except ClientError as exc:
            if error_code(exc) != "GoneException":
                raise
            logger.info(
                "reply to a gone connection dropped", extra={"connection_id": request.connection_id}
            )

    def client_for(self, request: Request) -> ManagementClient:
        """The management client of the request's stage (or of ``LAMBDAGRAPH_WS_ENDPOINT``)."""
        endpoint = self.settings.ws_endpoint or request.endpoint
        if endpoint not in self._clients:
            self._clients[endpoint] = self.client_factory(endpoint)
        return self._clients[endpoint]

    async def record_run(self, user_id: str, connection_id: str, action: RunAction) -> Accepted:
        """Record a ``run`` once per ``(user, request_id)`` (Powertools idempotency).

        A repeat returns the first request's ids and ``run=None``: nothing new starts.
        """
        graph_id = resolve_graph(self.graphs, action.assistant_id)
        outcome: dict[str, Run] = {}
        payload = {
            "user_id": user_id,
            "request_id": action.request_id,
            "connection_id": connection_id,
            "graph_id": graph_id,
            "action": action.model_dump(mode="json"),
        }
        loop = asyncio.get_running_loop()
        # Powertools idempotency is synchronous: run it in a thread, the store calls on our loop.
        # The thread waits on coroutines that use the default pool, so it must not be one of
        # that pool's threads (concurrent runs on the local stack would starve it).
        record = functools.partial(self._record_once, request=payload, loop=loop, outcome=outcome)
        ids = await loop.run_in_executor(self._bridge, record)
        return Accepted(ids["run_id"], ids["thread_id"], outcome.get("run"))

    def _record_in_loop(
        self, request: dict[str, Any], loop: asyncio.AbstractEventLoop, outcome: dict[str, Run]
    ) -> dict[str, str]:
        future = asyncio.run_coroutine_threadsafe(self._record(request, outcome), loop)
        return future.result()

    async def _record(self, request: dict[str, Any], outcome: dict[str, Run]) -> dict[str, str]:
        action = RunAction.model_validate(request["action"])
        user_id = request["user_id"]
        kwargs: RunKwargs = {"input": action.input, "stream_mode": action.stream_modes()}
        for name in ("command", "config", "context", "timeout_seconds"):
            if getattr(action, name) is not None:
                kwargs[name] = getattr(action, name)
        run = await self.store.create_run(
            user_id,
            thread_id=action.thread_id or str(uuid.uuid4()),
            assistant_id=request["graph_id"],
            kwargs=kwargs,
            multitask_strategy=action.multitask_strategy,
            if_not_exists="reject" if action.thread_id else "create",
            metadata={"transport": "websocket"},
        )
        ref = RunRef(run["run_id"], user_id, run["thread_id"])
        await self.connections.put_run(ref)
        await self.connections.subscribe(ref, request["connection_id"], -1)
        outcome["run"] = run
        return {"run_id": run["run_id"], "thread_id": run["thread_id"]}

    async def replay_finished(self, request: Request, ref: RunRef, after: int) -> None:
        """Send a finished run's logged events after ``after``, then ``run.ended``."""
        run = await self.store.get_run(ref.owner, ref.thread_id, ref.run_id)
        events = await self._read_complete_log(ref.run_id, after)
        sender = ConnectionSender(
            request.connection_id,
            self.client_for(request),
            run_id=ref.run_id,
            thread_id=ref.thread_id,
            window=3600.0,  # everything is here already: close() flushes in full batches
            batch_bytes=self.settings.ws_batch_bytes,
        )
        sender.add(events)
        sender.post(ws.run_ended(ref.run_id, run["status"]))
        await sender.close()

    async def _read_complete_log(self, run_id: str, after: int) -> list[Event]:
        """The log after ``after``; waits briefly for a just-finished run's last batches."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while True:
            read = await self.log.read_after(run_id, after)
            if read.ended or (read.end_seq is None and not read.gap and loop.time() >= deadline):
                return read.events
            if loop.time() >= deadline:
                logger.warning("event log of run %s incomplete; replaying what is there", run_id)
                return (await self.log.read_after(run_id, after, skip_gaps=True)).events
            await asyncio.sleep(_REPLAY_POLL)


def build_ws_api(settings: Settings) -> WebSocketApi:
    """The deployed ``ws`` function's API: worker runs started through ``LambdaInvoker``.

    Reads ``LAMBDAGRAPH_WORKER_FUNCTION`` (via ``settings``).

    Raises:
        ConfigurationError: no worker function is configured.
    """
    from lambdagraph.agents import GraphRegistry as Registry  # lazy: cold start
    from lambdagraph.engine.executor import RunExecutor
    from lambdagraph.engine.invoker import LambdaInvoker
    from lambdagraph.engine.worker import durable_runs
    from lambdagraph.store.checkpoint import AsyncDynamoDBSaver

    if not settings.worker_function:
        raise ConfigurationError("LAMBDAGRAPH_WORKER_FUNCTION is not set")
    store = AppStore.from_settings(settings)
    graphs = Registry.from_settings(settings)
    # The ws function never executes a run; DurableRuns needs an executor only to exist.
    executor = RunExecutor(store, graphs, AsyncDynamoDBSaver.from_settings(settings))
    starter = durable_runs(
        settings, store=store, executor=executor, invoker=LambdaInvoker(settings.worker_function)
    )
    return WebSocketApi.from_settings(settings, starter=starter, graphs=graphs, store=store)
