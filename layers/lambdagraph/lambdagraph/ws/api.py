"""The ``ws`` function's logic: one object holding the collaborators, one ``handle`` per event.

``functions/ws/app.py`` builds a :class:`WebSocketApi` at cold start (``lambdagraph.wiring``)
and calls :meth:`WebSocketApi.handle` per event; the local gateway emulator calls the same
method with events of the same shape, so only the management endpoint differs between the
two. Run work goes through the run service; what is the WebSocket's own lives here: the
``request_id`` dedup, the connections and run subscribers, posting to connections.
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
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from botocore.exceptions import ClientError

from lambdagraph.auth import Authenticator, AuthRequest, Identity
from lambdagraph.auth.policy import AllowAll, Authorizer
from lambdagraph.engine import RunService, ThreadStreams
from lambdagraph.errors import Unauthorized
from lambdagraph.protocol import ws
from lambdagraph.settings import Settings
from lambdagraph.store import schema
from lambdagraph.store.connections import ConnectionStore, RunRef
from lambdagraph.store.dynamo import error_code
from lambdagraph.store.records import Run
from lambdagraph.ws.actions import RunAction
from lambdagraph.ws.routes import ROUTES, Request, unknown_route
from lambdagraph.ws.sender import ConnectionSender, ManagementClient, management_client

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = logging.getLogger(__name__)


class _RouteDeadline:
    """A stand-in Lambda context: API Gateway gives a route at most 29 seconds."""

    def __init__(self, seconds: float = 29.0) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Accepted:
    """A recorded ``run``: ``run`` is set only when this request created it."""

    run_id: str
    thread_id: str
    run: Run | None


class WebSocketApi:
    """Handles API Gateway WebSocket events for lambdagraph.

    Args:
        runs: the run service (create, hand to the worker, cancel, read, replay).
        connections: connection, run index and subscriber items.
        settings: table name, batching size, idempotency lifetime, endpoint.
        client_factory: builds a management API client for an endpoint URL.
        authorizer: judges each action (default: everything the caller owns is allowed).
        connect_authenticator: judges ``$connect`` events that no authorizer function
            vouched for (IAM auth on ``$connect``: the caller is in the request context);
            later events of such a connection are the user recorded with it.
        streams: the Agent Streaming Protocol's service (frames with ``method``); without
            it such frames are answered ``not_supported``.

    Example:
        >>> api = build_ws_api(Settings.from_env())   # lambdagraph.wiring
        >>> await api.handle(event, context)
        {'statusCode': 200}
    """

    def __init__(
        self,
        *,
        runs: RunService,
        connections: ConnectionStore,
        settings: Settings,
        client_factory: Callable[[str], ManagementClient] = management_client,
        authorizer: Authorizer | None = None,
        connect_authenticator: Authenticator | None = None,
        streams: ThreadStreams | None = None,
    ) -> None:
        self.runs = runs
        self.streams = streams
        self.authorizer = authorizer or AllowAll()
        self.connect_authenticator = connect_authenticator
        self.connections = connections
        self.settings = settings
        self.client_factory = client_factory
        self._clients: dict[str, ManagementClient] = {}
        persistence = DynamoDBPersistenceLayer(
            settings.app_table,
            key_attr="PK",
            sort_key_attr="SK",
            static_pk_value=schema.IDEMPOTENCY_PK,
            expiry_attr=schema.TTL_ATTRIBUTE,
            boto3_client=runs.store.client,
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

    async def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Handle one WebSocket event; returns the integration response for API Gateway."""
        # In-progress idempotency records expire with the invocation's deadline.
        deadline = cast("LambdaContext", context or _RouteDeadline())  # duck-typed locally
        self._idempotency.register_lambda_context(deadline)
        view = APIGatewayWebSocketEvent(event)
        route = ROUTES.get(view.request_context.route_key, unknown_route)
        try:
            identity = await self.identity_of(view)
            request = Request(view, view.request_context.connection_id, identity)
            return await route(self, request)
        except Exception:
            logger.exception("WebSocket route %s failed", view.request_context.route_key)
            return {"statusCode": 500}

    async def identity_of(self, view: APIGatewayWebSocketEvent) -> Identity | None:
        """Who sent an event: the authorizer's context, else (IAM auth on ``$connect``) the
        caller in ``$connect``'s request context, or the user recorded with the connection.

        API Gateway checks IAM auth on ``$connect`` only, and without an authorizer
        function there is no authorizer context for later events to carry, so each of them
        costs one consistent read of the connection item (IAM mode only).
        """
        context = view.request_context
        identity = Identity.from_context(context.get("authorizer") or {})
        if identity is not None or self.connect_authenticator is None:
            return identity
        if context.route_key == "$connect":
            request = AuthRequest(
                headers={k.lower(): v for k, v in (view.headers or {}).items()},
                query=view.query_string_parameters or {},
                request_context=event_context(view),
            )
            try:
                return await self.connect_authenticator.authenticate(request)
            except Unauthorized:
                return None
        if context.route_key == "$disconnect":
            return None  # forgetting a connection needs no user
        owner = await self.connections.get_connection_owner(context.connection_id)
        return Identity(owner) if owner else None

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
        outcome: dict[str, Run] = {}
        payload = {
            "user_id": user_id,
            "request_id": action.request_id,
            "connection_id": connection_id,
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
        # No thread_id: a new thread (it stays, unlike an HTTP stateless run's).
        run = await self.runs.create(
            user_id,
            action,
            thread_id=action.thread_id or str(uuid.uuid4()),
            new_thread=action.thread_id is None,
            metadata={"transport": "websocket"},
        )
        ref = RunRef(run["run_id"], user_id, run["thread_id"])
        await self.connections.put_run(ref)
        await self.connections.subscribe(ref, request["connection_id"], -1)
        outcome["run"] = run
        return {"run_id": run["run_id"], "thread_id": run["thread_id"]}

    async def replay_finished(self, request: Request, run: Run, after: int) -> None:
        """Send a finished run's logged events after ``after``, then ``run.ended``."""
        events = await self.runs.replay(run["run_id"], after)
        sender = ConnectionSender(
            request.connection_id,
            self.client_for(request),
            run_id=run["run_id"],
            thread_id=run["thread_id"],
            window=3600.0,  # everything is here already: close() flushes in full batches
            batch_bytes=self.settings.ws_batch_bytes,
        )
        sender.add(events)
        sender.post(ws.run_ended(run["run_id"], run["status"], run.get("usage")))
        await sender.close()


def event_context(view: APIGatewayWebSocketEvent) -> dict[str, Any]:
    """The event's raw ``requestContext``."""
    context: dict[str, Any] = view.raw_event.get("requestContext") or {}
    return context
