"""The WebSocket routes: ``$connect``, ``$disconnect``, ``$default`` and the four actions.

:data:`ROUTES` maps API Gateway's ``routeKey`` to a handler; :meth:`WebSocketApi.handle`
dispatches through it. Action handlers answer by posting to the connection (API Gateway
forwards nothing a handler returns unless a route response is configured); a failing action
answers an ``error`` message and the connection stays open. Nothing here ever posts from
``$connect``: API Gateway reports a connection gone until ``$connect`` has returned.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from lambdagraph.auth import Identity
from lambdagraph.auth.guard import Guard
from lambdagraph.auth.policy import Authorizer
from lambdagraph.engine import RunService, parse_uuid
from lambdagraph.errors import RunNotFound
from lambdagraph.protocol import ws
from lambdagraph.store.connections import ConnectionStore, RunRef
from lambdagraph.store.events import parse_event_id
from lambdagraph.store.records import ACTIVE_RUN_STATUSES, Run
from lambdagraph.ws import agent
from lambdagraph.ws.actions import (
    Action,
    CancelAction,
    PingAction,
    RunAction,
    SubscribeAction,
    parse_action,
    parse_body,
    request_id_of,
)
from lambdagraph.ws.errors import ActionError, error_message

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent

logger = logging.getLogger(__name__)

OK: Final = {"statusCode": 200}


@dataclass(frozen=True)
class Request:
    """One API Gateway WebSocket event, with what every route needs from it."""

    event: APIGatewayWebSocketEvent
    connection_id: str
    identity: Identity | None
    """Who the authorizer (or IAM auth on ``$connect``) vouched for; None: nobody."""

    @property
    def user_id(self) -> str | None:
        """The caller's user id, if the connection has an identity."""
        return self.identity.user_id if self.identity else None

    @property
    def endpoint(self) -> str:
        """The management API endpoint of the stage this event came through."""
        context = self.event.request_context
        return f"https://{context.domain_name}/{context.stage}"


class Host(agent.AgentHost, Protocol):
    """What the routes need of the API object (``WebSocketApi`` fits)."""

    runs: RunService
    connections: ConnectionStore
    authorizer: Authorizer

    async def reply(self, request: Request, message: Any) -> None:
        """Post one message to the requesting connection."""
        ...

    async def record_run(self, user_id: str, connection_id: str, action: RunAction) -> Any:
        """Record a ``run`` once per ``request_id``: ``run_id``, ``thread_id``, ``run``."""
        ...

    async def replay_finished(self, request: Request, run: Run, after: int) -> None:
        """Send a finished run's logged events after ``after``, then ``run.ended``."""
        ...


Route = Callable[[Host, Request], Awaitable[dict[str, Any]]]


async def connect(api: Host, request: Request) -> dict[str, Any]:
    """``$connect``: record the connection of the user the authorizer vouched for.

    ``?thread_id=<uuid>`` binds the thread the connection's protocol frames address (the
    Agent Streaming Protocol's clients name it in the URL's path, which API Gateway has
    not); anything but a UUID refuses the handshake with 400, the only answer possible here.
    """
    if not request.user_id:
        logger.warning("connect without an authorizer user id; refusing")
        return {"statusCode": 401}
    thread_id = (request.event.query_string_parameters or {}).get("thread_id")
    if thread_id is not None:
        try:
            thread_id = parse_uuid(thread_id, "thread_id")
        except ValueError:
            return {"statusCode": 400}
    await api.connections.put_connection(request.connection_id, request.user_id, thread_id)
    return OK


async def disconnect(api: Host, request: Request) -> dict[str, Any]:
    """``$disconnect`` (best effort): forget the connection; runs drop it on their next post."""
    await api.connections.delete_connection(request.connection_id)
    return OK


async def default(api: Host, request: Request) -> dict[str, Any]:
    """``$default`` and every action route: parse the frame and run its action."""
    request_id = None
    try:
        data = parse_body(frame_body(request.event))
        if agent.is_protocol_frame(data):
            await agent.handle_frame(api, request, data)
            return OK
        request_id = request_id_of(data)
        action = parse_action(data)
        if not request.user_id:
            raise ActionError("unauthorized", "This connection has no authenticated user")
        if not isinstance(action, RunAction):  # a run counts in the write that records it
            await api.runs.store.limits.count_request(request.user_id)
        await ACTIONS[type(action)](api, request, action)
    except ActionError as exc:
        if exc.code == "bad_json" and await _speaks_protocol(api, request):
            await agent.post(api, request, agent.bad_frame(exc.message))
        else:
            await api.reply(request, error_message(exc, request_id=request_id))
    except Exception as exc:  # noqa: BLE001 - every failure becomes an error frame
        await api.reply(request, error_message(exc, request_id=request_id))
    return OK


async def _speaks_protocol(api: Host, request: Request) -> bool:
    """Whether the connection was bound to a thread at ``$connect`` (a protocol client)."""
    connection = await api.connections.get_connection(request.connection_id)
    return connection is not None and connection.thread_id is not None


def frame_body(event: APIGatewayWebSocketEvent) -> str | bytes | None:
    """The frame as sent: text, or the bytes of a binary frame (base64 in the event).

    Powertools' ``decoded_body`` decodes those bytes as UTF-8 and raises on anything else;
    here they reach the JSON decoder, which answers ``bad_json``.
    """
    if event.is_base64_encoded and event.body is not None:
        try:
            return base64.b64decode(event.body)
        except ValueError:
            return event.body.encode()
    return event.body


async def unknown_route(api: Host, request: Request) -> dict[str, Any]:
    """A route key this function does not know: say so on the connection."""
    route = request.event.request_context.route_key
    await api.reply(request, ws.error("unknown_route", f"No handler for route {route!r}"))
    return OK


async def run(api: Host, request: Request, action: Action) -> None:
    """``run``: record the run (once per ``request_id``), answer, then hand it to a worker."""
    assert isinstance(action, RunAction) and request.identity
    metadata = await _guard(api, request.identity).create_run(
        thread_id=action.thread_id,
        assistant_id=action.assistant_id,
        metadata=action.metadata,
        multitask_strategy=action.multitask_strategy or "enqueue",
        if_not_exists="create" if action.thread_id is None else action.if_not_exists or "reject",
        kwargs=dict(action.to_kwargs()),
        temporary=False,
    )
    if metadata != (action.metadata or {}):
        action = action.model_copy(update={"metadata": metadata})
    accepted = await api.record_run(request.identity.user_id, request.connection_id, action)
    await api.reply(
        request, ws.run_accepted(action.request_id, accepted.run_id, accepted.thread_id)
    )
    if accepted.run is not None:  # a repeated request_id started nothing new
        await api.runs.hand_to_worker(accepted.run)


async def cancel(api: Host, request: Request, action: Action) -> None:
    """``cancel``: flag the run; its worker ends it and sends ``run.ended`` to subscribers.

    A connection that does not follow the run gets ``run.ended`` here, once it stopped.
    """
    assert isinstance(action, CancelAction) and request.identity
    ref = await _owned_run(api, request.identity.user_id, action.run_id, action.thread_id)
    await _guard(api, request.identity).cancel_run(ref.thread_id, ref.run_id)
    run = await api.runs.cancel(ref.owner, ref.thread_id, ref.run_id)
    prefix = f"{request.connection_id}#"
    if run["status"] not in ACTIVE_RUN_STATUSES:
        await api.reply(request, ws.run_ended(ref.run_id, run["status"], run.get("usage")))
    elif not any(entry.startswith(prefix) for entry in run.get("subscribers") or ()):
        final = await api.runs.settle(run)
        await api.reply(request, ws.run_ended(ref.run_id, final["status"], final.get("usage")))


async def subscribe(api: Host, request: Request, action: Action) -> None:
    """``subscribe``: every event after ``after``, then live ones, then ``run.ended``.

    A run whose process died is recovered first: the subscriber gets its ``error`` event
    and ``run.ended`` with status ``error``.
    """
    assert isinstance(action, SubscribeAction) and request.identity
    ref = await _owned_run(api, request.identity.user_id, action.run_id, action.thread_id)
    await _guard(api, request.identity).read_run(ref.thread_id)
    after = -1 if action.after is None else parse_event_id(str(action.after))
    run = await api.runs.get(ref.owner, ref.thread_id, ref.run_id)
    if run["status"] in ACTIVE_RUN_STATUSES:
        if await api.connections.subscribe(ref, request.connection_id, after):
            return  # the run's executor picks the subscriber up within one poll interval
        run = await api.runs.get(ref.owner, ref.thread_id, ref.run_id)  # it just ended
    await api.replay_finished(request, run, after)


async def ping(api: Host, request: Request, action: Action) -> None:
    """``ping``: ``pong``."""
    assert isinstance(action, PingAction)
    await api.reply(request, ws.pong())


def _guard(api: Host, identity: Identity) -> Guard:
    return Guard(api.authorizer, api.runs.store, identity)


async def _owned_run(api: Host, user_id: str, run_id: str, thread_id: str | None) -> RunRef:
    """Where the caller's run lives: from the frame's ``thread_id`` (any run), else from
    the run index (runs started over the WebSocket)."""
    if thread_id is not None:
        run = await api.runs.get(user_id, thread_id, run_id)  # RunNotFound for a foreign one
        return RunRef(run["run_id"], run["owner"], run["thread_id"])
    ref = await api.connections.get_run(run_id)
    if ref is None or ref.owner != user_id:
        raise RunNotFound(run_id)
    return ref


ACTIONS: Final[Mapping[type, Callable[[Host, Request, Action], Awaitable[None]]]] = {
    RunAction: run,
    CancelAction: cancel,
    SubscribeAction: subscribe,
    PingAction: ping,
}

ROUTES: Final[Mapping[str, Route]] = {
    "$connect": connect,
    "$disconnect": disconnect,
    "$default": default,
    "run": default,
    "cancel": default,
    "subscribe": default,
    "ping": default,
}
"""``routeKey`` → handler. Action routes parse the frame like ``$default`` does."""

__all__ = ["ROUTES", "Host", "Request"]
